"""A real OpenADR 2.0b VTN for the tests, built with openleadr (the library our VEN uses),
run as its own process: ``python -m tests.energy.vtn PORT [TLS_DIR]``.

With ``TLS_DIR`` (``ca.pem``, ``vtn.pem``, ``vtn.key`` and the VEN's ``ven.pem``), it serves
HTTPS, requires a client certificate signed by the CA, signs its messages and checks the
VEN's certificate fingerprint, as a utility's VTN does.

Besides the OpenADR services (under ``/OpenADR2/Simple/2.0b``), a small control API for the
test (``/control/...``, JSON) adds and cancels events and tells what the VTN has seen:
registrations and every opt answer (``oadrCreatedEvent``) in the order received.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from openleadr import OpenADRServer, enums, messaging, utils

PREFIX = "/OpenADR2/Simple/2.0b"


def main(port: int, tls: Path | None) -> None:
    seen = {"registrations": [], "opts": [], "requests": 0, "report_offers": [], "reports": []}
    venues: dict[str, dict] = {}
    options = {}
    if tls is not None:
        ven_fingerprint = utils.certificate_fingerprint((tls / "ven.pem").read_text())

        def ven_lookup(ven_id):
            return venues.get(ven_id) or None

        options = {
            "cert": str(tls / "vtn.pem"),
            "key": str(tls / "vtn.key"),
            "http_cert": str(tls / "vtn.pem"),
            "http_key": str(tls / "vtn.key"),
            "http_ca_file": str(tls / "ca.pem"),
            "ven_lookup": ven_lookup,
        }
    server = OpenADRServer(
        vtn_id="test-vtn",
        http_host="127.0.0.1",
        http_port=port,
        show_fingerprint=False,
        requested_poll_freq=timedelta(seconds=5),
        **options,
    )

    async def on_create_party_registration(info):
        seen["registrations"].append(
            {"ven_name": info["ven_name"], "fingerprint": info.get("fingerprint")}
        )
        if tls is not None and info.get("fingerprint") != ven_fingerprint:
            return False
        ven_id = f"ven-{info['ven_name']}"
        registration_id = f"reg-{len(seen['registrations'])}"
        venues[ven_id] = {
            "ven_id": ven_id,
            "ven_name": info["ven_name"],
            "fingerprint": ven_fingerprint if tls is not None else None,
            "registration_id": registration_id,
        }
        return ven_id, registration_id

    server.add_handler("on_create_party_registration", on_create_party_registration)

    def on_register_report(
        ven_id, resource_id, measurement, unit, scale, min_sampling_interval, max_sampling_interval
    ):
        seen["report_offers"].append(
            {"ven_id": ven_id, "resource_id": resource_id, "measurement": measurement, "unit": unit}
        )

        def received(values):
            seen["reports"].extend(
                {"ven_id": ven_id, "dtstart": start.isoformat(), "value": value}
                for start, value in values
            )

        return received, min_sampling_interval

    server.add_handler("on_register_report", on_register_report)

    @web.middleware
    async def record(request, handler):
        if request.path.startswith(PREFIX):
            seen["requests"] += 1
            body = await request.read()
            try:
                kind, payload = messaging.parse_message(body)
            except Exception:  # not ours to judge here: the service answers
                kind, payload = None, {}
            if kind == "oadrCreatedEvent":
                for answer in payload.get("event_responses") or []:
                    seen["opts"].append(
                        {
                            "event_id": answer["event_id"],
                            "modification_number": answer["modification_number"],
                            "opt_type": answer["opt_type"],
                        }
                    )
        return await handler(request)

    server.app.middlewares.append(record)

    async def add_event(request):
        spec = await request.json()
        start = datetime.now(UTC) + timedelta(seconds=spec.get("starts_in", 0))
        # several intervals: [{"starts_in": s after the event's start, "duration", "payload"}]
        parts = spec.get("intervals") or [
            {"duration": spec["duration"], "payload": spec["payload"]}
        ]
        event_id = server.add_event(
            ven_id=spec["ven_id"],
            signal_name=spec.get("signal_name", "simple"),
            signal_type=spec.get("signal_type", "level"),
            intervals=[
                {
                    "dtstart": start + timedelta(seconds=part.get("starts_in", 0)),
                    "duration": timedelta(seconds=part["duration"]),
                    "signal_payload": part["payload"],
                }
                for part in parts
            ],
            event_id=spec.get("event_id"),
            callback=lambda ven_id, event_id, opt_type: None,
        )
        # openleadr 0.5.34's add_event loses ramp-up and recovery (add_raw_event rebuilds the
        # active period from the intervals): set them on the queued event itself.
        queued = utils.find_by(
            server.services["event_service"].events[spec["ven_id"]],
            "event_descriptor.event_id",
            event_id,
        )
        period = utils.getmember(queued, "active_period")
        if spec.get("ramp_up"):
            utils.setmember(period, "ramp_up_period", timedelta(seconds=spec["ramp_up"]))
        if spec.get("recovery"):
            utils.setmember(period, "recovery_period", timedelta(seconds=spec["recovery"]))
        if spec.get("start_after"):
            tolerance = {"startafter": timedelta(seconds=spec["start_after"])}
            utils.setmember(period, "tolerance", tolerance)
        return web.json_response({"event_id": event_id, "dtstart": start.isoformat()})

    async def cancel_event(request):
        spec = await request.json()
        server.cancel_event(spec["ven_id"], spec["event_id"])
        return web.json_response({"ok": True})

    async def state(request):
        events = {
            ven_id: [
                {
                    "event_id": utils.getmember(event, "event_descriptor.event_id"),
                    "status": utils.getmember(event, "event_descriptor.event_status"),
                }
                for event in queue
            ]
            for ven_id, queue in server.services["event_service"].events.items()
        }
        return web.json_response({**seen, "events": events})

    server.app.add_routes(
        [
            web.post("/control/event", add_event),
            web.post("/control/cancel", cancel_event),
            web.get("/control/state", state),
        ]
    )
    assert enums.EVENT_STATUS.CANCELLED == "cancelled"

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(server.run())
    print("VTN ready", flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
