"""The VEN against a real OpenADR 2.0b VTN (openleadr, in its own process): registration,
an event lowering a 100 A site to 40 A for its period, opt-out, cancellation, a VTN that
stops answering, and registration over TLS with client certificates and signed messages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from apps.energy import services
from apps.energy.choices import EventStatus, Opt, OptSource, PollOutcome
from apps.energy.models import DemandResponseEvent
from apps.power.models import LimitOverride
from apps.power.selectors import node_limits_now
from tests.energy.conftest import VtnProcess, in_force, ven_for


def unique(prefix: str = "ven") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def poll(ven, **kwargs):
    return services.ven_poll(ven_id=ven.pk, force=True, **kwargs)


def limit_a_at(garage, at) -> Decimal | None:
    garage.supply.refresh_from_db()
    return node_limits_now(garage.supply, at, ZoneInfo(garage.site.timezone))[0]


def opts(vtn, event_id) -> list[str]:
    return [o["opt_type"] for o in vtn.state()["opts"] if o["event_id"] == event_id]


def test_registration_gives_the_ven_its_id_and_poll_rate(garage, vtn):
    ven = ven_for(garage, vtn, unique())
    result = poll(ven)
    ven.refresh_from_db()
    assert result.outcome == PollOutcome.OK
    assert ven.ven_id == f"ven-{ven.ven_name}"
    assert ven.registration_id.startswith("reg-")
    assert ven.registered_at is not None
    assert ven.poll_seconds == 5  # what the VTN asked for
    assert ven.ven_name in [r["ven_name"] for r in vtn.state()["registrations"]]
    # Registered once: the next poll does not register again.
    before = len(vtn.state()["registrations"])
    assert poll(ven).outcome == PollOutcome.OK
    assert len(vtn.state()["registrations"]) == before


def test_an_event_lowers_the_site_from_100_to_40_a_for_its_period(garage, vtn):
    ven = ven_for(garage, vtn, unique())
    poll(ven)
    ven.refresh_from_db()
    event_id = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=600)
    now = timezone.now()
    assert limit_a_at(garage, now) == Decimal("100")

    result = poll(ven, now=now)

    assert event_id in result.changed
    event = DemandResponseEvent.objects.get(ven=ven, event_id=event_id)
    assert (event.opt, event.opt_source) == (Opt.IN, OptSource.DEFAULT)
    assert (event.limit_before_a, event.limit_a) == (Decimal("100.0"), Decimal("40.0"))
    assert limit_a_at(garage, now + timedelta(seconds=1)) == Decimal("40.0")
    # ... for its period only: back to 100 A when it ends (the override carries its end).
    assert limit_a_at(garage, event.ends_at + timedelta(seconds=1)) == Decimal("100")
    # The VTN heard that we take part, once.
    assert opts(vtn, event_id) == [Opt.IN]
    poll(ven)
    assert opts(vtn, event_id) == [Opt.IN]


def test_opting_out_restores_the_limit_and_tells_the_vtn(garage, vtn):
    ven = ven_for(garage, vtn, unique())
    poll(ven)
    ven.refresh_from_db()
    event_id = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=600)
    poll(ven)
    event = DemandResponseEvent.objects.get(ven=ven, event_id=event_id)
    assert limit_a_at(garage, timezone.now()) == Decimal("40.0")

    services.event_opt_set(event=event, opt=Opt.OUT)

    assert limit_a_at(garage, timezone.now()) == Decimal("100")
    poll(ven)
    assert opts(vtn, event_id) == [Opt.IN, Opt.OUT]
    event.refresh_from_db()
    assert (event.opt, event.opt_source, event.reported_opt) == (
        Opt.OUT,
        OptSource.PERSON,
        Opt.OUT,
    )


def test_a_default_opt_out_rule_keeps_the_site_at_its_limit(garage, vtn):
    ven = ven_for(garage, vtn, unique(), default_opt=Opt.OUT)
    poll(ven)
    ven.refresh_from_db()
    event_id = vtn.add_event(ven_id=ven.ven_id, payload=3, starts_in=0, duration=600)
    poll(ven)
    assert limit_a_at(garage, timezone.now() + timedelta(seconds=1)) == Decimal("100")
    assert opts(vtn, event_id) == [Opt.OUT]


def test_a_cancelled_event_lifts_its_limit(garage, vtn):
    ven = ven_for(garage, vtn, unique())
    poll(ven)
    ven.refresh_from_db()
    event_id = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=60, duration=600, ramp_up=60)
    poll(ven)
    event = DemandResponseEvent.objects.get(ven=ven, event_id=event_id)
    # Ramp-up: 85, 70, 55 A during the minute before the start, then 40 A.
    assert limit_a_at(garage, event.starts_at - timedelta(seconds=50)) == Decimal("85.0")
    assert limit_a_at(garage, event.starts_at - timedelta(seconds=5)) == Decimal("55.0")
    assert limit_a_at(garage, event.starts_at + timedelta(seconds=5)) == Decimal("40.0")

    vtn.cancel(ven.ven_id, event_id)
    poll(ven)

    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert not in_force(event.reference)
    assert limit_a_at(garage, event.starts_at + timedelta(seconds=5)) == Decimal("100")
    assert opts(vtn, event_id)[-1] == Opt.IN  # the cancellation acknowledged
    assert event_id not in [e["event_id"] for e in vtn.state()["events"].get(ven.ven_id, [])]


def test_an_unreachable_vtn_leaves_limits_that_end_on_time(garage):
    vtn = VtnProcess().start()
    try:
        ven = ven_for(garage, vtn, unique())
        poll(ven)
        ven.refresh_from_db()
        event_id = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=120)
        poll(ven)
    finally:
        vtn.stop()
    event = DemandResponseEvent.objects.get(ven=ven, event_id=event_id)

    result = poll(ven)

    assert result.outcome == PollOutcome.UNREACHABLE
    ven.refresh_from_db()
    assert ven.last_outcome == PollOutcome.UNREACHABLE and ven.last_error
    # Still lowered during the event, back at 100 A after it: never stuck low.
    assert limit_a_at(garage, timezone.now()) == Decimal("40.0")
    assert limit_a_at(garage, event.ends_at + timedelta(seconds=1)) == Decimal("100")
    assert all(o.ends_at is not None for o in LimitOverride.objects.filter(node=garage.supply))
    # A VTN that never answered at all: nothing registered, nothing lowered.
    lost = ven_for(garage, vtn, unique())
    assert poll(lost).outcome == PollOutcome.REFUSED
    assert limit_a_at(garage, event.ends_at + timedelta(seconds=1)) == Decimal("100")


def test_registration_over_tls_with_client_certificate_and_signatures(garage, tls_vtn):
    folder = tls_vtn.tls
    ven = ven_for(
        garage,
        tls_vtn,
        unique(),
        client_cert_pem=(folder / "ven.pem").read_text(),
        client_key_pem=(folder / "ven.key").read_text(),
        vtn_ca_pem=(folder / "ca.pem").read_text(),
        vtn_fingerprint=__import__("apps.energy.openadr", fromlist=["x"]).fingerprint(
            (folder / "vtn.pem").read_text()
        ),
    )
    assert poll(ven).outcome == PollOutcome.OK
    ven.refresh_from_db()
    assert ven.registration_id
    event_id = tls_vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=600)
    poll(ven)
    assert limit_a_at(garage, timezone.now() + timedelta(seconds=1)) == Decimal("40.0")
    assert opts(tls_vtn, event_id) == [Opt.IN]
    # Without a client certificate the VTN does not let us in.
    stranger = ven_for(garage, tls_vtn, unique(), vtn_ca_pem=(folder / "ca.pem").read_text())
    assert poll(stranger).outcome == PollOutcome.REFUSED


def test_a_step_starting_between_polls_rebalances_the_site_at_the_next_poll(
    garage, vtn, monkeypatch
):
    from apps.energy import limits

    ven = ven_for(garage, vtn, unique())
    poll(ven)
    ven.refresh_from_db()
    vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=30, duration=600)
    now = timezone.now()
    poll(ven, now=now)
    rebalanced = []
    monkeypatch.setattr(limits, "rebalance_soon", rebalanced.append)

    poll(ven, now=now + timedelta(seconds=10))  # nothing starts or ends in between
    assert rebalanced == []
    poll(ven, now=now + timedelta(seconds=40))  # the event started in between

    assert rebalanced == [garage.site.pk]


def test_the_site_load_is_reported_in_15_minute_intervals(garage, vtn):
    from apps.power.models import NodeInterval
    from apps.power.planning import quarter_of

    current = quarter_of(timezone.now())
    quarter = timedelta(minutes=15)
    for back, (drawn, building) in zip(
        (3, 2, 1), ((7_000, 3_000), (0, 2_500), (11_000, 4_000)), strict=True
    ):
        NodeInterval.objects.create(
            node=garage.supply,
            start=current - back * quarter,
            samples=2,
            drawn_w_sum=2 * drawn,
            base_w_sum=2 * building,
        )
    ven = ven_for(garage, vtn, unique())

    result = poll(ven)

    assert result.telemetry == 3
    ven.refresh_from_db()
    offers = [o for o in vtn.state()["report_offers"] if o["ven_id"] == ven.ven_id]
    assert offers == [
        {"ven_id": ven.ven_id, "resource_id": "Supply", "measurement": "RealPower", "unit": "W"}
    ]
    reports = [
        (r["dtstart"], r["value"]) for r in vtn.state()["reports"] if r["ven_id"] == ven.ven_id
    ]
    assert reports == [
        ((current - 3 * quarter).isoformat(), 10_000.0),
        ((current - 2 * quarter).isoformat(), 2_500.0),
        ((current - quarter).isoformat(), 15_000.0),
    ]
    # Sent once: the next poll has nothing new to say.
    assert poll(ven).telemetry == 0
    assert len([r for r in vtn.state()["reports"] if r["ven_id"] == ven.ven_id]) == 3


def test_a_multi_interval_event_applies_each_interval_at_its_start(garage, vtn):
    """Level 1, 3, 0, 2 for a minute each: 75 A, 25 A, the site's own 100 A, 40 A."""
    ven = ven_for(garage, vtn, unique())
    poll(ven)
    ven.refresh_from_db()
    event_id = vtn.add_event(
        ven_id=ven.ven_id,
        intervals=[
            {"starts_in": 0, "duration": 60, "payload": 1},
            {"starts_in": 60, "duration": 60, "payload": 3},
            {"starts_in": 120, "duration": 60, "payload": 0},
            {"starts_in": 180, "duration": 60, "payload": 2},
        ],
    )
    now = timezone.now()
    poll(ven, now=now)

    event = DemandResponseEvent.objects.get(ven=ven, event_id=event_id)
    assert [(i["start"], i["duration"], i["value"]) for i in event.intervals] == [
        (0, 60, "1.0"),
        (60, 60, "3.0"),
        (120, 60, "0.0"),
        (180, 60, "2.0"),
    ]
    assert event.limit_a == Decimal("25.0")  # the most demanding, as shown
    start = event.starts_at
    expected = [(5, 75), (65, 25), (125, 100), (185, 40), (245, 100)]
    assert [(s, limit_a_at(garage, start + timedelta(seconds=s))) for s, _ in expected] == [
        (s, Decimal(amps)) for s, amps in expected
    ]
    # One override per interval that asks for something, each starting at its own start.
    steps = LimitOverride.objects.filter(reference=event.reference).order_by("starts_at")
    assert [(o.limit_a, (o.ends_at - start).total_seconds()) for o in steps] == [
        (Decimal("75.0"), 60),
        (Decimal("25.0"), 120),
        (Decimal("40.0"), 240),
    ]


