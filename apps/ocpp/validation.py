"""Schema validation of the frames stations send and of our answers, compiled.

The ``ocpp`` library validates with ``jsonschema`` (an interpreter walking the schema for every
message, run on a thread of the default executor).  That was a fifth of the OCPP server's
event-loop time under load.  Here the same schema files, shipped inside the ``ocpp`` package,
are compiled once per (version, action, direction) into plain Python functions by
``fastjsonschema``.  The rules are the library's: Draft 4 semantics (the library reads every
schema with ``Draft4Validator``), formats not enforced (``jsonschema`` only checks them when
asked, and the library does not ask), and each failed keyword maps to the CallError the
library would send.

``check_values`` then refuses what a schema allows but the CSMS cannot hold, before any
database work, with the CallError OCPP-J names (1.6 §4.2.3, 2.0.1 Part 4 §4.2.3):

- text with a NUL character or a lone UTF-16 surrogate (``"\\ud800"`` in the frame), in any
  value or key: PropertyConstraintViolation ("a field contains an invalid value"); PostgreSQL
  text and jsonb cannot hold either;
- an integer outside 32 bits (OCPP's integer: 2.0.1 Part 2, primitive datatypes; 1.6 SOAP
  ``xs:int``), or a number that overflows a double (``1e400``): TypeConstraintViolation.
  Meter registers in Wh (1.6 ``meterStart``/``meterStop``) may use 64 bits: real meters pass
  2^31 Wh (2.1 GWh) in a fast charger's life, and the columns are bigint;
- a negative connector or EVSE id (``connectorId``, ``evseId``, ``evse.id``; the spec says
  ≥ 0): PropertyConstraintViolation;
- nesting deeper than ``MAX_DEPTH``: FormatViolation.

These checks run for lax stations too: they protect the database, not the spec.  (A sampled
meter value no meter can produce is refused the same way when it is parsed: samples.py.)
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplementedError,
)

_SCHEMAS = Path(ocpp.__file__).resolve().parent
_DRAFT4 = "http://json-schema.org/draft-04/schema#"

REQUEST, RESPONSE = "request", "response"


def _schema_path(version: str, action: str, direction: str) -> Path:
    folder = _SCHEMAS / ("v" + version.replace(".", "")) / "schemas"
    if direction == RESPONSE:
        return folder / f"{action}Response.json"
    return folder / (f"{action}Request.json" if version != "1.6" else f"{action}.json")


@functools.cache
def validator(version: str, action: str, direction: str):
    """The compiled validator of one message (cached for the life of the process)."""
    path = _schema_path(version, action, direction)
    try:
        schema = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise OcppNotImplementedError(
            details={"cause": f"Failed to validate action: {action}"}
        ) from error
    schema["$schema"] = _DRAFT4  # 2.0.1 files say draft-06; the library reads them as Draft 4
    return fastjsonschema.compile(schema, use_formats=False)


def _error_for(error: fastjsonschema.JsonSchemaValueException) -> OCPPError:
    details: dict[str, Any] = {"cause": error.message}
    if error.rule in ("type", "maxLength"):
        return TypeConstraintViolationError(details=details)
    if error.rule == "required":
        return ProtocolError(details=details)
    return FormatViolationError(details=details)


def check(version: str, action: str, direction: str, payload: Any) -> None:
    """Raise the OCPPError the spec names when ``payload`` breaks the action's schema."""
    try:
        validator(version, action, direction)(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        raise _error_for(error) from None


# --- Values a schema allows but the CSMS cannot hold ----------------------------------------

INT32 = (-(2**31), 2**31)  # [low, high)
INT64 = (-(2**63), 2**63)
WIDE_INTEGERS = frozenset({"meterStart", "meterStop"})  # Wh registers, bigint columns
NON_NEGATIVE = frozenset({"connectorId", "evseId"})
MAX_DEPTH = 64


def check_values(payload: dict[str, Any]) -> None:
    """Raise the OCPPError the spec names for a value the database cannot hold (see the
    module's docstring); runs after the schema check, before the handler.  One walk over the
    payload with the cheapest test first (about what ``base.to_snake`` costs: ~10 µs for a
    four-sample MeterValues here); the error is worked out only when a value fails it."""
    _walk(payload, "payload", 0)


def _walk(container: dict | list, name: str, depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise FormatViolationError(details={"cause": f"Nested deeper than {MAX_DEPTH} levels"})
    if type(container) is dict:
        items = container.items()
        if "evse" in container:
            _check_evse(container["evse"])
    else:  # a list's items are checked under the list's name
        items = ((name, item) for item in container)
    for key, value in items:
        if type(key) is str and ("\x00" in key or not key.isascii()):
            _check_text(key, "a key")
        kind = type(value)
        if kind is str:
            if "\x00" in value or not value.isascii():
                _check_text(value, key)
        elif kind is int:
            if value < 0 or value >= INT32[1]:
                _check_integer(value, key)
        elif kind is dict or kind is list:
            _walk(value, key, depth + 1)
        elif kind is float and not math.isfinite(value):
            raise TypeConstraintViolationError(details={"cause": f"{key}: the number overflows"})


def _check_text(text: str, key: Any) -> None:
    if "\x00" in text:
        raise PropertyConstraintViolationError(details={"cause": f"{key} holds a NUL character"})
    try:
        text.encode()
    except UnicodeEncodeError:
        raise PropertyConstraintViolationError(
            details={"cause": f"{key} holds a lone UTF-16 surrogate"}
        ) from None


def _check_integer(value: int, key: Any) -> None:
    low, high = INT64 if key in WIDE_INTEGERS else INT32
    if not low <= value < high:
        raise TypeConstraintViolationError(
            details={"cause": f"{key}: {value} is outside the integer range"}
        )
    if value < 0 and key in NON_NEGATIVE:
        raise PropertyConstraintViolationError(details={"cause": f"{key} is negative"})


def _check_evse(evse: Any) -> None:
    if type(evse) is dict and type(evse.get("id")) is int and evse["id"] < 0:
        raise PropertyConstraintViolationError(details={"cause": "evse.id is negative"})
