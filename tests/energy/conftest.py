"""Fixtures for energy integrations: a real OpenADR 2.0b VTN (openleadr, ``tests/energy/vtn.py``)
in its own process on a loopback port, test certificates made with ``cryptography``, and a
site whose supply is 100 A with a VEN on it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from tests.live import free_port


class VtnProcess:
    def __init__(self, tls: Path | None = None) -> None:
        self.port = free_port()
        self.tls = tls
        self.process: subprocess.Popen | None = None
        self.log_path = Path(settings.BASE_DIR) / "var" / f"test-vtn-{self.port}.log"

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/OpenADR2/Simple/2.0b"

    @property
    def control(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/control"

    def start(self) -> VtnProcess:
        self.log_path.parent.mkdir(exist_ok=True)
        args = [sys.executable, "-m", "tests.energy.vtn", str(self.port)]
        if self.tls:
            args.append(str(self.tls))
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            args,
            cwd=settings.BASE_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 30
        while "VTN ready" not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The VTN did not start: {self.log_path.read_text()}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.log.close()

    def _call(self, path: str, data: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.control}/{path}",
            data=json.dumps(data).encode() if data is not None else None,
            headers={"content-type": "application/json"},
        )
        context = None
        if self.tls:
            import ssl

            context = ssl.create_default_context(cafile=str(self.tls / "ca.pem"))
            context.load_cert_chain(self.tls / "ven.pem", self.tls / "ven.key")
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return json.loads(answer.read())

    def add_event(self, **spec) -> str:
        return self._call("event", spec)["event_id"]

    def cancel(self, ven_id: str, event_id: str) -> None:
        self._call("cancel", {"ven_id": ven_id, "event_id": event_id})

    def state(self) -> dict:
        return self._call("state")


@pytest.fixture(scope="module")
def vtn():
    process = VtnProcess().start()
    yield process
    process.stop()


def make_certificates(folder: Path) -> Path:
    """A CA, the VTN's server certificate (127.0.0.1) and the VEN's client certificate."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def key():  # RSA: openleadr signs messages with RSA-SHA256
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def name(common: str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def write_key(path: Path, private) -> None:
        path.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    ca_key = key()
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("chargegrid test CA"))
        .issuer_name(name("chargegrid test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for who, usage in (
        ("vtn", ExtendedKeyUsageOID.SERVER_AUTH),
        ("ven", ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        private = key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(f"test {who}"))
            .issuer_name(ca.subject)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if who == "vtn":
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        certificate = builder.sign(ca_key, hashes.SHA256())
        (folder / f"{who}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        write_key(folder / f"{who}.key", private)
    return folder


@pytest.fixture(scope="module")
def tls_vtn(tmp_path_factory):
    folder = make_certificates(tmp_path_factory.mktemp("openadr-tls"))
    process = VtnProcess(tls=folder).start()
    yield process
    process.stop()


@dataclass
class Garage:
    site: object
    supply: object


@pytest.fixture
def garage(alpha):
    """A site whose supply allows 100 A per line (factor 1.00)."""
    from apps.power import services as power
    from apps.power.choices import NodeKind
    from tests.factories import SiteFactory

    site = SiteFactory(name="DR Garage", timezone="America/Montreal")
    supply = power.power_node_create(
        site=site,
        name="Supply",
        kind=NodeKind.SUPPLY,
        rating_a=Decimal("100"),
        continuous_factor=Decimal("1.00"),
    )
    return Garage(site, supply)


def ven_for(garage: Garage, vtn: VtnProcess, name: str, **fields):
    from apps.energy import services

    return services.ven_create(
        site=garage.site,
        node=garage.supply,
        name=f"Utility {name}",
        vtn_url=vtn.url,
        ven_name=name,
        level_2_percent=Decimal("40"),
        **fields,
    )


def in_force(reference: str) -> bool:
    """Whether an override of ``reference`` applies now or later (ended ones stay as record)."""
    from django.db.models import Q
    from django.utils import timezone

    from apps.power.models import LimitOverride

    live = Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now())
    return LimitOverride.objects.filter(live, reference=reference).exists()


@pytest.fixture
def annex(alpha):
    """A second site (its supply: 25 A per line) for a VEN that serves a group of sites."""
    from apps.power import services as power
    from apps.power.choices import NodeKind
    from tests.factories import SiteFactory

    site = SiteFactory(name="DR Annex", timezone="America/Montreal")
    supply = power.power_node_create(
        site=site,
        name="Annex supply",
        kind=NodeKind.SUPPLY,
        rating_a=Decimal("25"),
        continuous_factor=Decimal("1.00"),
    )
    return Garage(site, supply)
