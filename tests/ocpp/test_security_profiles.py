"""Security profiles 2 and 3 at the handshake, with TLS ended at a (pretended) reverse proxy.

Two real servers: one trusts 127.0.0.1 as its proxy (so the test client plays nginx), the
other trusts only 10.0.0.0/8 (so the same headers come from a station, and are ignored).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django_tenants.utils import tenant_context
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from apps.ocpp.handshake import (
    Transport,
    certificate_matches,
    is_trusted_proxy,
    parse_dn,
    transport_from,
)
from apps.stations.api.serializers import StationUpdateSerializer
from apps.stations.selectors import station_cso_name
from apps.stations.services import (
    station_register,
    station_security_settings_update,
    station_update,
)
from tests.live import ServerProcess, basic_auth, blocking, unique_identity

PROXY = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def behind_proxy(django_db_setup):
    """A server whose reverse proxy is 127.0.0.1: the test client's headers are believed."""
    process = ServerProcess("ocpp-proxied").start(OCPP_TRUSTED_PROXIES="127.0.0.1")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def direct(django_db_setup):
    """A server that trusts only 10.0.0.0/8: a client on 127.0.0.1 is a station, not a proxy."""
    process = ServerProcess("ocpp-direct").start(OCPP_TRUSTED_PROXIES="10.0.0.0/8")
    yield process
    process.stop()


@pytest.fixture
def station_with_profile(make_station, live_alpha):
    def make(profile: int):
        station, identity, password = make_station(evses=1)

        def change():
            with tenant_context(live_alpha):
                station_update(station=station, security_profile=profile)

        blocking(change)
        return identity, password

    return make


@pytest.fixture
def cso_name(live_alpha):
    """Sets the tenant's CSO name for one test, then clears it."""

    def set_name(name: str):
        def change():
            with tenant_context(live_alpha):
                station_security_settings_update(cso_name=name)

        blocking(change)

    yield set_name
    set_name("")


async def handshake(server, identity: str, headers: dict | None = None) -> int:
    """101 when the websocket was accepted, else the HTTP status of the refusal."""
    try:
        async with connect(
            f"{server.ws}/ocpp/{identity}",
            subprotocols=["ocpp1.6"],
            additional_headers=headers or {},
        ) as ws:
            assert ws.subprotocol == "ocpp1.6"
            return 101
    except InvalidStatus as error:
        return error.response.status_code


def certificate(dn: str, verify: str = "SUCCESS") -> dict:
    return {**PROXY, "X-SSL-Client-Verify": verify, "X-SSL-Client-S-DN": dn}


# --- Profile 1 -------------------------------------------------------------------------------
async def test_profile_1_is_basic_auth_with_or_without_tls(behind_proxy, station_with_profile):
    identity, password = station_with_profile(1)
    good = {"Authorization": basic_auth(identity, password)}
    assert await handshake(behind_proxy, identity, good) == 101
    assert await handshake(behind_proxy, identity, {**good, **PROXY}) == 101
    wrong = {"Authorization": basic_auth(identity, password + "x")}
    assert await handshake(behind_proxy, identity, wrong) == 401
    # a certificate is no substitute for the password on a profile 1 station
    assert await handshake(behind_proxy, identity, certificate(f"CN={identity}")) == 401


# --- Profile 2 -------------------------------------------------------------------------------
async def test_profile_2_needs_the_password_over_tls(behind_proxy, station_with_profile):
    identity, password = station_with_profile(2)
    good = {"Authorization": basic_auth(identity, password)}
    assert await handshake(behind_proxy, identity, {**good, **PROXY}) == 101
    assert await handshake(behind_proxy, identity, good) == 403  # plain ws://
    assert await handshake(behind_proxy, identity, {**good, "X-Forwarded-Proto": "http"}) == 403
    wrong = {"Authorization": basic_auth(identity, password + "x"), **PROXY}
    assert await handshake(behind_proxy, identity, wrong) == 401
    assert await handshake(behind_proxy, identity, PROXY) == 401


async def test_profile_2_ignores_a_station_claiming_tls(direct, station_with_profile):
    identity, password = station_with_profile(2)
    spoofed = {"Authorization": basic_auth(identity, password), **PROXY}
    assert await handshake(direct, identity, spoofed) == 403


