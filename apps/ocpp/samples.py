"""MeterValue structures of both versions → normalised domain samples."""

from __future__ import annotations

import logging
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
