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
# (session_id) -> apps.ocpp.services.TransactionCost: a session that has just ended, priced
# as on its receipt (OCPP 2.0.1 TransactionEventResponse totalCost, I02/I03)
SESSION_COST = "session_cost"
# (session_id, needs / schedule) -> apps.ocpp.services.EvNeedsAnswer: what a 2.0.1 EV's
# charging needs (K15) and chosen schedule (K17) lead to; no answer: Rejected / Accepted
EV_CHARGING_NEEDS = "ev_charging_needs"
EV_CHARGING_SCHEDULE = "ev_charging_schedule"
# (session_id, country_code, party_id, cdr_token, cdr_location) -> the OCPI 2.2.1 CDR of a
# priced session (a dict), or None while it is not priced
OCPI_CDR = "ocpi_cdr"
# (station_id, evse_id) -> {"position", "label", ...} of the next driver waiting for this port
# (the waitlist answers; the valet board shows it), or None.
NEXT_WAITING = "next_waiting"
# roaming: (country_code, party_id, tariff_id=None) -> the OCPI 2.2.1 Tariff objects billing
# publishes (one per version in force now or later; that tariff's only with tariff_id): a list.
OCPI_TARIFFS = "ocpi_tariffs"
# roaming: (session_id) -> {"excl_vat": Decimal, "incl_vat": Decimal}: what a running session
# has cost so far, priced as its receipt will be; None when it cannot be priced
SESSION_RUNNING_COST = "session_running_cost"
# roaming: (session_id, max_current_a: Decimal | None) -> True once power management caps the
# running session's current at max_current_a (None lifts the cap); None: no one manages it
SESSION_CURRENT_CAP = "session_current_cap"
# roaming: (session_id) -> {"limit_a": Decimal, "max_current_a": Decimal | None}: the current
# power management allows the running session now, and its cap; None: no one manages it
SESSION_CURRENT = "session_current"

# --- drivers (issue 20): questions the public finder and driver accounts ask ---------------
# (station) -> {"summary": str, "currency": str, "components": [...]}: the price a driver
# without a card would pay here now, as billing describes it (billing answers)
DRIVER_PRICE = "driver_price"
# (station_ids or None: every station with a queue) -> {station_id: drivers waiting}: queue
# lengths (the waitlist answers)
QUEUE_LENGTHS = "queue_lengths"
# (station_id) -> the URL of the page where a driver joins the queue of this station, or None
# (the waitlist answers; its signed join page, where drivers also follow and leave the queue)
WAITLIST_JOIN_URL = "waitlist_join_url"
# (session_ids) -> {session_id: {"receipt_number", "total", "currency", "computed_at", ...}}:
# the receipts of finished sessions (billing answers)
SESSION_RECEIPTS = "session_receipts"
# Queues in a driver's account (the waitlist answers; the drivers app asks with the uids of
# the account's *verified* cards only, so the card is already proved and no tap is asked):
# (token_uids) -> [{"entry_id", "queue", "station_ids", "status", "status_label",
#   "position", "token_uid", "held_port"}] of the cards' current places
DRIVER_QUEUES = "driver_queues"
# (station_id, token_uid, email, language) -> {"entry_id", "position"} once the card waits in
# the station's queue, or {"error": str} when it may not; None: no queue here
DRIVER_QUEUE_JOIN = "driver_queue_join"
# (entry_id, token_uids) -> True once that place (one of these cards') is left; None: not found
DRIVER_QUEUE_LEAVE = "driver_queue_leave"

# --- fleet (issue 14) -----------------------------------------------------------------------
# (uid) -> ["fleet.vehicle:12", "fleet.fleet:3", "accounts.user:7", ...]: what else a token
# stands for, as driver-group member keys "<kind>:<id>"; access admits a token through the
# groups that list any of them (apps.access.models.AccessGroupMember).  The fleet app answers.
TOKEN_MEMBERSHIPS = "token_memberships"
# (keys: list of those member keys) -> {token_id: [keys it stands for]}: the other way round,
# for access's compiled local lists (every token a fleet / vehicle / person member stands for)
MEMBER_TOKENS = "member_tokens"


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


# --- Plug & Charge: ISO 15118 certificates through OCPP 2.0.1 (the pnc app answers) ---------
# (station_id, csr, certificate_type) -> apps.ocpp.services.CertificateAnswer (A02/A03); no
# answer: Rejected (the CSMS operates no CA)
CERTIFICATE_SIGN = "certificate_sign"
# (station_id, uid, token_type, certificate, hash_data) -> apps.ocpp.services.ContractAuthorization
# (C07: Authorize with a contract certificate or its iso15118CertificateHashData)
CONTRACT_AUTHORIZATION = "contract_authorization"
# (station_id, schema_version, action, exi_request, extra) -> {"status", "exi_response"} (M01/M02)
EV_CERTIFICATE = "ev_certificate"
# (station_id, ocsp_request) -> {"status", "ocsp_result"?} (M06); no answer: Failed
CERTIFICATE_STATUS = "certificate_status"
# reports (issue 16): (session_ids: list[int]) -> {session_id: {"id": ..., "label": str}}: the
# vehicle that charged in each session, for the by-vehicle breakdown (a fleet app answers; no
# answer: the report shows no vehicle breakdown)
SESSION_VEHICLES = "session_vehicles"

# --- waitlist and valet (issue 15) ------------------------------------------------------------
# (session_id) -> True when the session started on a port held for its driver (an OCPP
# reservation; the waitlist answers); billing then adds the tariff's reservation fee
SESSION_RESERVED = "session_reserved"
# (session_ids, at=None) -> {session_id: {"amount": Decimal, "currency", "price_per_hour",
# "grace_minutes", "billable_from", "next_step_at", "capped"}}: the idle fee a session has
# accrued by ``at`` (now), priced as its receipt will price it (billing answers; the valet
# board shows it)
SESSION_IDLE_FEES = "session_idle_fees"


# --- roaming (issue 17), further questions --------------------------------------------------
# (stations, at=None) -> {station_pk: ["<tariff>-<number>", ...]}: the OCPI Tariff ids that
# price a roaming driver at each station (its connectors' tariff_ids; billing answers)
OCPI_CONNECTOR_TARIFFS = "ocpi_connector_tariffs"
# (station, moment) -> {uid: {"status", "expiry", "group", "type"}}: tokens a feature adds to
# the station's OCPP local list (roaming: partners' tokens their whitelist lets us hold); the
# access app compiles the lists and merges every answer (``ask_all``), its own entries first
LOCAL_LIST_TOKENS = "local_list_tokens"


def ask_all(question: str, **kwargs: Any) -> list[Any]:
    """Every registered answer that is not None, in registration order (for questions whose
    answers add up rather than the first one deciding)."""
    return [answer for policy in _policies[question] if (answer := policy(**kwargs)) is not None]