def test_a_multi_interval_kw_dispatch_follows_each_setpoint(garage, vtn, monkeypatch):
    from apps.energy import limits

    ven = ven_for(garage, vtn, unique())
    poll(ven)
    ven.refresh_from_db()
    event_id = vtn.add_event(
        ven_id=ven.ven_id,
        signal_name="LOAD_DISPATCH",
        signal_type="setpoint",
        starts_in=20,
        intervals=[
            {"starts_in": 0, "duration": 30, "payload": 50},
            {"starts_in": 30, "duration": 30, "payload": 20},
        ],
    )
    now = timezone.now()
    poll(ven, now=now)
    event = DemandResponseEvent.objects.get(ven=ven, event_id=event_id)
    steps = LimitOverride.objects.filter(reference=event.reference).order_by("starts_at")
    assert [o.limit_kw for o in steps] == [Decimal("50.000"), Decimal("20.000")]
    # Each setpoint starts between two polls: the poll after each start rebalances the site.
    rebalanced = []
    monkeypatch.setattr(limits, "rebalance_soon", rebalanced.append)
    start = event.starts_at
    for at, expected in ((-10, []), (5, [garage.site.pk]), (15, []), (35, [garage.site.pk])):
        rebalanced.clear()
        poll(ven, now=start + timedelta(seconds=at))
        assert rebalanced == expected, at