# --- Profile 3 -------------------------------------------------------------------------------
async def test_profile_3_accepts_a_verified_certificate_naming_the_station(
    behind_proxy, station_with_profile
):
    identity, password = station_with_profile(3)
    # no Basic auth needed; both spellings of the subject nginx can send
    rfc2253 = certificate(f"CN={identity},O=Example Charging\\, Inc.,C=CA")
    assert await handshake(behind_proxy, identity, rfc2253) == 101
    legacy = certificate(f"/C=CA/O=Example Charging, Inc./CN={identity}")
    assert await handshake(behind_proxy, identity, legacy) == 101
    # a Basic password that happens to come along does not matter
    with_password = {**rfc2253, "Authorization": basic_auth(identity, "not-the-password")}
    assert await handshake(behind_proxy, identity, with_password) == 101


async def test_profile_3_refuses_everything_else(behind_proxy, station_with_profile):
    identity, password = station_with_profile(3)
    other, _ = station_with_profile(3)
    refusals = {
        "password only, over TLS": {"Authorization": basic_auth(identity, password), **PROXY},
        "another station's certificate": certificate(f"CN={other},O=Example"),
        "CN only a prefix": certificate(f"CN={identity}X"),
        "two CNs": certificate(f"CN={other},CN={identity}"),
        "verification failed": certificate(f"CN={identity}", verify="FAILED:certificate revoked"),
        "no certificate": certificate(f"CN={identity}", verify="NONE"),
        "no TLS": {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": f"CN={identity}"},
        "malformed subject": certificate(f"CN={identity},"),
    }
    for case, headers in refusals.items():
        assert await handshake(behind_proxy, identity, headers) == 403, case


async def test_profile_3_checks_the_organisation_when_the_tenant_names_its_cso(
    behind_proxy, station_with_profile, cso_name
):
    identity, _ = station_with_profile(3)
    cso_name("Example Charging, Inc.")
    good = certificate(f"CN={identity},O=Example Charging\\, Inc.")
    assert await handshake(behind_proxy, identity, good) == 101
    assert await handshake(behind_proxy, identity, certificate(f"CN={identity},O=Other")) == 403
    assert await handshake(behind_proxy, identity, certificate(f"CN={identity}")) == 403


async def test_profile_3_ignores_a_station_sending_certificate_headers(
    direct, station_with_profile
):
    identity, password = station_with_profile(3)
    assert await handshake(direct, identity, certificate(f"CN={identity}")) == 403
    spoofed = {**certificate(f"CN={identity}"), "Authorization": basic_auth(identity, password)}
    assert await handshake(direct, identity, spoofed) == 403


# --- Trusted proxies (unit) --------------------------------------------------------------------
HEADERS = [
    (b"x-forwarded-proto", b"https"),
    (b"x-ssl-client-verify", b"SUCCESS"),
    (b"x-ssl-client-s-dn", b"CN=CP-1,O=Acme"),
]


def test_headers_are_believed_only_from_trusted_proxies(settings):
    settings.OCPP_TRUSTED_PROXIES = ["10.1.0.0/16", "192.0.2.7", "2001:db8::/32"]
    assert is_trusted_proxy("10.1.200.3") and is_trusted_proxy("192.0.2.7")
    assert is_trusted_proxy("::ffff:10.1.0.9") and is_trusted_proxy("2001:db8::1")
    assert not is_trusted_proxy("10.2.0.1") and not is_trusted_proxy("192.0.2.8")
    assert not is_trusted_proxy(None) and not is_trusted_proxy("not-an-ip")
    trusted = transport_from(peer="10.1.0.1", headers=HEADERS)
    assert trusted == Transport(tls=True, client_subject="CN=CP-1,O=Acme")
    assert transport_from(peer="127.0.0.1", headers=HEADERS) == Transport()
    settings.OCPP_TRUSTED_PROXIES = []
    assert transport_from(peer="10.1.0.1", headers=HEADERS) == Transport()


def test_proxy_header_edge_cases(settings):
    settings.OCPP_TRUSTED_PROXIES = ["127.0.0.1"]
    # a header sent twice (the station's own and the proxy's) is ambiguous: not believed
    doubled = [*HEADERS, (b"x-ssl-client-s-dn", b"CN=CP-2")]
    assert transport_from(peer="127.0.0.1", headers=doubled).client_subject is None
    failed = [HEADERS[0], (b"x-ssl-client-verify", b"FAILED:expired"), HEADERS[2]]
    assert transport_from(peer="127.0.0.1", headers=failed) == Transport(tls=True)
    settings.OCPP_CLIENT_CERT_DN_HEADER = "X-Client-DN"
    renamed = [*HEADERS[:2], (b"x-client-dn", b"CN=CP-3")]
    assert transport_from(peer="127.0.0.1", headers=renamed).client_subject == "CN=CP-3"
    settings.OCPP_TRUSTED_PROXIES = ["10.0.0.300"]
    with pytest.raises(ImproperlyConfigured):
        is_trusted_proxy("10.0.0.1")


# --- Distinguished names (unit) ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CN=CP-1,O=Acme", [("CN", "CP-1"), ("O", "Acme")]),
        ("CN=CP-1, O=Acme , C=CA", [("CN", "CP-1"), ("O", "Acme"), ("C", "CA")]),
        ("O=Acme\\, Inc.,CN=CP-1", [("O", "Acme, Inc."), ("CN", "CP-1")]),
        ("CN=a\\+b\\=c\\\\d\\;e", [("CN", "a+b=c\\d;e")]),
        ("CN=Borne caf\\C3\\A9", [("CN", "Borne café")]),
        ("CN=\\ lead,O=x", [("CN", " lead"), ("O", "x")]),
        ("commonName=CP-1+organizationName=Acme", [("CN", "CP-1"), ("O", "Acme")]),
        ("2.5.4.3=CP-1,OID.2.5.4.10=Acme", [("CN", "CP-1"), ("O", "Acme")]),
        ("cn=CP-1", [("CN", "CP-1")]),
        ("/C=CA/O=Acme, Inc./CN=CP-1", [("C", "CA"), ("O", "Acme, Inc."), ("CN", "CP-1")]),
        ("/O=Acme/CN=Borne caf\\xC3\\xA9", [("O", "Acme"), ("CN", "Borne café")]),
        ("/O=a/b testing/CN=CP-1", [("O", "a/b testing"), ("CN", "CP-1")]),
        ("", None),
        ("CN", None),
        ("CN=CP-1,", None),
        ("CN=CP-1\\", None),
        ("=CP-1", None),
        ("/CN", None),
    ],
)
def test_parse_dn(text, expected):
    assert parse_dn(text) == expected


