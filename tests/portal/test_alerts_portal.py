"""The portal's alert pages: severity and acknowledgement on the list and the page; the
delegate who runs a site acknowledges and resolves its alerts (audited, through the same
services as the API); viewers and fleet managers may not; other sites' and other tenants'
alerts do not exist; a closed alert says so."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.monitoring.models import Alert
from apps.roles.services import role_assign, role_by_slug
from tests.factories import UserFactory
from tests.portal.factories import make_station
from tests.queued import record_tasks


@pytest.fixture(autouse=True)
def quiet_announcements(monkeypatch):
    """Resolving announces the clear (webhooks, live pages, e-mail): not what is tested here."""
    from apps.core import broadcast

    record_tasks(monkeypatch, "monitoring.alert_notify", lambda *args: None)
    monkeypatch.setattr(broadcast, "group_send", lambda group, message: None)


@pytest.fixture
def stations(personas, alpha_sites):
    a1, a2 = alpha_sites
    return make_station(a1, "ALR-A1", statuses=("Available", "Available")), make_station(
        a2, "ALR-A2", statuses=("Available",)
    )


@pytest.fixture
def a1_alert(stations):
    return Alert.objects.create(
        station=stations[0], kind="offline", severity="critical", message="gone quiet"
    )


@pytest.fixture
def a2_alert(stations):
    return Alert.objects.create(station=stations[1], kind="offline", severity="critical")


@pytest.fixture
def viewer(personas, alpha_sites):
    user = UserFactory(email="viewer@alpha.test")
    role_assign(
        user=user, role=role_by_slug("viewer"), sites=[alpha_sites[0]], granted_by=personas.owner
    )
    return user


def ack_url(alert):
    return reverse("monitoring:alert_acknowledge", args=[alert.pk])


def resolve_url(alert):
    return reverse("monitoring:alert_resolve", args=[alert.pk])


def detail_url(alert):
    return reverse("monitoring:alert_detail", args=[alert.pk])


def test_list_and_page_show_severity_and_acknowledgement(a1_alert, personas, client_for):
    from django.utils import timezone

    Alert.objects.filter(pk=a1_alert.pk).update(
        acknowledged_at=timezone.now(), acknowledged_by="tech@installer.test", note="on the way"
    )
    client = client_for(personas.owner)
    page = client.get(reverse("monitoring:alert_list")).content.decode()
    assert 'class="status severity critical faulted"' in page
    assert "tech@installer.test" in page and "on the way" in page
    assert detail_url(a1_alert) in page
    page = client.get(detail_url(a1_alert)).content.decode()
    assert "Critical" in page and "tech@installer.test" in page and "on the way" in page
    assert "csrfmiddlewaretoken" in page
    assert resolve_url(a1_alert) in page
    assert ack_url(a1_alert) not in page  # already acknowledged: only resolving is left


def test_list_filters_by_severity_and_acknowledgement(stations, personas, client_for):
    from django.utils import timezone

    Alert.objects.create(station=stations[0], kind="offline", severity="critical", message="CRIT")
    evse = stations[0].evses.get(evse_id=2)
    Alert.objects.create(
        station=stations[0],
        evse=evse,
        kind="faulted",
        severity="warning",
        message="WARN",
        raised_at=timezone.now() - dt.timedelta(minutes=5),
        acknowledged_at=timezone.now(),
        acknowledged_by="someone",
    )
    client = client_for(personas.owner)
    url = reverse("monitoring:alert_list")
    page = client.get(url).content.decode()
    assert 'name="severity"' in page and 'name="is_acknowledged"' in page
    page = client.get(url, {"severity": "warning"}).content.decode()
    assert "WARN" in page and "CRIT" not in page
    page = client.get(url, {"is_acknowledged": "false"}).content.decode()
    assert "CRIT" in page and "WARN" not in page
    page = client.get(url, {"is_acknowledged": "true"}).content.decode()
    assert "WARN" in page and "CRIT" not in page


def test_delegate_acknowledges_then_resolves_through_the_portal(a1_alert, personas, client_for):
    client = client_for(personas.delegate)
    page = client.get(detail_url(a1_alert)).content.decode()
    assert ack_url(a1_alert) in page and resolve_url(a1_alert) in page

    response = client.post(ack_url(a1_alert), {"note": "Technician on the way"}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(a1_alert)
    assert "Alert acknowledged." in response.content.decode()
    a1_alert.refresh_from_db()
    assert a1_alert.is_acknowledged and a1_alert.is_open
    assert a1_alert.acknowledged_by == "delegate@installer.test"
    assert a1_alert.note == "Technician on the way"

    response = client.post(ack_url(a1_alert), {"note": "again"}, follow=True)
    assert "already acknowledged by delegate@installer.test" in response.content.decode()
    a1_alert.refresh_from_db()
    assert a1_alert.note == "Technician on the way"  # the first acknowledgement stands

    response = client.post(resolve_url(a1_alert), {"note": "Breaker reset"}, follow=True)
    assert "Alert resolved." in response.content.decode()
    a1_alert.refresh_from_db()
    assert not a1_alert.is_open and a1_alert.resolved_by == "delegate@installer.test"
    assert a1_alert.note == "Breaker reset"

    entries = AuditEntry.objects.filter(object_id=str(a1_alert.pk)).order_by("pk")
    assert [(e.action, e.source, e.actor_label) for e in entries] == [
        ("alert.acknowledge", "portal", "delegate@installer.test"),
        ("alert.acknowledge", "portal", "delegate@installer.test"),
        ("alert.resolve", "portal", "delegate@installer.test"),
    ]
    assert entries[0].changes == {"note": "Technician on the way"}
    assert entries[0].site_id == a1_alert.station.site_id


def test_a_closed_alert_says_so(a1_alert, personas, client_for):
    from django.utils import timezone

    Alert.objects.filter(pk=a1_alert.pk).update(cleared_at=timezone.now())
    client = client_for(personas.delegate)
    page = client.get(detail_url(a1_alert)).content.decode()
    assert "This alert has closed" in page
    assert ack_url(a1_alert) not in page and resolve_url(a1_alert) not in page
    for url in (ack_url(a1_alert), resolve_url(a1_alert)):
        response = client.post(url, follow=True)
        assert response.status_code == 200
        assert "This alert has already closed" in response.content.decode()
    a1_alert.refresh_from_db()
    assert not a1_alert.is_acknowledged and a1_alert.resolved_by == ""
    assert not AuditEntry.objects.filter(action__startswith="alert.").exists()


@pytest.mark.parametrize("who", ["viewer", "fleet_manager"])
def test_viewer_and_fleet_manager_see_but_may_not_handle(
    who, a1_alert, personas, viewer, client_for
):
    user = viewer if who == "viewer" else personas.fleet_manager
    client = client_for(user)
    page = client.get(detail_url(a1_alert))
    assert page.status_code == 200
    assert ack_url(a1_alert) not in page.content.decode()
    assert resolve_url(a1_alert) not in page.content.decode()
    assert client.post(ack_url(a1_alert), {"note": "x"}).status_code == 403
    assert client.post(resolve_url(a1_alert), {"note": "x"}).status_code == 403
    a1_alert.refresh_from_db()
    assert a1_alert.is_open and not a1_alert.is_acknowledged and a1_alert.note == ""
    assert not AuditEntry.objects.filter(action__startswith="alert.").exists()


def test_manager_of_one_site_who_sees_another_gets_403_there(a2_alert, personas, client_for):
    # The delegate also views A2, but manages alerts only on A1.
    role_assign(
        user=personas.delegate,
        role=role_by_slug("viewer"),
        sites=[a2_alert.station.site],
        granted_by=personas.owner,
    )
    client = client_for(personas.delegate)
    assert client.get(detail_url(a2_alert)).status_code == 200
    assert client.post(resolve_url(a2_alert)).status_code == 403
    a2_alert.refresh_from_db()
    assert a2_alert.is_open


def test_other_sites_and_other_tenants_alerts_are_404(a2_alert, personas, client_for, alpha, beta):
    from django.db import connection

    delegate = client_for(personas.delegate)  # site A1 only
    assert delegate.get(detail_url(a2_alert)).status_code == 404
    assert delegate.post(ack_url(a2_alert)).status_code == 404
    assert delegate.post(resolve_url(a2_alert)).status_code == 404
    other = client_for(personas.other_tenant_user, tenant=beta)  # on their own host
    assert other.get(detail_url(a2_alert)).status_code == 404
    assert other.post(ack_url(a2_alert)).status_code == 404
    assert other.post(resolve_url(a2_alert)).status_code == 404
    connection.set_tenant(alpha)  # the requests on beta's host left the connection there
    a2_alert.refresh_from_db()
    assert a2_alert.is_open and not a2_alert.is_acknowledged


def test_french_alert_page(a1_alert, personas, client_for):
    from django.conf import settings

    client = client_for(personas.delegate)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(detail_url(a1_alert)).content.decode()
    assert "Critique" in page and "Prendre en charge" in page and "Résoudre" in page
