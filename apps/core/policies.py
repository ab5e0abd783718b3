"""Decisions the core asks of feature apps at once (style guide, point 13).

The core owns the question and a safe default; feature apps register answers.  For example
the OCPP Authorize handler asks ``authorization`` whether a token may charge at an EVSE now;
the access-control app plugs in schedules and driver groups, the roaming app remote tokens.
A policy returns ``None`` to abstain; the first non-None answer wins, in registration order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Policy = Callable[..., Any]
_policies: dict[str, list[Policy]] = defaultdict(list)

AUTHORIZATION = (
    "authorization"  # (token_uid, token_type, station, evse_id) -> AuthorizationDecision
)
PRICE_INFO = "price_info"  # (station, evse_id, token_uid) -> str shown to the driver
# (station_id, evse_id) -> {"position", "label", ...} of the next driver waiting for this port
# (the waitlist answers; the valet board shows it), or None.
NEXT_WAITING = "next_waiting"


def register(question: str, policy: Policy) -> None:
    if policy not in _policies[question]:
        _policies[question].append(policy)


def unregister(question: str, policy: Policy) -> None:
    if policy in _policies[question]:
        _policies[question].remove(policy)


def ask(question: str, **kwargs: Any) -> Any:
    for policy in _policies[question]:
        answer = policy(**kwargs)
        if answer is not None:
            return answer
    return None
