"""Cloud plans: order codes (current and obsolete), seats, expiry and grace, renewal,
reminders, the authorization policy, the tenant's page and API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import translation

from apps.charging.choices import AuthorizationStatus
from apps.charging.services import authorize, token_create
from apps.plans import selectors, services
from apps.plans.choices import PlanTier, PortPlanStatus
from apps.plans.models import PlanOrder, PlanReminder, PortActivation
from apps.plans.ordercodes import OrderCodeError, parse_order_code
from tests.api.conftest import api_client, results

TODAY = dt.date(2026, 12, 7)


# --- Order codes ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("written", "code", "tier", "years"),
    [
        ("CPCLD-COMMERCIAL-1", "CPCLD-COMMERCIAL-1", PlanTier.COMMERCIAL, 1),
        ("CPCLD-COMMERCIAL-5", "CPCLD-COMMERCIAL-5", PlanTier.COMMERCIAL, 5),
        ("CPCLD-COMMERCIAL-DC-3", "CPCLD-COMMERCIAL-DC-3", PlanTier.DC, 3),
        ("cpcld-commercial-expp-2 ", "CPCLD-COMMERCIAL-EXPP-2", PlanTier.EXPRESS_PLUS, 2),
        ("CTSW-SAS-COMM-4", "CPCLD-COMMERCIAL-4", PlanTier.COMMERCIAL, 4),
        ("CTSW-SAS-COMM-DC-5", "CPCLD-COMMERCIAL-DC-5", PlanTier.DC, 5),
    ],
)
def test_order_codes_new_and_obsolete(written, code, tier, years):
    parsed = parse_order_code(written)
    assert (parsed.code, parsed.tier, parsed.years) == (code, tier, years)
    assert parsed.obsolete == written.strip().upper().startswith("CTSW")


@pytest.mark.parametrize(
    "written",
    [
        "CPCLD-COMMERCIAL-0",
        "CPCLD-COMMERCIAL-6",
        "CPCLD-COMMERCIAL-DC-10",
        "CTSW-SAS-COMM-EXPP-1",  # Express Plus never had an old code
        "CPCLD-RESIDENTIAL-1",
        "CPCLD-COMMERCIAL",
        "",
    ],
)
def test_unknown_order_codes_are_refused(written):
    with pytest.raises(OrderCodeError):
        parse_order_code(written)


# --- Orders and seats -------------------------------------------------------------------------
def order(tenant, code="CPCLD-COMMERCIAL-1", quantity=2, starts_on=TODAY, **kw):
    return services.plan_order_create(
        tenant=tenant, code=code, quantity=quantity, starts_on=starts_on, **kw
    )


def test_an_obsolete_code_is_recorded_under_the_new_one(alpha):
    placed = order(alpha, code="CTSW-SAS-COMM-DC-3", starts_on=dt.date(2024, 2, 29))
    assert placed.order_code == "CPCLD-COMMERCIAL-DC-3"
    assert placed.ordered_code == "CTSW-SAS-COMM-DC-3"
    assert placed.tier == PlanTier.DC
    assert placed.expires_on == dt.date(2027, 3, 1)  # 29 February + 3 years
    with pytest.raises(ValidationError):
        order(alpha, code="CPCLD-COMMERCIAL-9")


def test_seats_are_limited_by_the_order(alpha, station_with_ports):
    placed = order(alpha, quantity=2)
    first, second = station_with_ports(2), station_with_ports(1)
    services.port_activate(tenant=alpha, station=first, evse_id=1, day=TODAY)
    services.port_activate(tenant=alpha, station=first, evse_id=2, day=TODAY)
    with pytest.raises(ValidationError, match="No free plan seat"):
        services.port_activate(tenant=alpha, station=second, evse_id=1, day=TODAY)
    with pytest.raises(ValidationError, match="already holds"):
        services.port_activate(tenant=alpha, station=first, evse_id=1, day=TODAY)
    with pytest.raises(ValidationError, match="no port"):
        services.port_activate(tenant=alpha, station=second, evse_id=7, day=TODAY)
    assert selectors.plan_orders_with_seats().get(pk=placed.pk).seats_used == 2

    seat = PortActivation.objects.get(station_pk=first.pk, evse_id=2)
    services.port_release(activation=seat)
    services.port_activate(tenant=alpha, station=second, evse_id=1, day=TODAY)
    assert selectors.plan_orders_with_seats().get(pk=placed.pk).seats_used == 2
    statuses = selectors.port_plans(
        tenant=alpha, ports=[(first.pk, 1), (first.pk, 2), (second.pk, 1)], day=TODAY
    )
    assert [p.status for p in statuses.values()] == [
        PortPlanStatus.ACTIVE,
        PortPlanStatus.UNCOVERED,  # released: the tenant uses plans, so it is refused
        PortPlanStatus.ACTIVE,
    ]


def test_expiry_then_grace_then_lapsed(alpha, station_with_ports, settings):
    settings.PLANS_GRACE_DAYS = 30
    station = station_with_ports(1)
    placed = order(alpha, code="CPCLD-COMMERCIAL-1", starts_on=dt.date(2025, 12, 7))
    services.port_activate(tenant=alpha, station=station, evse_id=1, day=dt.date(2025, 12, 7))
    assert placed.expires_on == dt.date(2026, 12, 7)

    def status(day):
        return selectors.port_plans(tenant=alpha, ports=[(station.pk, 1)], day=day)[
            (station.pk, 1)
        ].status

    assert status(dt.date(2026, 12, 6)) == PortPlanStatus.ACTIVE
    assert status(dt.date(2026, 12, 7)) == PortPlanStatus.GRACE
    assert status(dt.date(2027, 1, 5)) == PortPlanStatus.GRACE
    assert status(dt.date(2027, 1, 6)) == PortPlanStatus.LAPSED
    # an expired order gives no seat; a new order does, and the lapsed port takes it
    with pytest.raises(ValidationError):
        services.port_activate(
            tenant=alpha, station=station, evse_id=1, order=placed, day=dt.date(2027, 2, 1)
        )
    fresh = order(alpha, code="CTSW-SAS-COMM-2", quantity=1, starts_on=dt.date(2027, 2, 1))
    services.port_activate(tenant=alpha, station=station, evse_id=1, day=dt.date(2027, 2, 1))
    assert status(dt.date(2027, 2, 1)) == PortPlanStatus.ACTIVE
    assert PortActivation.objects.get(released_at__isnull=True).order == fresh


def test_a_renewal_carries_the_ports_over_without_a_gap(alpha, station_with_ports):
    station = station_with_ports(2)
    placed = order(alpha, quantity=2, starts_on=dt.date(2025, 12, 7))
    for port in (1, 2):
        services.port_activate(
            tenant=alpha, station=station, evse_id=port, day=dt.date(2025, 12, 7)
        )
    renewal = services.plan_order_renew(order=placed, code="CTSW-SAS-COMM-3", quantity=1)
    assert renewal.starts_on == placed.expires_on and renewal.order_code == "CPCLD-COMMERCIAL-3"
    assert renewal.expires_on == dt.date(2029, 12, 7)
    plans = selectors.station_port_plans(tenant=alpha, station=station, day=dt.date(2027, 6, 1))
    # one seat renewed (the first port activated); the other stays on the old order
    assert [p.status for p in plans] == [PortPlanStatus.ACTIVE, PortPlanStatus.LAPSED]
    with pytest.raises(ValidationError):
        services.plan_order_renew(order=placed)


def test_a_tenant_without_plans_is_not_enforced(alpha, station_with_ports):
    station = station_with_ports(1)
    token_create(uid="PLAN-FREE-1")
    plan = selectors.station_port_plans(tenant=alpha, station=station)[0]
    assert plan.status == PortPlanStatus.NOT_ENFORCED
    assert authorize(uid="PLAN-FREE-1", station_id=station.pk, evse_id=1).accepted


def test_the_policy_refuses_lapsed_and_uncovered_ports(alpha, station_with_ports):
    token_create(uid="PLAN-TAG-1")
    station = station_with_ports(2)
    other = station_with_ports(1)
    today = selectors.tenant_today(alpha)
    old = order(alpha, quantity=1, starts_on=today - dt.timedelta(days=500))
    services.port_activate(tenant=alpha, station=station, evse_id=1, order=old, day=old.starts_on)
    current = order(alpha, quantity=1, starts_on=today)
    services.port_activate(tenant=alpha, station=station, evse_id=2, order=current)

    def status(station_id, evse_id=None):
        return authorize(uid="PLAN-TAG-1", station_id=station_id, evse_id=evse_id).status

    assert status(station.pk, 1) == AuthorizationStatus.BLOCKED  # lapsed
    assert status(station.pk, 2) == AuthorizationStatus.ACCEPTED
    assert status(station.pk) == AuthorizationStatus.ACCEPTED  # one port may start
    assert status(other.pk, 1) == AuthorizationStatus.BLOCKED  # no seat
    assert status(other.pk) == AuthorizationStatus.BLOCKED
    assert authorize(uid="NOT-A-TAG", station_id=station.pk, evse_id=2).status == "Invalid"


# --- Reminders --------------------------------------------------------------------------------
def test_renewal_reminders_at_60_30_and_7_days_once_each(alpha, personas):
    placed = order(alpha, quantity=3, starts_on=dt.date(2026, 3, 1))  # expires 2027-03-01
    connection.set_schema_to_public()
    try:
        sent = []
        for day in [dt.date(2026, 12, 30), dt.date(2026, 12, 31), dt.date(2027, 1, 1)]:
            sent.append(services.plan_reminders_send(today=day))
        assert sent == [0, 1, 0]  # 60 days before: 2026-12-31, sent once
        assert services.plan_reminders_send(today=dt.date(2027, 1, 30)) == 1  # 30 days
        assert services.plan_reminders_send(today=dt.date(2027, 2, 25)) == 1  # 5 days: the 7
        assert services.plan_reminders_send(today=dt.date(2027, 2, 26)) == 0
    finally:
        connection.set_tenant(alpha)
    assert list(
        PlanReminder.objects.filter(order=placed)
        .order_by("-days_before")
        .values_list("days_before", flat=True)
    ) == [60, 30, 7]
    # the tenant's admins (site admin on all sites), not the delegate or the fleet manager
    assert {m.to[0] for m in mail.outbox} == {"owner@alpha.test"}
    assert len(mail.outbox) == 3
    assert "CPCLD-COMMERCIAL-1" in mail.outbox[0].subject and "60" in mail.outbox[0].subject


def test_an_order_placed_late_gets_only_the_nearest_reminder(alpha, personas):
    order(alpha, quantity=1, starts_on=dt.date(2026, 1, 1))  # expires 2027-01-01
    connection.set_schema_to_public()
    try:
        assert services.plan_reminders_send(today=dt.date(2026, 12, 28)) == 1
        assert services.plan_reminders_send(today=dt.date(2026, 12, 29)) == 0
    finally:
        connection.set_tenant(alpha)
    assert list(PlanReminder.objects.values_list("days_before", flat=True)) == [7]


def test_a_renewed_order_gets_no_reminder(alpha, personas):
    placed = order(alpha, quantity=1, starts_on=dt.date(2026, 1, 1))
    services.plan_order_renew(order=placed)
    connection.set_schema_to_public()
    try:
        assert services.plan_reminders_send(today=dt.date(2026, 12, 28)) == 0
    finally:
        connection.set_tenant(alpha)


def test_reminders_are_scheduled_by_beat():
    from config.celery import app

    app.loader.import_default_modules()
    from config.celery import _merge_app_schedules

    _merge_app_schedules(sender=app)
    entry = app.conf.beat_schedule["plans-renewal-reminders"]
    assert entry["task"] == "plans.send_reminders"
    assert "plans.send_reminders" in app.tasks


# --- Portal and API ---------------------------------------------------------------------------
def test_the_plan_page_shows_seats_expiries_and_why_a_port_refuses(
    alpha, personas, client_for, station_with_ports
):
    station = station_with_ports(2)
    placed = order(alpha, code="CTSW-SAS-COMM-2", quantity=3)
    services.port_activate(tenant=alpha, station=station, evse_id=1)
    page = client_for(personas.owner).get(reverse("plans:overview"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "CPCLD-COMMERCIAL-2" in html and "CTSW-SAS-COMM-2" in html
    assert "1 of 3 port seats in use" in html
    assert "No plan: new sessions refused" in html  # port 2
    # activate port 2 from the page
    evse = station.evses.get(evse_id=2)
    response = client_for(personas.owner).post(
        reverse("plans:port_activate", args=[evse.pk]), {"order": placed.pk}
    )
    assert response.status_code == 302
    assert PortActivation.objects.filter(station_pk=station.pk, released_at=None).count() == 2
    # the station page says it too
    detail = client_for(personas.owner).get(reverse("stations:station_detail", args=[station.pk]))
    assert "Cloud plan" in detail.content.decode()
    # a site-scoped delegate and a person without a role get nothing
    assert client_for(personas.delegate).get(reverse("plans:overview")).status_code == 403
    assert client_for(personas.outsider).get(reverse("plans:overview")).status_code == 403


@pytest.fixture
def back_to_default_language():
    """A French request leaves French active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


