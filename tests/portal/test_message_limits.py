"""A station's message limits (OCPP 2.0.1 B06-B08) from the portal: what the station reported,
overrides that win (through the service the API's ``message-limits`` endpoint calls), errors
shown next to their field, EN and FR, ``stations.configure`` on the station's site."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from apps.ocpp.selectors import station_message_limits
from apps.ocpp.services import message_limits_reported
from apps.roles.services import api_key_create

EMPTY = {
    f"{measure}_{request}": ""
    for measure in ("itemspermessage", "bytespermessage")
    for request in ("getvariables", "setvariables", "getreport")
}


def test_owner_overrides_what_the_station_reported(personas, client_for, network):
    station = network.a2_station  # 2.0.1
    message_limits_reported(
        station_id=station.pk,
        limits={"ItemsPerMessage/GetVariables": 4, "BytesPerMessage/GetVariables": 4096},
    )
    client = client_for(personas.owner)
    detail = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    url = reverse("stations:station_message_limits", args=[station.pk])
    assert url in detail
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    row = html[html.index("Items per GetVariables") :].split("</tr>")[0]
    assert "<td>4</td>" in row  # reported by the station

    saved = client.post(url, {**EMPTY, "itemspermessage_getvariables": "2"})
    assert saved.status_code == 302 and saved["Location"] == url
    limits = station_message_limits(station_id=station.pk)
    assert limits.overrides == {"ItemsPerMessage/GetVariables": 2}
    assert limits.effective == {
        "ItemsPerMessage/GetVariables": 2,  # the override wins
        "BytesPerMessage/GetVariables": 4096,  # the report where there is none
    }
    again = client.get(url).content.decode()
    assert 'name="itemspermessage_getvariables" value="2"' in again

    # emptied: the station's own figure counts again
    assert client.post(url, EMPTY).status_code == 302
    assert station_message_limits(station_id=station.pk).overrides == {}


def test_bad_figures_are_refused_next_to_their_field(personas, client_for, network):
    station = network.a2_station
    client = client_for(personas.owner)
    url = reverse("stations:station_message_limits", args=[station.pk])
    refused = client.post(
        url, {**EMPTY, "itemspermessage_setvariables": "0", "bytespermessage_getreport": "many"}
    )
    assert refused.status_code == 400
    form = refused.context["form"]
    assert set(form.errors) == {"itemspermessage_setvariables", "bytespermessage_getreport"}
    html = refused.content.decode()
    assert html.index("errorlist") < html.index('name="itemspermessage_setvariables"')
    assert station_message_limits(station_id=station.pk).overrides == {}

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.post(url, {**EMPTY, "itemspermessage_setvariables": "0"}).content.decode()
    for text in ("Limites des messages", "Éléments par SetVariables", "Signalé par la borne"):
        assert text in french, text


def test_the_api_and_the_portal_write_the_same_limits(personas, client_for, network):
    station = network.a2_station
    client = client_for()  # the API, with a key
    key = api_key_create(
        name="limits", created_by=personas.owner, permissions=["*"], all_sites=True
    )[1]
    put = client.put(
        f"/api/v1/stations/{station.pk}/message-limits/",
        {"overrides": {"BytesPerMessage/SetVariables": 2048}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert put.status_code == 200, put.content
    page = client_for(personas.owner).get(
        reverse("stations:station_message_limits", args=[station.pk])
    )
    assert 'name="bytespermessage_setvariables" value="2048"' in page.content.decode()
    bad = client.put(
        f"/api/v1/stations/{station.pk}/message-limits/",
        {"overrides": {"BytesPerMessage/SetVariables": 0}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert bad.status_code == 400


def test_only_those_who_configure_the_station_see_the_form(personas, client_for, network):
    a1_url = reverse("stations:station_message_limits", args=[network.a1_station.pk])
    a2_url = reverse("stations:station_message_limits", args=[network.a2_station.pk])
    delegate = client_for(personas.delegate)  # configures A1's stations only
    assert delegate.get(a1_url).status_code == 200
    assert delegate.get(a2_url).status_code == 404
    assert delegate.post(a2_url, {**EMPTY, "itemspermessage_getreport": "3"}).status_code == 404
    fleet = client_for(personas.fleet_manager)  # sees stations, configures none
    assert fleet.get(a1_url).status_code == 403
    assert fleet.post(a1_url, {**EMPTY, "itemspermessage_getreport": "3"}).status_code == 403
    detail = fleet.get(reverse("stations:station_detail", args=[network.a1_station.pk]))
    assert a1_url not in detail.content.decode()
    outsider = client_for(personas.outsider)
    assert outsider.get(a1_url).status_code in (403, 404)
    assert station_message_limits(station_id=network.a1_station.pk).overrides == {}
