"""Certificates installed on stations (2.0.1 M03-M05, 1.6 security whitepaper) through the
command service, against the simulator's 1.6 and 2.0.1 stations on a real server: install a
root, list what the station holds (recorded per station), delete it; bad certificates and types
a version has no word for never reach the station."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import PermissionDenied

from apps.ocpp import commands
from apps.pnc import services
from apps.pnc.models import InstalledCertificate
from apps.roles.selectors import UserActor
from apps.simulator.station import SimulatedStation, StationConfig
from apps.stations.models import Station
from apps.stations.services import station_register
from tests.pnc.test_live import in_tenant, make_station
from tests.pnc.testpki import LocalPki, pem

pytestmark = pytest.mark.slow
REQUESTER = services.REQUESTER


@pytest.fixture
def loop():
    from tests.live import LoopThread

    thread = LoopThread()
    yield thread
    thread.stop()


def connected(server, tenant, loop, version):
    row, identity, password = make_station(tenant)
    station = SimulatedStation(
        StationConfig(
            identity=identity, url=f"{server.ws}/ocpp/", password=password, version=version
        )
    )
    assert loop.run(station.connect()) == "Accepted"
    deadline = time.monotonic() + 10
    while not in_tenant(tenant, lambda: Station.objects.get(pk=row.pk).is_online):
        assert time.monotonic() < deadline, "the station never showed online"
        time.sleep(0.1)
    return row, station


def fresh(tenant, pk):
    return in_tenant(tenant, lambda: Station.objects.get(pk=pk))


def recorded(tenant, row):
    return in_tenant(
        tenant,
        lambda: list(
            InstalledCertificate.objects.filter(station_id=row.pk).values_list(
                "certificate_type", "serial_number", "subject"
            )
        ),
    )


@pytest.mark.parametrize(
    ("version", "kind", "foreign_kind"),
    [("2.0.1", "V2GRootCertificate", None), ("1.6", "CSMSRootCertificate", "V2GRootCertificate")],
)
def test_install_list_delete(pnc_server, live_alpha, loop, version, kind, foreign_kind):
    row, station = connected(pnc_server, live_alpha, loop, version)
    pki = LocalPki()
    try:
        reply = in_tenant(
            live_alpha,
            lambda: services.installed_refresh(
                requester=REQUESTER, station=Station.objects.get(pk=row.pk)
            ),
        )
        assert reply.ok and reply.status == "NotFound"
        assert recorded(live_alpha, row) == []

        def install(certificate, certificate_type=kind):
            return in_tenant(
                live_alpha,
                lambda: services.certificate_install(
                    requester=REQUESTER,
                    station=Station.objects.get(pk=row.pk),
                    certificate_type=certificate_type,
                    certificate_pem=certificate,
                ),
            )

        for bad, reason in (
            ("nonsense", "not a PEM certificate"),
            (pem(pki.leaf), "not a CA"),
            (pem(pki.root, pki.sub), "exactly one certificate"),
        ):
            with pytest.raises(ValueError, match=reason):
                install(bad)
        if foreign_kind:
            with pytest.raises(ValueError, match="cannot be installed"):
                install(pem(pki.root), foreign_kind)
        assert not getattr(station, "installed_roots", [])  # nothing reached the station

        reply = install(pem(pki.root))
        assert reply.ok and reply.status == "Accepted"
        serial = format(pki.root.serial_number, "x")
        assert recorded(live_alpha, row) == [(kind, serial, "CN=Test V2G Root")]
        assert [c.serial_number for _k, c in station.installed_roots] == [pki.root.serial_number]

        # What the station reports replaces the record (a second root installed behind our back)
        other = LocalPki().root
        assert station.install_certificate(kind, pem(other)) == "Accepted"
        reply = in_tenant(
            live_alpha,
            lambda: services.installed_refresh(
                requester=REQUESTER, station=Station.objects.get(pk=row.pk)
            ),
        )
        assert reply.ok and len(reply.rows) == 2
        rows = recorded(live_alpha, row)
        assert sorted(r[1] for r in rows) == sorted(
            format(c.serial_number, "x") for c in (pki.root, other)
        )
        assert (kind, serial, "CN=Test V2G Root") in rows  # the subject we know is kept

        mine = in_tenant(
            live_alpha, lambda: InstalledCertificate.objects.get(station=row, serial_number=serial)
        )
        reply = in_tenant(
            live_alpha,
            lambda: services.certificate_delete(
                requester=REQUESTER,
                installed=InstalledCertificate.objects.select_related("station").get(pk=mine.pk),
            ),
        )
        assert reply.status == "Accepted"
        assert [c.serial_number for _k, c in station.installed_roots] == [other.serial_number]
        assert [r[1] for r in recorded(live_alpha, row)] == [format(other.serial_number, "x")]

        # A record the station no longer holds: NotFound, and the record goes too.
        stale = in_tenant(
            live_alpha,
            lambda: InstalledCertificate.objects.create(
                station_id=row.pk,
                certificate_type=kind,
                reported_at=mine.reported_at,
                **mine.hash_data(),
            ),
        )
        reply = in_tenant(
            live_alpha,
            lambda: services.certificate_delete(
                requester=REQUESTER,
                installed=InstalledCertificate.objects.select_related("station").get(pk=stale.pk),
            ),
        )
        assert reply.status == "NotFound"
        assert not in_tenant(
            live_alpha, lambda: InstalledCertificate.objects.filter(pk=stale.pk).exists()
        )
    finally:
        loop.run(station.close())


def test_commands_need_the_configure_permission(personas, alpha_sites):
    """Checked before anything is recorded or sent: an outsider is refused; a delegate only
    on their sites."""
    station = station_register(identity="PNC-PERM-1", password="pw-pnc-perm-1-0123456789")
    for user in (personas.outsider, personas.fleet_manager):
        with pytest.raises(PermissionDenied):
            commands.station_installed_certificate_ids(
                requester=commands.Requester(actor=UserActor(user)), station=station
            )
