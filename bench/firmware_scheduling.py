"""Firmware campaign scheduling cost per 1,000 stations (database work only).

What the platform itself spends to run a campaign, without the stations' own time: choosing
the targets and assigning waves (``campaign_create``), then every scheduling step
(``campaign_tick``: window, sessions, claims) until each station has been sent its update,
with each update reported ``Installed`` at once (``firmware_status_record``, as the OCPP
handler calls it).  The transport is replaced by a no-op (sending is the command service's
cost, measured by ``bench/ocpp_load.py``).  Baseline in the same run: a bare
``UPDATE ... WHERE pk = ...`` per station (the least a scheduler that claims one row per
station can cost).

    .venv/bin/python bench/firmware_scheduling.py --stations 1000 --concurrency 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import time
import uuid

from _common import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    setup_django("cg_lifecycle_fwbench")

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.firmware import services, transport
    from apps.firmware.models import CampaignTarget
    from apps.stations.models import Evse, Site, Station
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    tenant = Tenant.objects.filter(slug="fwbench").first() or tenant_create(
        name="FW bench", slug="fwbench", admin_email="owner@fwbench.test", admin_password="x" * 12
    )
    transport.send_update = lambda **kw: (True, "")
    tag = uuid.uuid4().hex[:6]
    with tenant_context(tenant):
        now = timezone.now()
        sites = [
            Site.objects.create(name=f"S{tag}{i}", timezone=tz)
            for i, tz in enumerate(["UTC", "America/Montreal", "Europe/Paris", "Asia/Tokyo"])
        ]
        stations = Station.objects.bulk_create(
            Station(
                identity=f"B{tag}{i:05d}",
                site=sites[i % len(sites)],
                vendor="ACME",
                model="X1",
                firmware_version=("1.0", "1.1", "1.2")[i % 3],
                is_online=True,
                ocpp_version="2.0.1",
            )
            for i in range(args.stations)
        )
        Evse.objects.bulk_create(Evse(station=s, evse_id=1) for s in stations)
        data = uuid.uuid4().bytes * 64
        image = services.firmware_image_upload(
            upload=SimpleUploadedFile("b.bin", data),
            vendor="ACME",
            model="X1",
            version=f"9.{tag}",
            sha256=hashlib.sha256(data).hexdigest(),
        )
        chosen = Station.objects.filter(identity__startswith=f"B{tag}")

        t0 = time.perf_counter()
        campaign = services.campaign_create(
            name=f"bench {tag}",
            image=image,
            stations=chosen,
            canary_count=5,
            wave_percents=[10, 50],
            concurrency=args.concurrency,
            window_start=dt.time(0, 0),
            window_end=dt.time(23, 59),
            force=False,
        )
        created = time.perf_counter() - t0
        services.campaign_start(campaign=campaign)

        ticks, tick_time, report_time = 0, 0.0, 0.0
        while True:
            t0 = time.perf_counter()
            result = services.campaign_tick(campaign_id=campaign.pk, now=now)
            tick_time += time.perf_counter() - t0
            ticks += 1
            if result.status != "running":
                break
            t0 = time.perf_counter()
            for target in CampaignTarget.objects.filter(pk__in=result.started).values(
                "pk", "station_id"
            ):
                Station.objects.filter(pk=target["station_id"]).update(
                    firmware_version=image.version
                )
                services.firmware_status_record(
                    station_id=target["station_id"], status="Installed", request_id=target["pk"]
                )
            report_time += time.perf_counter() - t0
        upgraded = CampaignTarget.objects.filter(campaign=campaign, status="upgraded").count()

        t0 = time.perf_counter()
        for pk in chosen.values_list("pk", flat=True):
            with connection.cursor() as cursor:
                cursor.execute("UPDATE stations_station SET name = name WHERE id = %s", [pk])
        baseline = time.perf_counter() - t0

    per_k = 1000 / args.stations
    print(f"stations: {args.stations}, upgraded: {upgraded}, ticks: {ticks}")
    print(f"campaign_create (targets + waves): {created * per_k * 1000:.0f} ms per 1,000 stations")
    print(
        f"scheduling ticks (claims):         {tick_time * per_k * 1000:.0f} ms per 1,000 stations"
    )
    print(
        f"status reports (Installed):        {report_time * per_k * 1000:.0f} ms per 1,000 stations"
    )
    total = created + tick_time
    print(f"scheduling total:                  {total * per_k * 1000:.0f} ms per 1,000 stations")
    print(f"baseline (one UPDATE per station): {baseline * per_k * 1000:.0f} ms per 1,000 stations")


if __name__ == "__main__":
    main()
