"""OCPP-J framing rules that the `ocpp` library leaves to us.

The library drops frames it cannot parse without answering, and swaps NotImplemented and
NotSupported relative to the spec.  ``precheck`` runs first on every frame and returns the
CallError the spec names (or None when the frame may go to the library).

A CallResult or CallError is never answered, however malformed: OCPP-J sends a CallError only
in answer to a CALL (1.6 §4.2.3, 2.0.1 Part 4 §4.2.3), so a broken reply is logged and
ignored.  Text that is not JSON (RFC 8259: no ``NaN``/``Infinity``; nesting deeper than the
parser can follow) is refused as such rather than crashing the connection.  ``translate_error``
turns 2.0.1 error codes the library uses into their 1.6 spelling.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201

SUBPROTOCOLS = {"ocpp2.0.1": "2.0.1", "ocpp1.6": "1.6"}
PREFERENCE = ["ocpp2.0.1", "ocpp1.6"]

CALL, CALLRESULT, CALLERROR = 2, 3, 4

# 1.6 spells two codes differently (OCPP-J 1.6 §4.2.3).
_CODES_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    "RpcFrameworkError": "FormationViolation",
    "MessageTypeNotSupported": "FormationViolation",
}

_ACTIONS = {
    "1.6": {a.value for a in Action16},
    "2.0.1": {a.value for a in Action201},
}


# The head of a frame that can only be a CallResult/CallError (even when the rest is broken).
_LOOKS_LIKE_REPLY = re.compile(r"\s*\[\s*[34]\s*[,\]]")


def choose_subprotocol(offered: list[str]) -> str | None:
    for name in PREFERENCE:
        if name in offered:
            return name
    return None


def code_for(version: str, code: str) -> str:
    return _CODES_16.get(code, code) if version == "1.6" else code


def call_error(version: str, unique_id: str, code: str, description: str, details=None) -> str:
    return json.dumps(
        [CALLERROR, unique_id, code_for(version, code), description[:255], details or {}]
    )


def translate_error(version: str, frame: str) -> str:
    """Outgoing frames: respell CallError codes for 1.6 stations."""
    if version != "1.6" or not frame.startswith("[4"):
        return frame
    try:
        message = json.loads(frame)
    except ValueError:
        return frame
    if isinstance(message, list) and len(message) >= 3 and message[2] in _CODES_16:
        message[2] = _CODES_16[message[2]]
        return json.dumps(message)
    return frame


@dataclass
class Frame:
    message_type: int
    unique_id: str
    action: str = ""
    payload: Any = None


@dataclass
class Rejection:
    reply: str | None  # the CallError to send, or None to ignore silently (bad replies)
    reason: str


def precheck(text: str, version: str, max_bytes: int, handled: set[str]) -> Frame | Rejection:
    size = len(text.encode())
    if size > max_bytes:
        if _LOOKS_LIKE_REPLY.match(text):
            return Rejection(None, "oversized-reply")
        unique_id = _best_effort_id(text)
        return Rejection(
            call_error(
                version,
                unique_id,
                "FormatViolation",
                f"Frame of {size} bytes exceeds the limit of {max_bytes}",
            ),
            "oversized",
        )
    try:
        message = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        if _LOOKS_LIKE_REPLY.match(text):  # [3, ... / [4, ...: a reply, however broken
            return Rejection(None, "bad-reply")
        return Rejection(
            call_error(version, "-1", "RpcFrameworkError", "Frame is not valid JSON"), "json"
        )
    if isinstance(message, list) and message and message[0] in (CALLRESULT, CALLERROR):
        if not _well_formed_reply(message):
            return Rejection(None, "bad-reply")  # never answer a reply (OCPP-J §4.2.3)
        return Frame(message[0], message[1], payload=message[2])
    if not isinstance(message, list) or len(message) < 3:
        return Rejection(
            call_error(
                version,
                _id_of(message),
                "RpcFrameworkError",
                "Frame is not an OCPP-J array [type, id, ...]",
            ),
            "structure",
        )
    message_type, unique_id = message[0], message[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > 36:
        return Rejection(
            call_error(version, "-1", "RpcFrameworkError", "MessageId must be a string of 1-36"),
            "id",
        )
    if message_type != CALL or isinstance(message_type, bool):
        return Rejection(
            call_error(
                version,
                unique_id,
                "MessageTypeNotSupported",
                f"MessageTypeId {message_type!r} is not supported",
            ),
            "type",
        )
    if len(message) != 4 or not isinstance(message[2], str) or not isinstance(message[3], dict):
        return Rejection(
            call_error(
                version, unique_id, "FormatViolation", "A CALL is [2, id, action, {payload}]"
            ),
            "call-shape",
        )
    action = message[2]
    if action not in handled:
        if action in _ACTIONS.get(version, set()):
            return Rejection(
                call_error(
                    version,
                    unique_id,
                    "NotSupported",
                    f"{action} is not supported by this CSMS",
                ),
                "not-supported",
            )
        return Rejection(
            call_error(
                version,
                unique_id,
                "NotImplemented",
                f"{action} is not an OCPP {version} action",
            ),
            "not-implemented",
        )
    return Frame(CALL, unique_id, action, message[3])


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _well_formed_reply(message: list) -> bool:
    """``[3, id, {payload}]`` or ``[4, id, code, description(, {details})]``: what the
    library can unpack; anything else is ignored."""
    if isinstance(message[0], bool) or len(message) < 3:
        return False
    unique_id = message[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > 36:
        return False
    if message[0] == CALLRESULT:
        return len(message) == 3 and isinstance(message[2], dict)
    return (
        len(message) in (4, 5)
        and isinstance(message[2], str)
        and isinstance(message[3], str)
        and (len(message) == 4 or isinstance(message[4], dict))
    )


def _id_of(message: Any) -> str:
    if isinstance(message, list) and len(message) > 1 and isinstance(message[1], str):
        return message[1][:36] or "-1"
    return "-1"


def _best_effort_id(text: str) -> str:
    head = text[:80]
    try:
        start = head.index('"') + 1
        end = head.index('"', start)
        return head[start:end][:36] or "-1"
    except ValueError:
        return "-1"
