"""Remote control from the station page: the command reaches the command service in the
station's OCPP version, the station's answer is shown, and an audit entry is written."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from apps.audit.models import AuditEntry

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def station_calls(monkeypatch):
    """The OCPP command service, answering like a station; records what was sent."""
    from apps.ocpp import commands

    sent: list[tuple[str, str, dict]] = []
    answers = {
        "Reset": {"status": "Accepted"},
        "UnlockConnector": {"status": "Unlocked"},
        "ChangeAvailability": {"status": "Scheduled"},
        "TriggerMessage": {"status": "Rejected"},
        "GetConfiguration": {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            "unknownKey": ["Nope"],
        },
        "ChangeConfiguration": {"status": "RebootRequired"},
        "GetVariables": {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "60",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
        "RemoteStartTransaction": {"status": "Accepted"},
        "RemoteStopTransaction": {"status": "Accepted"},
    }

    def station_call(station, action, payload, *, timeout=None, validate=True):
        commands.validate_action_payload(station.ocpp_version, action, payload)
        sent.append((station.identity, action, payload))
        if action == "SetVariables":  # the station accepts what it was asked to set
            return {
                "setVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "component": item["component"],
                        "variable": item["variable"],
                    }
                    for item in payload["setVariableData"]
                ]
            }
        return answers[action]

    monkeypatch.setattr(commands, "station_call", station_call)
    return sent


def post(client, name, station, data, **extra):
    return client.post(reverse(name, args=[station.pk]), data, **extra)


def test_reset_shows_the_answer_and_is_audited(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    station = network.a1_station  # OCPP 1.6
    response = post(client, "stations:station_reset", station, {"reset-reset_type": "Soft"}, **HTMX)
    assert response.status_code == 200
    assert station_calls == [("A1-CHARGER-1", "Reset", {"type": "Soft"})]
    html = response.content.decode()
    assert 'data-status="Accepted"' in html and "The station answered Accepted." in html
    entry = AuditEntry.objects.get(action="station.reset")
    assert entry.object_id == str(station.pk) and entry.succeeded
    assert entry.user == personas.owner and entry.source == "portal"
    assert entry.changes["responses"] == [{"status": "Accepted"}]
    assert entry.site == station.site


def test_commands_follow_the_station_version(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    v201 = network.a2_station
    post(client, "stations:station_reset", v201, {"reset-reset_type": "Immediate"}, **HTMX)
    post(client, "stations:station_unlock", v201, {"unlock-evse_id": "1"}, **HTMX)
    post(
        client,
        "stations:station_availability",
        v201,
        {"availability-evse_id": "1", "availability-operative": "0"},
        **HTMX,
    )
    post(
        client,
        "stations:station_trigger",
        v201,
        {"trigger-message": "StatusNotification", "trigger-evse_id": "1"},
        **HTMX,
    )
    assert [call[1:] for call in station_calls] == [
        ("Reset", {"type": "Immediate"}),
        ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
        ("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}),
        ("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1}}),
    ]
    v16 = network.a1_station
    station_calls.clear()
    post(client, "stations:station_unlock", v16, {"unlock-evse_id": "2"}, **HTMX)
    post(
        client,
        "stations:station_availability",
        v16,
        {"availability-evse_id": "0", "availability-operative": "1"},
        **HTMX,
    )
    assert [call[1:] for call in station_calls] == [
        ("UnlockConnector", {"connectorId": 2}),
        ("ChangeAvailability", {"connectorId": 0, "type": "Operative"}),
    ]


def test_a_rejection_is_shown_as_a_failure(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    response = post(
        client,
        "stations:station_trigger",
        network.a1_station,
        {"trigger-message": "Heartbeat"},
        **HTMX,
    )
    assert 'class="outcome failed"' in response.content.decode()
    assert not AuditEntry.objects.get(action="station.trigger_message").succeeded


def test_configuration_read_and_change(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    html = post(
        client, "stations:station_configuration_read", network.a1_station, {}, **HTMX
    ).content.decode()
    assert "HeartbeatInterval" in html and "300" in html and "UnknownKey" in html
    html = post(
        client,
        "stations:station_configuration_change",
        network.a1_station,
        {"configuration_change-key": "HeartbeatInterval", "configuration_change-value": "60"},
        **HTMX,
    ).content.decode()
    assert "RebootRequired" in html
    html = post(
        client,
        "stations:station_configuration_read",
        network.a2_station,
        {"configuration_read-keys": "OCPPCommCtrlr.HeartbeatInterval"},
        **HTMX,
    ).content.decode()
    assert "OCPPCommCtrlr.HeartbeatInterval" in html and "60" in html
    assert station_calls[-1][1:] == (
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
    )
    # 2.0.1 keys are Component.Variable: a bare name is refused before anything is sent.
    sent = len(station_calls)
    html = post(
        client,
        "stations:station_configuration_change",
        network.a2_station,
        {"configuration_change-key": "HeartbeatInterval", "configuration_change-value": "1"},
        **HTMX,
    ).content.decode()
    assert "Component.Variable" in html and len(station_calls) == sent
    assert AuditEntry.objects.filter(action__startswith="station.configuration").count() == 3


@pytest.fixture
def remote_starts(monkeypatch):
    """Remote starts queued for the worker (recorded here, run by the test) and what the
    worker publishes on the live feed."""
    from apps.monitoring.services import remote
    from tests.queued import record_tasks

    queued: list[tuple] = []
    published: list[dict] = []
    record_tasks(
        monkeypatch, "monitoring.remote_start", lambda *args, **options: queued.append(args)
    )
    monkeypatch.setattr(remote, "publish_live", published.append)
    return queued, published


def run_queued(args: tuple) -> dict:
    from apps.monitoring.services.remote import remote_start_run

    ref, user_id, station_id, evse_id, id_token, ip, language = args
    return remote_start_run(
        ref=ref,
        user_id=user_id,
        station_id=station_id,
        evse_id=evse_id,
        id_token=id_token,
        ip=ip,
        language=language,
    )


def test_remote_start_answers_at_once_and_the_worker_publishes_the_answer(
    network, personas, client_for, station_calls, remote_starts, django_capture_on_commit_callbacks
):
    queued, published = remote_starts
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            "stations:station_remote_start",
            network.a1_station,
            {"remote_start-evse_id": "1", "remote_start-id_token": "DRIVER-7"},
            **HTMX,
        )
    html = response.content.decode()
    # At once: nothing was sent to the station by the web request.
    assert station_calls == [] and 'data-status="Sent"' in html
    assert "en attente de la réponse de la borne" in html
    assert len(queued) == 1
    ref = queued[0][0]
    assert f'data-command-ref="{ref}"' in html and 'data-evse="1"' in html
    assert queued[0][1:5] == (personas.owner.pk, network.a1_station.pk, 1, "DRIVER-7")
    assert queued[0][6] == "fr"

    message = run_queued(queued[0])
    assert station_calls[-1] == (
        "A1-CHARGER-1",
        "RemoteStartTransaction",
        {"connectorId": 1, "idTag": "DRIVER-7"},
    )
    assert published == [message]
    assert message["kind"] == "command" and message["ref"] == ref and message["ok"] is True
    assert message["station_id"] == network.a1_station.pk
    assert message["site_id"] == network.a1_station.site_id and message["evse_id"] == 1
    assert message["message"].startswith("La borne a accepté"), message["message"]
    entry = AuditEntry.objects.get(action="session.remote_start")
    assert entry.user == personas.owner and entry.source == "portal"


def test_a_refused_remote_start_is_published_as_failed(
    network, personas, client_for, station_calls, remote_starts, monkeypatch
):
    from apps.ocpp import commands

    queued, published = remote_starts
    original = commands.station_call

    def refuse(station, action, payload, **kwargs):
        if action == "RemoteStartTransaction":
            original(station, action, payload, **kwargs)
            return {"status": "Rejected"}
        return original(station, action, payload, **kwargs)

    monkeypatch.setattr(commands, "station_call", refuse)
    message = run_queued(
        ("r1", personas.owner.pk, network.a1_station.pk, 1, "DRIVER-7", None, "en")
    )
    assert message["ok"] is False and message["status"] == "Rejected"
    assert published == [message]


def test_a_remote_start_checks_the_permission_again_in_the_worker(
    network, personas, station_calls, remote_starts
):
    """The worker sends as the person: a delegate of site A1 cannot start on A2's station,
    even with a forged task."""
    queued, published = remote_starts
    message = run_queued(
        ("r2", personas.delegate.pk, network.a2_station.pk, 1, "DRIVER-7", None, "en")
    )
    assert message["ok"] is False and message["status"] == "PermissionDenied"
    assert station_calls == []


def test_remote_start_and_stop(network, personas, client_for, station_calls, remote_starts):
    client = client_for(personas.owner)
    post(
        client,
        "stations:station_remote_start",
        network.a1_station,
        {"remote_start-evse_id": "1", "remote_start-id_token": "DRIVER-7"},
        **HTMX,
    )
    html = post(
        client,
        "stations:station_remote_stop",
        network.a1_station,
        {"remote_stop-session": str(network.a1_session.pk)},
        **HTMX,
    ).content.decode()
    assert "Accepted" in html
    assert station_calls[-1] == (
        "A1-CHARGER-1",
        "RemoteStopTransaction",
        {"transactionId": int(network.a1_session.transaction_id)},
    )
    assert "session.remote_stop" in set(AuditEntry.objects.values_list("action", flat=True))
    # A session of another station cannot be stopped through this one.
    response = post(
        client,
        "stations:station_remote_stop",
        network.a1_station,
        {"remote_stop-session": str(network.a2_session.pk)},
        **HTMX,
    )
    assert "The command was not sent" in response.content.decode()


def test_without_htmx_the_answer_comes_back_as_a_message(
    network, personas, client_for, station_calls
):
    client = client_for(personas.owner)
    response = post(
        client,
        "stations:station_reset",
        network.a1_station,
        {"reset-reset_type": "Hard"},
        follow=True,
    )
    assert "Reset: The station answered Accepted." in response.content.decode()


def test_offline_station_answer_is_shown_and_audited(network, personas, client_for, monkeypatch):
    from apps.ocpp import commands

    def offline(*args, **kwargs):
        raise commands.StationOffline("The station is offline.")

    monkeypatch.setattr(commands, "station_call", offline)
    html = post(
        client_for(personas.owner),
        "stations:station_reset",
        network.a1_station,
        {"reset-reset_type": "Soft"},
        **HTMX,
    ).content.decode()
    assert "The station is offline." in html
    entry = AuditEntry.objects.get(action="station.reset")
    assert not entry.succeeded and entry.changes["status"] == "StationOffline"


def test_viewer_sees_no_remote_control_and_cannot_post(
    network, personas, client_for, station_calls
):
    from apps.roles.services import role_assign, role_by_slug
    from tests.factories import UserFactory

    viewer = UserFactory(email="viewer@alpha.test")
    role_assign(user=viewer, role=role_by_slug("viewer"), all_sites=True)
    client = client_for(viewer)
    page = client.get(reverse("stations:station_detail", args=[network.a1_station.pk]))
    assert page.status_code == 200 and 'id="remote-control"' not in page.content.decode()
    response = post(
        client, "stations:station_reset", network.a1_station, {"reset-reset_type": "Soft"}
    )
    assert response.status_code == 403
    assert station_calls == [] and not AuditEntry.objects.exists()


def test_delegate_commands_their_site_only(network, personas, client_for, station_calls):
    client = client_for(personas.delegate)
    page = client.get(reverse("stations:station_detail", args=[network.a1_station.pk]))
    assert 'id="remote-control"' in page.content.decode()
    ok = post(
        client, "stations:station_reset", network.a1_station, {"reset-reset_type": "Soft"}, **HTMX
    )
    assert ok.status_code == 200
    refused = post(
        client,
        "stations:station_reset",
        network.a2_station,
        {"reset-reset_type": "Immediate"},
        **HTMX,
    )
    assert refused.status_code == 404
    assert [call[0] for call in station_calls] == ["A1-CHARGER-1"]


def test_service_refuses_an_actor_without_the_permission(network, personas, station_calls):
    from django.core.exceptions import PermissionDenied

    from apps.ocpp.commands import Requester, station_reset
    from apps.roles.selectors import UserActor

    with pytest.raises(PermissionDenied):
        station_reset(
            requester=Requester(actor=UserActor(personas.delegate)), station=network.a2_station
        )
    assert station_calls == []


def test_rotate_password_from_the_portal(network, personas, client_for, station_calls):
    """The station page's "rotate password" sends a generated 16-40 character password
    (1.6 AuthorizationKey, 2.0.1 SecurityCtrlr.BasicAuthPassword) and stages it."""
    from apps.tenants.models import StationIdentity

    client = client_for(personas.owner)
    page = client.get(reverse("stations:station_detail", args=[network.a2_station.pk]))
    assert 'data-command="password_rotate"' in page.content.decode()
    html = post(
        client, "stations:station_password_rotate", network.a2_station, {}, **HTMX
    ).content.decode()
    assert 'class="outcome ok"' in html
    identity, action, payload = station_calls[-1]
    assert (identity, action) == (network.a2_station.identity, "SetVariables")
    (item,) = payload["setVariableData"]
    assert item["component"] == {"name": "SecurityCtrlr"}
    assert item["variable"] == {"name": "BasicAuthPassword"}
    assert 16 <= len(item["attributeValue"]) <= 40
    assert item["attributeValue"] not in html  # the new password is never shown
    registry = StationIdentity.objects.get(identity=network.a2_station.identity)
    assert (
        registry.pending_password_hash
    )  # staged: both passwords work until the station uses the new
    entry = AuditEntry.objects.get(action="station.password_rotate")
    assert item["attributeValue"] not in str(entry.changes)
    # A delegate of another site gets nothing.
    other = client_for(personas.delegate)
    assert post(other, "stations:station_password_rotate", network.a2_station, {}).status_code in (
        403,
        404,
    )
