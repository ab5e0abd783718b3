"""Local authorisation lists: the access rules compiled per station into its local list, so
that a station that goes offline keeps enforcing who may charge there.

* **What is in a station's list**: every valid token (active, not expired) that the rules of
  the station admit *now* (station rules, else site rules: a list is per station, so port
  rules are not consulted), with its expiry and group id.  A station without rules gets an
  empty list: it is open, the token table and the station's auth cache decide.  A schedule
  cannot be written into a list: a window that opens or closes changes the list, and the
  next sync (a rule change, a reconnect, the periodic ``access.local_lists_tick``) sends the
  difference.
* **Versions**: the version the station last accepted is stored with the entries it holds.
  A sync asks the station its version first (GetLocalListVersion); when it differs (the
  station lost its list, or an update never arrived) the whole list is sent again (Full),
  otherwise only the difference (Differential: added, changed and removed tokens).
* **Limits**: the list's maximum length and the entries per message are read from the
  station (1.6 ``LocalAuthListMaxLength`` / ``SendLocalListMaxLength``; 2.0.1
  ``LocalAuthListCtrlr`` ``ItemsPerMessage``).  A list longer than the station holds is not
  sent (state ``too_large``); a long update is split into several messages, each with the
  next version.
* **Auth cache**: after a rule change the station's cache is cleared (ClearCache), so a token
  the new rules refuse is not let in from the cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from apps.charging.models import IdToken
from apps.core import policies
from apps.core.scoping import SYSTEM
from apps.ocpp import commands, payloads
from apps.stations.models import Station

from . import engine, selectors
from .choices import RuleKind
from .models import AccessGroup, AccessGroupMember, StationLocalList

REQUESTER = commands.Requester(actor=SYSTEM, source="system")
State = StationLocalList.State
LIMIT_KEYS = {
    "1.6": ["LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength"],
    "2.0.1": ["LocalAuthListCtrlr/Enabled", "LocalAuthListCtrlr/ItemsPerMessage"],
}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def compile_list(*, station: Station, moment: dt.datetime | None = None) -> dict[str, dict]:
    """uid -> entry of the tokens the station's rules admit at ``moment`` (default now), and
    those other features add (core policy ``LOCAL_LIST_TOKENS``: roaming's partner tokens);
    the rules' entries win over theirs."""
    moment = moment or timezone.now()
    admitted = _rules_list(station=station, moment=moment)
    for added in policies.ask_all(policies.LOCAL_LIST_TOKENS, station=station, moment=moment):
        for uid, entry in added.items():
            admitted.setdefault(uid, entry)
    return admitted


def _rules_list(*, station: Station, moment: dt.datetime) -> dict[str, dict]:
    inputs = selectors.decision_inputs(uid="", station_id=station.pk, evse_id=None, moment=moment)
    if inputs is None:
        return {}
    level, rules = engine.deciding_level(inputs.rules, port_known=False)
    if level is None:
        return {}
    valid = IdToken.objects.filter(is_active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=moment)
    )
    # Members other than tokens (a fleet, a vehicle, a person): the tokens they stand for, as
    # the app that owns them answers (policies.MEMBER_TOKENS).
    group_ids = set().union(*(rule.group_ids for rule in rules))
    key_groups: dict[str, set[int]] = {}
    for key, group_id in AccessGroupMember.objects.filter(group_id__in=group_ids).values_list(
        "key", "group_id"
    ):
        key_groups.setdefault(key, set()).add(group_id)
    standing_for = (
        (policies.ask(policies.MEMBER_TOKENS, keys=sorted(key_groups)) or {}) if key_groups else {}
    )
    if not any(rule.kind == RuleKind.PUBLIC for rule in rules):
        valid = valid.filter(
            Q(access_groups__in=group_ids) | Q(pk__in=list(standing_for))
        ).distinct()
    tokens = list(valid.only("id", "uid", "token_type", "expires_at", "parent_uid"))
    memberships: dict[int, set[int]] = {}
    for token_id, group_id in AccessGroup.tokens.through.objects.filter(
        idtoken_id__in=[t.pk for t in tokens]
    ).values_list("idtoken_id", "accessgroup_id"):
        memberships.setdefault(token_id, set()).add(group_id)
    for token_id, keys in standing_for.items():
        for key in keys:
            memberships.setdefault(token_id, set()).update(key_groups.get(key, ()))
    admitted = {}
    for token in tokens:
        decision = engine.decide(
            rules=rules,
            token_groups=frozenset(memberships.get(token.pk, ())),
            moment=moment,
            tz=inputs.tz,
            holidays=inputs.holidays,
            port_known=False,
        )
        if decision.allowed:
            admitted[token.uid] = {
                "status": "Accepted",
                "expiry": _iso(token.expires_at),
                "group": token.parent_uid,
                "type": token.token_type or "ISO14443",
            }
    return admitted


@dataclass(frozen=True)
class Difference:
    changed: dict[str, dict]  # added or changed entries
    removed: list[str]

    @property
    def empty(self) -> bool:
        return not self.changed and not self.removed


