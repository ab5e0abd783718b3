"""Access decision benchmark: how long "may this token charge here now?" takes for a tenant with
100,000 tokens, 1,000 driver groups and 10,000 access rules, next to a baseline measured in
the same run.

Data (one tenant, built once and reused; ``--rebuild`` to start again): 100 sites (a mix of
timezones), 10 stations per site with 2 ports each, tokens in 1–3 groups each, and the rules
spread over the three levels (1,000 site rules, 8,000 station rules, 1,000 port rules), each
naming 0–3 groups, half of them with 1–5 weekly windows (some past midnight), some with date
ranges or holiday modes; 200 holidays.

Timed, for the same random (token, station, port) triples, one after the other in one process
on one database connection (what an OCPP worker thread does):

- ``baseline``: ``charging.authorize`` with the access policy unregistered (the token table
  and the other policies: what Authorize costs without access control);
- ``access``: the access policy alone (``handlers.authorization``: station, rules of the place,
  the token's groups, holidays, the engine);
- ``authorize``: ``charging.authorize`` with the access policy registered (the whole answer);
- ``engine``: the pure engine on inputs read beforehand (the decision without I/O).

The access inputs are read in one query (``selectors.INPUTS_SQL``); its server-side execution
time for one sample is printed from EXPLAIN ANALYZE.  On a loaded machine the round trip,
not the work, dominates: compare with the baseline of the same run.

    .venv/bin/python bench/access_decision.py --decisions 5000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from _common import setup_django

SLUG = "bench-access"
ZONES = ["America/Toronto", "America/Vancouver", "Europe/Paris", "Pacific/Auckland", "UTC"]


def build(*, tokens: int, groups: int, sites: int, stations_per_site: int, rules: int, seed: int):
    from apps.access.choices import HolidayMode, RuleKind
    from apps.access.models import AccessGroup, AccessRule, Holiday, RuleWindow
    from apps.charging.models import IdToken
    from apps.stations.models import Evse, Site, Station

    rng = random.Random(seed)
    site_rows = Site.objects.bulk_create(
        [Site(name=f"Bench site {n:03}", timezone=ZONES[n % len(ZONES)]) for n in range(sites)]
    )
    station_rows = Station.objects.bulk_create(
        [
            Station(identity=f"BA-{s.pk}-{n}", site=s, registration_status="Accepted")
            for s in site_rows
            for n in range(stations_per_site)
        ]
    )
    evse_rows = Evse.objects.bulk_create(
        [Evse(station=st, evse_id=n) for st in station_rows for n in (1, 2)]
    )
    IdToken.objects.bulk_create([IdToken(uid=f"BT{n:07}") for n in range(tokens)], batch_size=5000)
    group_rows = AccessGroup.objects.bulk_create(
        [AccessGroup(name=f"Bench group {n:04}") for n in range(groups)]
    )
    token_ids = list(IdToken.objects.values_list("pk", flat=True))
    Member = AccessGroup.tokens.through
    members = {(g.pk, t) for t in token_ids for g in rng.sample(group_rows, rng.randint(1, 3))}
    Member.objects.bulk_create(
        [Member(accessgroup_id=g, idtoken_id=t) for g, t in members], batch_size=10000
    )
    site_share, port_share = rules // 10, rules // 10
    places = (
        [{"site": rng.choice(site_rows)} for _ in range(site_share)]
        + [{"evse": rng.choice(evse_rows)} for _ in range(port_share)]
        + [{"station": rng.choice(station_rows)} for _ in range(rules - site_share - port_share)]
    )
    site_of_station = {st.pk: st.site for st in station_rows}
    rule_rows = []
    for n, place in enumerate(places):
        scope = (
            place.get("site")
            or (place.get("station") and site_of_station[place["station"].pk])
            or site_of_station[place["evse"].station_id]
        )
        start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
        dated = rng.random() < 0.2
        rule_rows.append(
            AccessRule(
                name=f"Bench rule {n}",
                kind=rng.choice([RuleKind.MEMBERS] * 3 + [RuleKind.PUBLIC, RuleKind.PRIVATE]),
                scope_site=scope,
                date_from=start if dated else None,
                date_to=start + dt.timedelta(days=60) if dated else None,
                holidays=rng.choice(list(HolidayMode.values)),
                **place,
            )
        )
    rule_rows = AccessRule.objects.bulk_create(rule_rows, batch_size=5000)
    Named = AccessRule.groups.through
    Named.objects.bulk_create(
        [
            Named(accessrule_id=r.pk, accessgroup_id=g.pk)
            for r in rule_rows
            for g in rng.sample(group_rows, rng.randint(0, 3))
        ],
        batch_size=10000,
    )
    windows = []
    for r in rule_rows:
        if rng.random() < 0.5:
            continue
        for day in rng.sample(range(7), rng.randint(1, 5)):
            windows.append(
                RuleWindow(
                    rule=r,
                    weekday=day,
                    start=dt.time(rng.randint(0, 23), rng.choice((0, 30))),
                    end=dt.time(rng.randint(0, 23), rng.choice((0, 30))),
                )
            )
    RuleWindow.objects.bulk_create(windows, batch_size=10000)
    Holiday.objects.bulk_create(
        [
            Holiday(date=dt.date(2026, 1, 1) + dt.timedelta(days=n), name=f"H{n}", site=s)
            for n, s in enumerate(rng.choices(site_rows + [None], k=200))
        ],
        ignore_conflicts=True,
    )


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, cases) -> list[float]:
    out = []
    for case in cases:
        begin = time.perf_counter()
        fn(case)
        out.append((time.perf_counter() - begin) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--stations-per-site", type=int, default=10)
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    setup_django("cg_access_bench")
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.access import handlers, selectors
    from apps.access.models import AccessGroup, AccessRule
    from apps.charging.models import IdToken
    from apps.charging.services import authorize
    from apps.core import policies
    from apps.stations.models import Evse
    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create

    template_ensure()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is not None and args.rebuild:
        tenant.delete(force_drop=True)
        tenant = None
    if tenant is None:
        tenant = tenant_create(
            name="Bench access", slug=SLUG, admin_email="a@bench-access.test", admin_password=None
        )
    with tenant_context(tenant):
        if not IdToken.objects.exists():
            began = time.perf_counter()
            build(
                tokens=args.tokens,
                groups=args.groups,
                sites=args.sites,
                stations_per_site=args.stations_per_site,
                rules=args.rules,
                seed=args.seed,
            )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"built in {time.perf_counter() - began:.0f} s")
        print(
            f"tenant: {IdToken.objects.count():,} tokens, {AccessGroup.objects.count():,} groups, "
            f"{AccessRule.objects.count():,} rules"
        )
        rng = random.Random(args.seed + 1)
        uids = list(IdToken.objects.values_list("uid", flat=True))
        ports = list(Evse.objects.values_list("station_id", "evse_id"))
        cases = []
        for _ in range(args.decisions):
            station_id, evse_id = rng.choice(ports)
            cases.append((rng.choice(uids), station_id, rng.choice((evse_id, None))))

        def baseline(case):
            authorize(uid=case[0], station_id=case[1], evse_id=case[2])

        def access(case):
            handlers.authorization(uid=case[0], station_id=case[1], evse_id=case[2])

        def whole(case):
            authorize(uid=case[0], station_id=case[1], evse_id=case[2])

        policies.unregister(policies.AUTHORIZATION, handlers.authorization)
        timed(baseline, cases[:200])  # warm the connection and the caches
        results = {"baseline": timed(baseline, cases)}
        policies.register(policies.AUTHORIZATION, handlers.authorization)
        results["access"] = timed(access, cases)
        results["authorize"] = timed(whole, cases)
        # The engine alone, on inputs read beforehand: what the decision costs without I/O.
        moment = timezone.now()
        loaded = [
            (selectors.decision_inputs(uid=u, station_id=s, evse_id=e, moment=moment), e)
            for u, s, e in cases
        ]
        results["engine"] = timed(
            lambda case: selectors.decide(
                inputs=case[0], moment=moment, port_known=case[1] is not None
            ),
            loaded,
        )
        uid, station_id, evse_id = cases[0]
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + selectors.INPUTS_SQL,
                {"uid": uid, "station": station_id, "evse": evse_id, "moment": moment},
            )
            plan = cursor.fetchone()[0][0]
        print(f"decision query, server side: {plan['Execution Time']:.2f} ms (one sample)")
        refused = sum(
            1
            for uid, station_id, evse_id in cases[:1000]
            if handlers.authorization(uid=uid, station_id=station_id, evse_id=evse_id)
        )
        print(f"{args.decisions:,} decisions; {refused / 10:.0f}% of the first 1,000 refused")
        for name, samples in results.items():
            print(
                f"{name:>10}: p50 {statistics.median(samples):.2f} ms, "
                f"p99 {percentile(samples, 99):.2f} ms, max {max(samples):.2f} ms"
            )


if __name__ == "__main__":
    main()
