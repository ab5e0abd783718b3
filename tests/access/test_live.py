"""Access rules answered to real stations over websockets, OCPP 1.6 and 2.0.1: members only,
port rules over station rules, schedules in the site's timezone (windows opening an hour
before now and an hour after, so the outcome does not depend on when the test runs; Auckland
is chosen so that reading the window in UTC or the server's zone would get it wrong)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.access import services
from apps.access.choices import RuleKind
from apps.charging.services import token_create
from apps.stations.models import Evse
from apps.stations.services import site_create, station_register
from tests.live import blocking, unique_identity
from tests.ocpp.clients import Connected

pytestmark = pytest.mark.slow
AUCKLAND = ZoneInfo("Pacific/Auckland")


def build(tenant):
    """A site with three stations, committed: members-only, port-public, and scheduled."""

    def create():
        with tenant_context(tenant):
            try:
                tag = uuid.uuid4().hex[:8]
                site = site_create(name=f"Access {tag}", timezone="Pacific/Auckland")
                tokens = {
                    name: token_create(uid=f"{name.upper()}-{tag}") for name in ("staff", "visitor")
                }
                staff = services.group_create(name=f"Staff {tag}")
                services.group_add_tokens(group=staff, tokens=[tokens["staff"]])
                stations = {}
                for name in ("members", "ports", "now", "later"):
                    identity = unique_identity("ACC")
                    password = f"pw-{identity.lower()}-0123456789"
                    station = station_register(
                        identity=identity, password=password, site=site, evse_count=2
                    )
                    stations[name] = (station, identity, password)
                services.rule_create(
                    name="staff only",
                    kind=RuleKind.MEMBERS,
                    station=stations["members"][0],
                    groups=[staff],
                )
                services.rule_create(
                    name="private",
                    kind=RuleKind.PRIVATE,
                    station=stations["ports"][0],
                    confirm_lockout=True,
                )
                services.rule_create(
                    name="port 2 public",
                    kind=RuleKind.PUBLIC,
                    evse=Evse.objects.get(station=stations["ports"][0], evse_id=2),
                )
                now = dt.datetime.now(dt.UTC).astimezone(AUCKLAND)
                before, after, later = (now + dt.timedelta(hours=h) for h in (-1, 1, 2))
                services.rule_create(
                    name="open around now",
                    kind=RuleKind.PUBLIC,
                    station=stations["now"][0],
                    windows=[(before.weekday(), before.time(), after.time())],
                )
                services.rule_create(
                    name="open later",
                    kind=RuleKind.PUBLIC,
                    station=stations["later"][0],
                    windows=[(after.weekday(), after.time(), later.time())],
                )
                return {k: v.uid for k, v in tokens.items()}, {
                    k: v[1:] for k, v in stations.items()
                }
            finally:
                connection.close()

    return blocking(create)


async def authorize16(server, station, uid: str) -> str:
    identity, password = station
    async with Connected(server.ws, identity, password, "1.6") as cp:
        answer = await cp.call(call16.Authorize(id_tag=uid), suppress=False)
        return answer.id_tag_info["status"]


async def start16(server, station, uid: str, connector: int) -> str:
    identity, password = station
    async with Connected(server.ws, identity, password, "1.6") as cp:
        answer = await cp.call(
            call16.StartTransaction(
                connector_id=connector,
                id_tag=uid,
                meter_start=0,
                timestamp=dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            ),
            suppress=False,
        )
        return answer.id_tag_info["status"]


async def authorize201(server, station, uid: str) -> str:
    identity, password = station
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        answer = await cp.call(
            call201.Authorize(id_token={"idToken": uid, "type": "ISO14443"}), suppress=False
        )
        return answer.id_token_info["status"]


async def start201(server, station, uid: str, evse: int) -> str:
    identity, password = station
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        answer = await cp.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transactionId": uuid.uuid4().hex[:20]},
                id_token={"idToken": uid, "type": "ISO14443"},
                evse={"id": evse, "connectorId": 1},
            ),
            suppress=False,
        )
        return answer.id_token_info["status"]


async def test_16_members_ports_and_schedules(access_server, live_alpha):
    """1.6 has no NotAtThisLocation / NotAtThisTime: a refusal by the rules is Blocked."""
    tokens, stations = build(live_alpha)
    staff, visitor = tokens["staff"], tokens["visitor"]
    assert await authorize16(access_server, stations["members"], staff) == "Accepted"
    assert await authorize16(access_server, stations["members"], visitor) == "Blocked"
    assert await authorize16(access_server, stations["members"], "NOT-A-CARD") == "Invalid"
    # 1.6 Authorize names no connector: the station's private rule decides ...
    assert await authorize16(access_server, stations["ports"], visitor) == "Blocked"
    # ... StartTransaction does: port 2 is public, port 1 follows the station.
    assert await start16(access_server, stations["ports"], visitor, 2) == "Accepted"
    assert await start16(access_server, stations["ports"], staff, 1) == "Blocked"
    assert await authorize16(access_server, stations["now"], visitor) == "Accepted"
    assert await authorize16(access_server, stations["later"], visitor) == "Blocked"
    assert await start16(access_server, stations["later"], visitor, 1) == "Blocked"


async def test_201_members_ports_and_schedules(access_server, live_alpha):
    """2.0.1 names the reason of a refusal by the rules: place or time."""
    tokens, stations = build(live_alpha)
    staff, visitor = tokens["staff"], tokens["visitor"]
    assert await authorize201(access_server, stations["members"], staff) == "Accepted"
    assert await authorize201(access_server, stations["members"], visitor) == "NotAtThisLocation"
    assert await authorize201(access_server, stations["members"], "NOT-A-CARD") == "Invalid"
    assert await authorize201(access_server, stations["ports"], visitor) == "NotAtThisLocation"
    assert await start201(access_server, stations["ports"], visitor, 2) == "Accepted"
    assert await start201(access_server, stations["ports"], staff, 1) == "NotAtThisLocation"
    assert await authorize201(access_server, stations["now"], visitor) == "Accepted"
    assert await authorize201(access_server, stations["later"], visitor) == "NotAtThisTime"
    assert await start201(access_server, stations["later"], visitor, 1) == "NotAtThisTime"


def build_lifecycle(tenant):
    """A members-only station and a staff token with an expiry and a group (parent) id."""

    def create():
        with tenant_context(tenant):
            try:
                tag = uuid.uuid4().hex[:8]
                site = site_create(name=f"Lifecycle {tag}", timezone="UTC")
                expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=30)
                token = token_create(
                    uid=f"LIFE-{tag}".upper(), expires_at=expires, parent_uid=f"FLEET-{tag}"
                )
                staff = services.group_create(name=f"Lifecycle {tag}")
                services.group_add_tokens(group=staff, tokens=[token])
                identity = unique_identity("ACC")
                password = f"pw-{identity.lower()}-0123456789"
                station = station_register(
                    identity=identity, password=password, site=site, evse_count=1
                )
                services.rule_create(
                    name="staff", kind=RuleKind.MEMBERS, station=station, groups=[staff]
                )
                return token.uid, expires, token.parent_uid, (identity, password)
            finally:
                connection.close()

    return blocking(create)


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_answers_carry_the_tokens_expiry_and_group_in_every_message(
    access_server, live_alpha
):
    """Authorize, StartTransaction (1.6) and TransactionEvent (2.0.1) answer the same
    idTagInfo / idTokenInfo: status, expiry (1.6 expiryDate, 2.0.1 cacheExpiryDateTime) and
    group (1.6 parentIdTag, 2.0.1 groupIdToken)."""
    uid, expires, group, (identity, password) = build_lifecycle(live_alpha)
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    async with Connected(access_server.ws, identity, password, "1.6") as cp:
        answers = [
            (await cp.call(call16.Authorize(id_tag=uid), suppress=False)).id_tag_info,
            (
                await cp.call(
                    call16.StartTransaction(
                        connector_id=1, id_tag=uid, meter_start=0, timestamp=now
                    ),
                    suppress=False,
                )
            ).id_tag_info,
        ]
    for info in answers:
        assert info["status"] == "Accepted"
        assert _moment(info["expiry_date"]) == expires and info["parent_id_tag"] == group
    async with Connected(access_server.ws, identity, password, "2.0.1") as cp:
        token = {"idToken": uid, "type": "ISO14443"}
        answers = [
            (await cp.call(call201.Authorize(id_token=token), suppress=False)).id_token_info,
            (
                await cp.call(
                    call201.TransactionEvent(
                        event_type="Started",
                        timestamp=now,
                        trigger_reason="Authorized",
                        seq_no=0,
                        transaction_info={"transactionId": uuid.uuid4().hex[:20]},
                        id_token=token,
                        evse={"id": 1, "connectorId": 1},
                    ),
                    suppress=False,
                )
            ).id_token_info,
        ]
    for info in answers:
        assert info["status"] == "Accepted"
        assert _moment(info["cache_expiry_date_time"]) == expires
        assert info["group_id_token"] == {"id_token": group, "type": "Central"}
