"""Schema validation of the frames stations send and of our answers, compiled.

The ``ocpp`` library validates with ``jsonschema`` (an interpreter walking the schema for every
message, run on a thread of the default executor).  That was a fifth of the OCPP server's
event-loop time under load.  Here the same schema files, shipped inside the ``ocpp`` package,
are compiled once per (version, action, direction) into plain Python functions by
``fastjsonschema``.  The rules are the library's: Draft 4 semantics (the library reads every
schema with ``Draft4Validator``), formats not enforced (``jsonschema`` only checks them when
asked, and the library does not ask), and each failed keyword maps to the CallError the
library would send.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
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
