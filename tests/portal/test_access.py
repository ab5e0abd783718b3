"""Every portal page, for every persona, from one table: another tenant's user and a user
without the role get nothing; a delegate gets only their site.  A portal URL that is not in
the table fails ``test_every_portal_page_is_in_the_table``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import host_of

# The namespaces of the portal's pages (the API, admin and sign-in have their own tests).
PORTAL_NAMESPACES = {"core", "dashboard", "stations", "charging", "monitoring", "roles"}
# What must never appear on a page shown to someone outside site A2.
A2_MARKERS = ("A2-CHARGER", "A2-TOKEN", "A2 Depot")
ALPHA_MARKERS = ("A1-CHARGER", "A2-CHARGER", "A1-TOKEN", "A2-TOKEN", "A1 Garage")


@dataclass(frozen=True)
class Page:
    name: str
    # Arguments of the URL, pointing at something on site A2 (outside the delegate's scope).
    args: Callable = field(default=lambda net, personas: [])
    method: str = "get"
    data: Callable = field(default=lambda net, personas: {})
    # What the delegate (configure stations, site A1 only) gets: "scoped" (200 without A2's
    # things), 403 or 404.
    delegate: object = "scoped"
    owner: int = 200
    public: bool = False
    # A redirect that shows nothing (the home address), the same for everyone.
    redirect: bool = False


def _a2_station(net, personas):
    return [net.a2_station.pk]


def _delegate_assignment(net, personas):
    return [personas.delegate.role_assignments.get().pk]


def _a2_evse(net, personas):
    return [net.a2_station.evses.order_by("evse_id").first().pk]


def _a2_connector(net, personas):
    from apps.stations.models import Connector

    return [Connector.objects.filter(evse__station=net.a2_station).order_by("pk").first().pk]


def _api_key(net, personas):
    from apps.roles.services import api_key_create

    key, _ = api_key_create(
        name="BMS", created_by=personas.owner, permissions=["sites.view"], all_sites=True
    )
    return [key.pk]


def _token(net, personas):
    from apps.charging.models import IdToken

    token, _ = IdToken.objects.get_or_create(uid="A2-TOKEN-CARD", defaults={"label": "A2"})
    return [token.pk]


def _a2_site(net, personas):
    return [net.a2_station.site_id]


def _a2_alert(net, personas):
    from apps.monitoring.models import Alert

    alert, _ = Alert.objects.get_or_create(
        station=net.a2_station, kind="offline", cleared_at=None, defaults={"message": "gone"}
    )
    return [alert.pk]


def _bulk_job(net, personas):
    """A bulk command over site A2's station (outside the delegate's site)."""
    from apps.monitoring.models import BulkCommand, BulkCommandItem

    job = BulkCommand.objects.create(command="reset", arguments={"kind": "soft"})
    BulkCommandItem.objects.create(job=job, station=net.a2_station)
    return [job.pk]


PAGES = [
    Page("core:dashboard", owner=302, redirect=True),
    Page("dashboard:home"),
    Page("dashboard:map"),
    Page("stations:site_list"),
    Page("stations:site_detail", args=lambda net, p: [net.a2_station.site_id], delegate=404),
    Page("stations:station_list"),
    Page("stations:station_detail", args=_a2_station, delegate=404),
    Page("stations:station_live_fragment", args=_a2_station, delegate=404),
    Page("stations:station_messages", args=_a2_station, delegate=404),
    Page("stations:station_message_limits", args=_a2_station, delegate=404),
    Page(
        "stations:station_reset",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"reset-reset_type": "Immediate"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_unlock",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"unlock-evse_id": "1"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_availability",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"availability-evse_id": "0", "availability-operative": "0"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_trigger",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"trigger-message": "Heartbeat"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_configuration_read",
        args=_a2_station,
        method="post",
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_password_rotate",
        args=_a2_station,
        method="post",
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_configuration_change",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "configuration_change-key": "OCPPCommCtrlr.HeartbeatInterval",
            "configuration_change-value": "60",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_remote_start",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"remote_start-evse_id": "1", "remote_start-id_token": "X1"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_remote_stop",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"remote_stop-session": str(net.a2_session.pk)},
        delegate=404,
        owner=302,
    ),
    # inventory and tokens, edited from the portal (issue 13); the search box
    Page("stations:search"),
    Page("stations:site_create", delegate=403),
    Page("stations:site_edit", args=_a2_site, delegate=403),
    Page("stations:site_delete", args=_a2_site, method="post", delegate=403, owner=302),
    Page("stations:station_register"),
    Page("stations:station_edit", args=_a2_station, delegate=404),
    Page("stations:station_password", args=_a2_station, method="post", delegate=404),
    # issue 13 parity: archiving sites, retiring stations, ports and connectors
    Page("stations:site_archive", args=_a2_site, method="post", delegate=403, owner=302),
    Page("stations:site_restore", args=_a2_site, method="post", delegate=403, owner=302),
    Page("stations:station_retire", args=_a2_station, method="post", delegate=404, owner=302),
    Page("stations:evse_create", args=_a2_station, delegate=404),
    Page("stations:evse_edit", args=_a2_evse, delegate=404),
    Page("stations:connector_edit", args=_a2_connector, delegate=404),
    Page("charging:token_list", delegate=403),
    Page("charging:token_create", delegate=403),
    Page("charging:token_edit", args=_token, delegate=403),
    Page("charging:token_delete", args=_token, method="post", delegate=403, owner=302),
    Page("charging:session_list"),
    Page("charging:session_export"),
    Page("charging:session_detail", args=lambda net, p: [net.a2_session.pk], delegate=404),
    Page("monitoring:alert_list"),
    Page("monitoring:alert_detail", args=_a2_alert, delegate=404),
    Page("monitoring:alert_acknowledge", args=_a2_alert, method="post", delegate=404, owner=302),
    Page("monitoring:alert_resolve", args=_a2_alert, method="post", delegate=404, owner=302),
    Page("monitoring:subscription"),
    Page("monitoring:uptime"),
    Page("audit:entry_list", delegate=403),
    Page("roles:assignment_list", delegate=403),
    Page("roles:assignment_invite", delegate=403),
    Page("roles:assignment_grant", delegate=403),
    Page(
        "roles:assignment_revoke", args=_delegate_assignment, method="post", delegate=403, owner=302
    ),
    Page("roles:api_key_list", delegate=403),
    # Command forms (reservations, smart charging, local list, logs, firmware, display).
    Page(
        "stations:station_reserve",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "reserve-evse_id": "1",
            "reserve-id_token": "T1",
            "reserve-minutes": "30",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_cancel_reservation",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"cancel_reservation-reservation_id": "5"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_charging_profile_set",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "charging_profile_set-purpose": "station_max",
            "charging_profile_set-evse_id": "0",
            "charging_profile_set-limit": "16",
            "charging_profile_set-unit": "A",
            "charging_profile_set-hours": "0",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_charging_profile_clear",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"charging_profile_clear-purpose": "station_max"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_composite_schedule",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "composite_schedule-evse_id": "1",
            "composite_schedule-hours": "1",
            "composite_schedule-unit": "A",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_local_list_version",
        args=_a2_station,
        method="post",
        data=lambda net, p: {},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_local_list_send",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "local_list_send-full": "1",
            "local_list_send-tokens": "T1",
            "local_list_send-status": "Accepted",
            "local_list_send-list_version": "7",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_logs_upload",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "logs_upload-location": "https://logs.example.com/",
            "logs_upload-hours": "1",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_firmware_update",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "firmware_update-location": "https://fw.example.com/x.bin",
            "firmware_update-delay_minutes": "0",
            "firmware_update-retries": "1",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_display_message",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "display_message-text": "Hi",
            "display_message-priority": "NormalCycle",
            "display_message-hours": "0",
            "display_message-message_id": "1",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_display_messages_get",
        args=_a2_station,
        method="post",
        data=lambda net, p: {},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_display_message_clear",
        args=_a2_station,
        method="post",
        data=lambda net, p: {"display_message_clear-message_id": "1"},
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_data_transfer",
        args=_a2_station,
        method="post",
        data=lambda net, p: {
            "data_transfer-vendor_id": "acme",
            "data_transfer-message_id": "m",
            "data_transfer-data": "x",
        },
        delegate=404,
        owner=302,
    ),
    Page(
        "stations:station_report_request",
        args=_a2_station,
        method="post",
        data=lambda net, p: {},
        delegate=404,
        owner=302,
    ),
    Page("stations:bulk_command"),
    Page("stations:bulk_command_detail", args=_bulk_job, delegate=404),
    Page("roles:api_key_create", delegate=403),
    Page("roles:api_key_revoke", args=_api_key, method="post", delegate=403, owner=302),
    # The invitation link is public by design; a wrong token shows nothing but "expired".
    Page("roles:welcome", args=lambda net, p: ["MQ", "wrong-token"], public=True),
]
PAGE_IDS = [page.name for page in PAGES]


def _portal_url_names(resolver=None, namespace: str = "") -> set[str]:
    resolver = resolver or get_resolver("config.urls")
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            if inner and inner not in PORTAL_NAMESPACES:
                continue
            names |= _portal_url_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name and namespace:
            names.add(f"{namespace}:{entry.name}")
    return names


def test_every_portal_page_is_in_the_table():
    missing = _portal_url_names() - set(PAGE_IDS)
    assert not missing, f"Portal pages without an access test: {sorted(missing)}"
    assert len(PAGE_IDS) == len(set(PAGE_IDS))


@pytest.fixture
def offline_station(monkeypatch):
    """Commands sent by the owner in this table reach no station: the station is offline."""
    from apps.ocpp import commands

    def offline(*args, **kwargs):
        raise commands.StationOffline("The station is offline.")

    monkeypatch.setattr(commands, "station_call", offline)


def _request(client, page: Page, network, personas):
    url = reverse(page.name, args=page.args(network, personas))
    if page.method == "post":
        return client.post(url, page.data(network, personas))
    return client.get(url)


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_owner_gets_the_page(page, network, personas, client_for, offline_station):
    response = _request(client_for(personas.owner), page, network, personas)
    assert response.status_code == page.owner, _text(response)[:500]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_user_without_a_role_gets_nothing(page, network, personas, client_for):
    response = _request(client_for(personas.outsider), page, network, personas)
    if page.redirect:
        assert response.status_code == 302 and not _text(response)
    elif page.public:
        assert response.status_code == 200
        assert not any(marker in _text(response) for marker in ALPHA_MARKERS)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_anonymous_is_sent_to_sign_in(page, network, personas, client_for):
    response = _request(client_for(None), page, network, personas)
    if page.public:
        assert response.status_code == 200
        return
    assert response.status_code == 302
    if not page.redirect:
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_other_tenant_user_gets_nothing(page, network, personas, client_for, alpha, beta):
    # Their session does not exist in alpha: on alpha's host they are nobody.
    client = client_for(personas.other_tenant_user, tenant=beta)
    client.defaults["HTTP_HOST"] = host_of(alpha)
    response = _request(client, page, network, personas)
    assert response.status_code in (302, 200 if page.public else 302)
    assert not any(marker in _text(response) for marker in ALPHA_MARKERS)
    # On their own host, alpha's objects do not exist and alpha's lists are not theirs.
    response = _request(
        client_for(personas.other_tenant_user, tenant=beta), page, network, personas
    )
    assert response.status_code in (200, 302, 404)
    assert not any(marker in _text(response) for marker in ALPHA_MARKERS)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_delegate_gets_only_their_site(page, network, personas, client_for, offline_station):
    response = _request(client_for(personas.delegate), page, network, personas)
    if page.public or page.redirect:
        return
    if page.delegate == "scoped":
        assert response.status_code in (200, 302)
        text = _text(response)
        leaked = [marker for marker in A2_MARKERS if marker in text]
        assert not leaked, f"{page.name} shows {leaked} to a delegate of A1"
    else:
        assert response.status_code == page.delegate