def test_the_plan_page_in_french(alpha, personas, client_for, settings, back_to_default_language):
    order(alpha, code="CTSW-SAS-COMM-DC-2")
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse("plans:overview")).content.decode()
    assert "Forfaits infonuagiques" in html and "Commandes" in html
    assert "Commercial CC" in html and "commandé sous CTSW-SAS-COMM-DC-2" in html


def test_the_api_lists_only_this_tenants_plans(alpha, beta, personas, station_with_ports):
    mine = order(alpha, quantity=1)
    theirs = order(beta, quantity=9)
    station = station_with_ports(1)
    owner = api_client(alpha, user=personas.owner)
    rows = results(owner.get("/api/v1/plans/orders/"))
    assert [row["id"] for row in rows] == [mine.pk] and theirs.pk != mine.pk
    created = owner.post(
        "/api/v1/plans/ports/", {"station": station.pk, "evse_id": 1}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["order_code"] == "CPCLD-COMMERCIAL-1"
    full = owner.post("/api/v1/plans/ports/", {"station": station.pk, "evse_id": 1}, format="json")
    assert full.status_code == 400
    released = owner.post(
        "/api/v1/plans/ports/release/", {"activation": created.json()["id"]}, format="json"
    )
    assert released.status_code == 200 and released.json()["released_at"]
    # beta's owner never sees alpha's seat
    connection.set_tenant(beta)
    from apps.accounts.models import User

    beta_owner = User.objects.get(email="owner@beta.test")
    connection.set_tenant(alpha)
    beta_rows = results(api_client(beta, user=beta_owner).get("/api/v1/plans/ports/"))
    assert beta_rows == []
    assert PlanOrder.every_tenant.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
