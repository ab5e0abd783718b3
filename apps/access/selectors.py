"""Reads for access control: the records the engine decides on, and the decision itself."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import psycopg
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from apps.charging.choices import AuthorizationStatus
from apps.charging.models import IdToken
from apps.core import policies
from apps.stations.models import Station

from . import engine
from .choices import Level
from .models import AccessRule


@dataclass(frozen=True)
class DecisionInputs:
    """What the engine needs for one (token, station, port, moment), read in one query."""

    tz: ZoneInfo
    rules: tuple[engine.Rule, ...]
    token_groups: frozenset[int]
    holidays: frozenset[dt.date]
    token_known: bool


# One round trip per decision (the Authorize budget, bench/access_decision.py): the station's
# site and zone, the rules of the site, the station and the port with their groups and
# windows, the token's groups, and the holidays around the local date (two days each side:
# PostgreSQL's and Python's zone data may disagree near a change, the engine only needs
# yesterday and today).
INPUTS_SQL = """
SELECT
  si.timezone,
  (SELECT coalesce(json_agg(json_build_object(
       'id', r.id, 'name', r.name, 'kind', r.kind,
       'station_id', r.station_id, 'evse_id', r.evse_id,
       'date_from', r.date_from, 'date_to', r.date_to, 'holidays', r.holidays,
       'groups', (SELECT coalesce(json_agg(g.accessgroup_id), '[]')
                  FROM access_accessrule_groups g WHERE g.accessrule_id = r.id),
       'windows', (SELECT coalesce(json_agg(json_build_array(w.weekday, w.start, w."end")), '[]')
                   FROM access_rulewindow w WHERE w.rule_id = r.id)
     )), '[]')
   FROM access_accessrule r LEFT JOIN stations_evse e ON e.id = r.evse_id
   WHERE r.scope_site_id = st.site_id
     AND (r.site_id = st.site_id OR r.station_id = st.id
          OR (e.station_id = st.id AND e.evse_id = %(evse)s))),
  ARRAY(SELECT m.accessgroup_id FROM access_accessgroup_tokens m
        JOIN charging_idtoken t ON t.id = m.idtoken_id WHERE t.uid = %(uid)s
        UNION SELECT k.group_id FROM access_accessgroupmember k
        WHERE k.key = ANY(%(members)s::varchar[])),
  ARRAY(SELECT h.date FROM access_holiday h
        WHERE (h.site_id = st.site_id OR h.site_id IS NULL)
          AND h.date BETWEEN (%(moment)s::timestamptz AT TIME ZONE si.timezone)::date - 2
                         AND (%(moment)s::timestamptz AT TIME ZONE si.timezone)::date + 2),
  EXISTS(SELECT 1 FROM charging_idtoken t WHERE t.uid = %(uid)s)
