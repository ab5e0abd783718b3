"""MeterValue structures of both versions → normalised domain samples."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError

from apps.charging.metering import Sample, SampleError, SampleRangeError, normalise

from .times import parse_time

logger = logging.getLogger(__name__)


def samples_from(meter_values: list[dict[str, Any]] | None, version: str) -> list[Sample]:
    """Parse snake_case meter values (as the ocpp library hands them to handlers).
    Values that are not numbers (signed data) are skipped, never guessed; a number no meter
    can produce refuses the whole message (PropertyConstraintViolation) before anything is
    stored."""
    samples: list[Sample] = []
    for meter_value in meter_values or []:
        timestamp = parse_time(meter_value.get("timestamp"))
        for sampled in meter_value.get("sampled_value") or []:
            if sampled.get("format") == "SignedData":
                continue
            measurand = sampled.get("measurand") or "Energy.Active.Import.Register"
            if version == "1.6":
                unit, multiplier = sampled.get("unit"), 0
            else:
                unit_of_measure = sampled.get("unit_of_measure") or {}
                unit, multiplier = (
                    unit_of_measure.get("unit"),
                    int(unit_of_measure.get("multiplier") or 0),
                )
            try:
                value, unit = normalise(
                    measurand=measurand,
                    raw_value=sampled.get("value"),
                    unit=unit,
                    multiplier=multiplier,
                )
            except SampleRangeError as error:
                raise PropertyConstraintViolationError(details={"cause": str(error)}) from None
            except SampleError as error:
                logger.warning("Skipping sample: %s", error)
                continue
            samples.append(
                Sample(
                    timestamp=timestamp,
                    measurand=measurand,
                    value=value,
                    unit=unit,
                    phase=sampled.get("phase") or "",
                    location=sampled.get("location") or "",
                    context=sampled.get("context") or "",
                )
            )
    return samples


@dataclass(frozen=True)
class SignedValue:
    """A signed meter reading as the station sent it, kept as it is (never verified or
    decoded here): the signature is for whoever bills the driver to check (OCPI CDR
    ``signed_data``).  ``plain`` is the reading's number when the station gave one with it."""

    timestamp: str
    context: str
    measurand: str
    signed_data: str
    encoding: str = ""
    signing_method: str = ""
    public_key: str = ""
    plain: str = ""


def signed_from(meter_values: list[dict[str, Any]] | None, version: str) -> list[SignedValue]:
    """The signed readings of snake_case meter values: 1.6 sampled values with ``format``
    SignedData (the value is the signed blob, OCMF or another format, named by its prefix),
    2.0.1 sampled values with a ``signed_meter_value``."""
    found: list[SignedValue] = []
    for meter_value in meter_values or []:
        timestamp = str(meter_value.get("timestamp") or "")
        sampled_values = meter_value.get("sampled_value") or []
        for sampled in sampled_values:
            measurand = sampled.get("measurand") or "Energy.Active.Import.Register"
            context = sampled.get("context") or ""
            if version == "1.6" and sampled.get("format") == "SignedData":
                blob = str(sampled.get("value") or "")
                plain = next(
                    (
                        str(other.get("value"))
                        for other in sampled_values
                        if other.get("format") != "SignedData"
                        and (other.get("measurand") or "Energy.Active.Import.Register") == measurand
                    ),
                    "",
                )
                encoding = blob.split("|", 1)[0] if "|" in blob[:16] else ""
                found.append(
                    SignedValue(timestamp, context, measurand, blob, encoding, plain=plain)
                )
            elif version != "1.6" and isinstance(sampled.get("signed_meter_value"), dict):
                signed = sampled["signed_meter_value"]
                found.append(
                    SignedValue(
                        timestamp,
                        context,
                        measurand,
                        str(signed.get("signed_meter_data") or ""),
                        str(signed.get("encoding_method") or ""),
                        str(signed.get("signing_method") or ""),
                        str(signed.get("public_key") or ""),
                        plain=str(sampled.get("value", "")),
                    )
                )
    return found