def difference(held: dict[str, dict], wanted: dict[str, dict]) -> Difference:
    return Difference(
        changed={uid: entry for uid, entry in wanted.items() if held.get(uid) != entry},
        removed=sorted(uid for uid in held if uid not in wanted),
    )


def _entry(uid: str, entry: dict | None) -> payloads.LocalListEntry:
    if entry is None:
        return payloads.LocalListEntry(uid=uid, status=None)
    return payloads.LocalListEntry(
        uid=uid,
        status=entry["status"],
        expiry=entry["expiry"],
        group=entry["group"],
        token_type=entry["type"],
    )


def _read_limits(station: Station, state: StationLocalList) -> bool:
    """Read the station's list limits; False when it keeps no local list."""
    reply = commands.station_configuration_read(
        requester=REQUESTER, station=station, keys=LIMIT_KEYS[station.ocpp_version]
    )
    if not reply.ok:
        return True  # unknown limits: try, the station answers Failed if it cannot
    values = {str(row["key"]).split("/")[-1]: row.get("value") for row in reply.rows}
    if str(values.get("LocalAuthListEnabled", values.get("Enabled", "true"))).lower() == "false":
        return False

    def number(key: str) -> int | None:
        try:
            return int(values[key])
        except (KeyError, TypeError, ValueError):
            return None

    state.max_entries = number("LocalAuthListMaxLength")
    state.per_message = number("SendLocalListMaxLength") or number("ItemsPerMessage")
    return True


def _mark(state: StationLocalList, new_state: str, message: str = "") -> str:
    state.state, state.message = new_state, message[:300]
    state.save(update_fields=["state", "message", "max_entries", "per_message"])
    return new_state


def local_list_sync(*, station_id: int, clear_cache: bool = False, retried: bool = False) -> str:
    """Bring the station's local list in step with the rules (and clear its auth cache when
    asked); answers the list's state."""
    station = Station.objects.select_related("site").get(pk=station_id)
    state, _ = StationLocalList.objects.get_or_create(station=station)
    if not station.is_online or not station.ocpp_version:
        return _mark(state, State.BEHIND, "offline")
    if clear_cache:
        commands.station_clear_cache(requester=REQUESTER, station=station)
    if not _read_limits(station, state):
        return _mark(state, State.UNSUPPORTED)
    wanted = compile_list(station=station)
    if state.max_entries is not None and len(wanted) > state.max_entries:
        return _mark(
            state,
            State.TOO_LARGE,
            f"{len(wanted)} tokens, the station holds {state.max_entries}",
        )
    asked = commands.station_local_list_version(requester=REQUESTER, station=station)
    if not asked.ok:
        return _mark(state, State.BEHIND, asked.message)
    held_version = payloads.local_list_version_of(station.ocpp_version, asked.payload)
    if held_version < 0:
        return _mark(state, State.UNSUPPORTED)
    full = held_version != state.version or (held_version == 0 and bool(wanted))
    if full:
        changes = [(uid, wanted[uid]) for uid in sorted(wanted)]
    else:
        diff = difference(state.entries, wanted)
        if diff.empty:
            state.synced_at = timezone.now()
            state.save(update_fields=["synced_at"])
            return _mark(state, State.IN_STEP)
        changes = sorted(diff.changed.items()) + [(uid, None) for uid in diff.removed]
    size = state.per_message or len(changes) or 1
    chunks = [changes[i : i + size] for i in range(0, len(changes), size)] or [[]]
    version = max(state.version, held_version)
    held = {} if full else dict(state.entries)
    for index, chunk in enumerate(chunks):
        version += 1
        reply = commands.station_send_local_list(
            requester=REQUESTER,
            station=station,
            list_version=version,
            full=full and index == 0,
            entries=[_entry(uid, entry) for uid, entry in chunk],
        )
        if reply.status != "Accepted":
            state.version, state.entries = version - 1, held
            state.save(update_fields=["version", "entries"])
            if reply.status == "VersionMismatch" and not full and not retried:
                # the station's list is not the one we think: send it whole
                state.version, state.entries = 0, {}
                state.save(update_fields=["version", "entries"])
                return local_list_sync(station_id=station_id, retried=True)
            return _mark(state, State.FAILED if reply.answered else State.BEHIND, reply.message)
        for uid, entry in chunk:
            if entry is None:
                held.pop(uid, None)
            else:
                held[uid] = entry
    state.version, state.entries, state.synced_at = version, held, timezone.now()
    state.save(update_fields=["version", "entries", "synced_at"])
    return _mark(state, State.IN_STEP)


def stations_to_sync(*, site_ids: set[int] | None = None) -> list[int]:
    """Online stations of ``site_ids`` (None: every site) that rules apply to or that hold
    a list (which may have to be emptied)."""
    stations = Station.objects.filter(is_online=True)
    if site_ids is not None:
        stations = stations.filter(site_id__in=site_ids)
    with_rules = Q(site__access_rules__isnull=False) | Q(access_local_list__version__gt=0)
    return list(stations.filter(with_rules).values_list("pk", flat=True).distinct())