FROM stations_station st JOIN stations_site si ON si.id = st.site_id
WHERE st.id = %(station)s
"""


def _rule(row: dict) -> engine.Rule:
    return engine.Rule(
        id=row["id"],
        name=row["name"],
        level=Level.PORT if row["evse_id"] else Level.STATION if row["station_id"] else Level.SITE,
        kind=row["kind"],
        group_ids=frozenset(row["groups"]),
        schedule=engine.Schedule(
            windows=tuple(
                engine.Window(day, dt.time.fromisoformat(start), dt.time.fromisoformat(end))
                for day, start, end in row["windows"]
            ),
            date_from=row["date_from"] and dt.date.fromisoformat(row["date_from"]),
            date_to=row["date_to"] and dt.date.fromisoformat(row["date_to"]),
            holidays=row["holidays"],
        ),
    )


def decision_inputs(
    *, uid: str, station_id: int, evse_id: int | None, moment: dt.datetime
) -> DecisionInputs | None:
    """The records of one decision, or ``None`` when the station does not exist."""
    # Members other than tokens (vehicles, fleets, people): the keys the token stands for, as
    # the apps that own them answer (one query of theirs; none when no app answers).
    members = (policies.ask(policies.TOKEN_MEMBERSHIPS, uid=uid) or []) if uid else []
    params = {
        "uid": uid,
        "station": station_id,
        "evse": evse_id,
        "moment": moment,
        "members": list(members),
    }
    with connection.cursor() as cursor:
        # Django's cursor sets the tenant's search_path (django-tenants); the query then runs
        # as a prepared statement on the same connection (server-side binding), which saves
        # its planning (about 0.8 ms of 2 ms, bench/access_decision.py).  PostgreSQL
        # re-parses a prepared statement when search_path changes, so each tenant reads its
        # own tables (tests/access/test_selectors.py).
        with psycopg.Cursor(cursor.connection) as prepared:
            prepared.execute(INPUTS_SQL, params, prepare=True)
            found = prepared.fetchone()
    if found is None:
        return None
    zone, rules, groups, holidays, known = found
    if isinstance(rules, str):  # psycopg returns json already parsed; be explicit otherwise
        rules = json.loads(rules)
    return DecisionInputs(
        tz=ZoneInfo(zone),
        rules=tuple(_rule(row) for row in rules),
        token_groups=frozenset(groups),
        holidays=frozenset(holidays),
        token_known=known,
    )


def access_decision(
    *, uid: str, station: Station, evse_id: int | None = None, moment: dt.datetime | None = None
) -> engine.Decision:
    """May ``uid`` charge at ``station`` (port ``evse_id``) at ``moment`` (default now)?  The
    answer carries the steps that explain it (the portal's "why refused" tool shows them)."""
    moment = moment or timezone.now()
    inputs = decision_inputs(uid=uid, station_id=station.pk, evse_id=evse_id, moment=moment)
    assert inputs is not None  # the station exists
    return decide(inputs=inputs, moment=moment, port_known=evse_id is not None)


def decide(*, inputs: DecisionInputs, moment: dt.datetime, port_known: bool) -> engine.Decision:
    return engine.decide(
        rules=inputs.rules,
        token_groups=inputs.token_groups,
        moment=moment,
        tz=inputs.tz,
        holidays=inputs.holidays,
        port_known=port_known,
    )


@dataclass(frozen=True)
class Explanation:
    """The answer to "why was this card refused here now?" for any token, station and time."""

    uid: str
    station: Station
    evse_id: int | None
    moment: dt.datetime
    local: dt.datetime  # the moment on the site's clock
    token: IdToken | None
    token_status: str  # what the token table says: Accepted, Blocked, Expired, Invalid
    decision: engine.Decision  # what the access rules say
    answer: str  # what the station is told (before other policies, such as credit checks)
    overlaps: tuple[str, ...]  # where the deciding rules' weekly windows overlap

    @property
    def steps(self) -> tuple[str, ...]:
        return self.decision.steps


def token_status(token: IdToken | None, moment: dt.datetime) -> str:
    """The token table's own answer (``charging.services.authorize`` without policies)."""
    if token is None:
        return AuthorizationStatus.INVALID
    if not token.is_active:
        return AuthorizationStatus.BLOCKED
    if token.expires_at and token.expires_at <= moment:
        return AuthorizationStatus.EXPIRED
    return AuthorizationStatus.ACCEPTED


def explain(
    *, uid: str, station: Station, evse_id: int | None = None, moment: dt.datetime | None = None
) -> Explanation:
    """Everything that decides whether ``uid`` may charge at ``station`` (port ``evse_id``) at
    ``moment``, in the order the platform checks it: an unknown token is Invalid whatever the
    rules; a token the rules refuse gets their reason; otherwise the token table answers."""
    moment = moment or timezone.now()
    inputs = decision_inputs(uid=uid, station_id=station.pk, evse_id=evse_id, moment=moment)
    assert inputs is not None  # the station exists
    decision = decide(inputs=inputs, moment=moment, port_known=evse_id is not None)
    token = IdToken.objects.filter(uid=uid).order_by("-is_active").first() if uid else None
    status = token_status(token, moment)
    refused_by_rules = token is not None and decision.decided and not decision.allowed
    level, deciding = engine.deciding_level(inputs.rules, port_known=evse_id is not None)
    return Explanation(
        uid=uid,
        station=station,
        evse_id=evse_id,
        moment=moment,
        local=moment.astimezone(inputs.tz),
        token=token,
        token_status=status,
        decision=decision,
        answer=decision.reason if refused_by_rules else status,
        overlaps=tuple(str(overlap) for overlap in engine.overlaps(deciding)),
    )


def place_rules(rule: AccessRule) -> QuerySet[AccessRule]:
    """The rules attached to the same place as ``rule`` (they decide together)."""
    return (
        AccessRule.objects.filter(site=rule.site_id, station=rule.station_id, evse=rule.evse_id)
        .prefetch_related("groups", "windows")
        .order_by("id")
    )


def engine_rules(rule: AccessRule) -> list[engine.Rule]:
    """The rules of ``rule``'s place as the engine's records (for overlaps and lock-out)."""
    return [
        engine.Rule(
            id=other.pk,
            name=other.name,
            level=other.level,
            kind=other.kind,
            group_ids=frozenset(g.pk for g in other.groups.all()),
            schedule=engine.Schedule(
                windows=tuple(
                    engine.Window(w.weekday, w.start, w.end) for w in other.windows.all()
                ),
                date_from=other.date_from,
                date_to=other.date_to,
                holidays=other.holidays,
            ),
        )
        for other in place_rules(rule)
    ]