def test_certificate_matches_identity_and_organisation():
    assert certificate_matches("O=Acme,CN=CP-1", identity="CP-1")
    assert certificate_matches("/O=Acme/CN=CP-1", identity="CP-1", organization="Acme")
    assert not certificate_matches("O=Acme,CN=cp-1", identity="CP-1")
    assert not certificate_matches("O=Other,CN=CP-1", identity="CP-1", organization="Acme")
    assert not certificate_matches("CN=CP-1", identity="CP-1", organization="Acme")
    # an escaped comma cannot smuggle a second attribute in
    assert not certificate_matches("CN=CP-1\\,O=Acme", identity="CP-1", organization="Acme")
    assert not certificate_matches("CN=CP-1,CN=CP-2", identity="CP-1")
    assert not certificate_matches(None, identity="CP-1")


# --- Where the profile is set ------------------------------------------------------------------
def test_profile_is_validated_and_editable_through_the_api_serializer(alpha):
    station = station_register(identity=unique_identity("SP"), password="p" * 16)
    assert not StationUpdateSerializer(
        station, data={"security_profile": 4}, partial=True
    ).is_valid()
    serializer = StationUpdateSerializer(station, data={"security_profile": 3}, partial=True)
    assert serializer.is_valid(), serializer.errors
    station_update(station=station, **serializer.validated_data)
    station.refresh_from_db()
    assert station.security_profile == 3
    with pytest.raises(ValidationError):
        station_update(station=station, security_profile=0)


def test_management_command_sets_profile_and_cso_name(alpha):
    station = station_register(identity=unique_identity("SP"), password="p" * 16)
    call_command("station_security", tenant="alpha", station=station.identity, profile=2)
    call_command("station_security", tenant="alpha", cso_name=" Acme Charging ")
    station.refresh_from_db()
    assert station.security_profile == 2
    assert station_cso_name() == "Acme Charging"