def annex_a_at(annex, at) -> Decimal | None:
    annex.supply.refresh_from_db()
    return node_limits_now(annex.supply, at, ZoneInfo(annex.site.timezone))[0]


def test_a_group_ven_applies_each_event_to_every_site(garage, annex, vtn, monkeypatch):
    """One registration for two sites (100 A and 25 A): a level is each site's own share
    (40 % -> 40 A and 10 A), a kW target is split by capacity (30 kW -> 24 and 6 kW), a
    cancellation lifts both, and a site taken out of the group is lifted at once."""
    from apps.energy import limits
    from apps.energy.models import EventNodeLimit

    ven = ven_for(garage, vtn, unique(), member_nodes=[annex.supply])
    poll(ven)
    ven.refresh_from_db()
    assert len([r for r in vtn.state()["registrations"] if r["ven_name"] == ven.ven_name]) == 1
    level = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=600)
    now = timezone.now()
    poll(ven, now=now)

    event = DemandResponseEvent.objects.get(ven=ven, event_id=level)
    soon = now + timedelta(seconds=1)
    assert (limit_a_at(garage, soon), annex_a_at(annex, soon)) == (Decimal("40"), Decimal("10"))
    rows = {row.node_id: row for row in EventNodeLimit.objects.filter(event=event)}
    assert (rows[annex.supply.pk].limit_before_a, rows[annex.supply.pk].limit_a) == (
        Decimal("25.0"),
        Decimal("10.0"),
    )

    dispatch = vtn.add_event(
        ven_id=ven.ven_id,
        signal_name="LOAD_DISPATCH",
        signal_type="setpoint",
        payload=30,
        starts_in=60,
        duration=600,
    )
    poll(ven, now=now)
    kw = DemandResponseEvent.objects.get(ven=ven, event_id=dispatch)
    split = {
        row.node_id: (row.share, row.limit_kw) for row in EventNodeLimit.objects.filter(event=kw)
    }
    assert split == {
        garage.supply.pk: (Decimal("0.8"), Decimal("24.000")),
        annex.supply.pk: (Decimal("0.2"), Decimal("6.000")),
    }
    # Its start, between two polls, rebalances both sites at the next poll.
    rebalanced = []
    monkeypatch.setattr(limits, "rebalance_soon", rebalanced.append)
    poll(ven, now=kw.starts_at + timedelta(seconds=5))
    assert sorted(rebalanced) == sorted([garage.site.pk, annex.site.pk])
    monkeypatch.undo()

    # The annex leaves the group: its limits are lifted now, the garage's stay.
    services.ven_update(ven=ven, member_nodes=[])
    later = timezone.now() + timedelta(seconds=1)
    assert (limit_a_at(garage, later), annex_a_at(annex, later)) == (Decimal("40"), Decimal("25"))

    # Back in, then the VTN cancels: both sites are lifted.
    services.ven_update(ven=ven, member_nodes=[annex.supply])
    assert annex_a_at(annex, timezone.now() + timedelta(seconds=1)) == Decimal("10")
    vtn.cancel(ven.ven_id, level)
    poll(ven)
    later = timezone.now() + timedelta(seconds=1)
    assert (limit_a_at(garage, later), annex_a_at(annex, later)) == (Decimal("100"), Decimal("25"))


def test_a_rule_opts_out_of_long_events_and_the_vtn_hears_it(garage, vtn):
    ven = ven_for(garage, vtn, unique(), opt_out_over_minutes=30)
    poll(ven)
    ven.refresh_from_db()
    short = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=600)
    long = vtn.add_event(ven_id=ven.ven_id, payload=2, starts_in=0, duration=3600)
    poll(ven)

    taken = DemandResponseEvent.objects.get(ven=ven, event_id=short)
    refused = DemandResponseEvent.objects.get(ven=ven, event_id=long)
    assert (taken.opt, taken.opt_source) == (Opt.IN, OptSource.DEFAULT)
    assert (refused.opt, refused.opt_source) == (Opt.OUT, OptSource.RULE)
    assert in_force(taken.reference) and not in_force(refused.reference)
    assert opts(vtn, short) == [Opt.IN] and opts(vtn, long) == [Opt.OUT]
    # A site admin may still take part in the long one.
    services.event_opt_set(event=refused, opt=Opt.IN)
    assert in_force(refused.reference)
