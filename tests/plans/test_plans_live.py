"""A port whose plan lapsed refuses new sessions on both OCPP versions, over real websockets
to the ASGI server, while its station keeps reporting status."""

from __future__ import annotations

import datetime as dt

from django_tenants.utils import tenant_context
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.charging.services import token_create
from apps.plans import selectors, services
from apps.stations.models import StatusChange
from tests.live import blocking
from tests.ocpp.clients import Connected, in_db

NOW = "2026-12-07T15:00:00Z"


def seats(tenant, station, *, lapsed: list[int], covered: list[int], uid: str):
    """Port numbers in ``lapsed`` hold a seat of an order that expired past its grace."""

    def make():
        with tenant_context(tenant):
            token_create(uid=uid)
            today = selectors.tenant_today(tenant)
            old = services.plan_order_create(
                tenant=tenant,
                code="CTSW-SAS-COMM-1",
                quantity=5,
                starts_on=today - dt.timedelta(days=500),
            )
            for port in lapsed:
                services.port_activate(
                    tenant=tenant, station=station, evse_id=port, order=old, day=old.starts_on
                )
            if covered:
                current = services.plan_order_create(
                    tenant=tenant, code="CPCLD-COMMERCIAL-2", quantity=5, starts_on=today
                )
                for port in covered:
                    services.port_activate(
                        tenant=tenant, station=station, evse_id=port, order=current
                    )

    blocking(make)


async def test_16_lapsed_port_refuses_a_session_and_keeps_reporting(
    plans_server, live_tenant, live_station
):
    station, identity, password = live_station(evses=2)
    seats(live_tenant, station, lapsed=[1], covered=[2], uid="PLAN16-TAG")
    async with Connected(plans_server.ws, identity, password, "1.6") as cp:
        boot = await cp.call(
            call16.BootNotification(charge_point_vendor="ACME", charge_point_model="X1"),
            suppress=False,
        )
        assert boot.status == "Accepted"
        status = await cp.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing", timestamp=NOW
            ),
            suppress=False,
        )
        assert status is not None
        # port 2 is covered, so the card itself is fine at this station
        authorized = await cp.call(call16.Authorize(id_tag="PLAN16-TAG"), suppress=False)
        assert authorized.id_tag_info["status"] == "Accepted"
        refused = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag="PLAN16-TAG", meter_start=0, timestamp=NOW
            ),
            suppress=False,
        )
        assert refused.id_tag_info["status"] == "Blocked"
        accepted = await cp.call(
            call16.StartTransaction(
                connector_id=2, id_tag="PLAN16-TAG", meter_start=0, timestamp=NOW
            ),
            suppress=False,
        )
        assert accepted.id_tag_info["status"] == "Accepted"
        await cp.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp=NOW
            ),
            suppress=False,
        )

    def statuses():
        return list(
            StatusChange.objects.filter(station_id=station.pk, evse__evse_id=1).values_list(
                "status", flat=True
            )
        )

    assert sorted(await in_db(live_tenant, statuses)) == ["Available", "Preparing"]


async def test_201_lapsed_station_refuses_a_session_and_keeps_reporting(
    plans_server, live_tenant, live_station
):
    station, identity, password = live_station(evses=1)
    seats(live_tenant, station, lapsed=[1], covered=[], uid="PLAN201-TAG")
    id_token = {"idToken": "PLAN201-TAG", "type": "ISO14443"}
    async with Connected(plans_server.ws, identity, password, "2.0.1") as cp:
        boot = await cp.call(
            call201.BootNotification(
                charging_station={"model": "Z2", "vendor_name": "Volt"}, reason="PowerUp"
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        await cp.call(
            call201.StatusNotification(
                timestamp=NOW, connector_status="Occupied", evse_id=1, connector_id=1
            ),
            suppress=False,
        )
        authorized = await cp.call(call201.Authorize(id_token=id_token), suppress=False)
        assert authorized.id_token_info["status"] == "Blocked"
        started = await cp.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=NOW,
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transactionId": "PLAN-TX-1"},
                id_token=id_token,
                evse={"id": 1, "connectorId": 1},
            ),
            suppress=False,
        )
        assert started.id_token_info["status"] == "Blocked"
        await cp.call(
            call201.StatusNotification(
                timestamp=NOW, connector_status="Available", evse_id=1, connector_id=1
            ),
            suppress=False,
        )

    def statuses():
        return list(
            StatusChange.objects.filter(station_id=station.pk, evse__evse_id=1).values_list(
                "status", flat=True
            )
        )

    assert sorted(await in_db(live_tenant, statuses)) == ["Available", "Occupied"]
