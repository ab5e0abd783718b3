"""Plug & Charge reads, through the actor's scope."""

from __future__ import annotations

from .models import CertificateAuthority, InstalledCertificate, StationCertificate, TrustedRoot


def authority_for(actor) -> CertificateAuthority | None:
    return CertificateAuthority.objects.restrict(actor, "pnc.view").first()


def station_certificates_for(actor):
    return (
        StationCertificate.objects.restrict(actor, "pnc.view")
        .select_related("station")
        .order_by("not_after")
    )


def trusted_roots_for(actor):
    return TrustedRoot.objects.restrict(actor, "pnc.view")


def installed_certificates_for(actor, station):
    return InstalledCertificate.objects.restrict(actor, "pnc.view").filter(station=station)
