"""Reads of the reports app: a report over a period, by site, station or port, against the
period just before it.  Every row comes from the rollups through ``restrict`` (the one scoping
path): a delegate's report holds only their sites.  Definitions: docs/reports.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    DateField,
    DateTimeField,
    F,
    Func,
    Max,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Extract
from django.utils.translation import gettext_lazy as _

from apps.charging.models import ChargingSession
from apps.core import policies
from apps.core.scoping import Actor
from apps.stations.models import Evse

from . import capacity, ghg
from .choices import STATE_COLUMNS, GroupBy
from .models import (
    GhgSettings,
    PortDayRollup,
    PortRollup,
    ReportSettings,
    SiteEmissionFactor,
    SiteQuarterRollup,
)

PERMISSION = "reports.view"
SUMMED = (
    "energy_wh",
    *STATE_COLUMNS,
    "seconds_occupied",
    "sessions_started",
    "sessions_ended",
    "revenue",
)
GROUP_FIELDS = {
    GroupBy.SITE: ("site_id", "site__name"),
    GroupBy.STATION: ("station_id", "station__identity"),
    GroupBy.PORT: ("evse_id", "station__identity", "evse__evse_id"),
}


@dataclass(frozen=True)
class UptimeRule:
    """The tenant's uptime definition (``ReportSettings``): faulted time is down; time
    unavailable (set by the operator: planned maintenance) is excluded, up or down; time
    offline is down or excluded; every other state is up."""

    unavailable: str = ReportSettings.Unavailable.EXCLUDED
    offline: str = ReportSettings.Offline.DOWN

    def split(self, m: Measures) -> tuple[int, int]:
        """(seconds counted, seconds down) of ``m`` under this rule."""
        counted, down = m.seconds_total, m.seconds_faulted
        if self.unavailable == ReportSettings.Unavailable.EXCLUDED:
            counted -= m.seconds_unavailable
        elif self.unavailable == ReportSettings.Unavailable.DOWN:
            down += m.seconds_unavailable
        if self.offline == ReportSettings.Offline.EXCLUDED:
            counted -= m.seconds_offline
        else:
            down += m.seconds_offline
        return counted, down


def report_settings() -> ReportSettings:
    """The tenant's report settings (the defaults when none were saved)."""
    return ReportSettings.objects.first() or ReportSettings()


def uptime_rule() -> UptimeRule:
    settings = report_settings()
    return UptimeRule(settings.uptime_unavailable, settings.uptime_offline)


@dataclass
class Measures:
    """Sums over a set of port-quarters, and the ratios the report shows."""

    energy_wh: int = 0
    peak_power_w: int | None = None
    seconds_available: int = 0
    seconds_charging: int = 0
    seconds_finished: int = 0
    seconds_reserved: int = 0
    seconds_faulted: int = 0
    seconds_unavailable: int = 0
    seconds_offline: int = 0
    seconds_occupied: int = 0
    sessions_started: int = 0
    sessions_ended: int = 0
    revenue: Decimal = Decimal("0")
    rule: UptimeRule = field(default=UptimeRule(), compare=False, repr=False)

    @classmethod
    def of(cls, row: dict, rule: UptimeRule | None = None) -> Measures:
        return cls(
            **{
                name: row.get(name) or cls.__dataclass_fields__[name].default
                for name in cls.__dataclass_fields__
                if name in row
            },
            rule=rule or UptimeRule(),
        )

    @property
    def seconds_total(self) -> int:
        return sum(getattr(self, name) for name in STATE_COLUMNS)

    def _share(self, part: int, whole: int) -> Decimal | None:
        return None if whole == 0 else (Decimal(part) / whole * 100).quantize(Decimal("0.1"))

    @property
    def uptime_percent(self) -> Decimal | None:
        """Time up of the time counted, under the tenant's uptime definition (``rule``)."""
        counted, down = self.rule.split(self)
        return self._share(counted - down, counted)

    @property
    def utilisation_percent(self) -> Decimal | None:
        """Time charging (or preparing, suspended), of the time counted."""
        return self._share(self.seconds_charging, self.seconds_total)

    @property
    def occupancy_percent(self) -> Decimal | None:
        """Time a session was open on the port (charging or idle), of the time counted."""
        return self._share(self.seconds_occupied, self.seconds_total)

    @property
    def energy_per_session_wh(self) -> int | None:
        return None if not self.sessions_ended else self.energy_wh // self.sessions_ended

    def as_dict(self) -> dict:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "rule"}
        for name in (
            "uptime_percent",
            "utilisation_percent",
            "occupancy_percent",
            "energy_per_session_wh",
            "seconds_total",
        ):
            out[name] = getattr(self, name)
        return out


@dataclass
class ReportRow:
    key: int | None
    label: str
    measures: Measures
    previous: Measures
    ghg_avoided_g: int | None = None  # by site only (each site has its own grid factor)


@dataclass
class Report:
    start: dt.date
    end: dt.date  # excluded
    group_by: str
    totals: Measures
    previous: Measures
    rows: list[ReportRow] = field(default_factory=list)
    series: list[tuple[dt.date, int, int | None]] = field(default_factory=list)  # day, Wh, peak
    ghg_avoided_g: int = 0
    previous_ghg_avoided_g: int = 0

    @property
    def previous_start(self) -> dt.date:
        return self.start - (self.end - self.start)


def _aggregates() -> dict:
    return {**{name: Sum(name) for name in SUMMED}, "peak_power_w": Max("peak_power_w")}


def _days(
    *, actor: Actor, start: dt.date, end: dt.date, site_ids=None, station_ids=None, evse_ids=None
) -> QuerySet:
    rows = PortDayRollup.objects.restrict(actor, PERMISSION).filter(day__gte=start, day__lt=end)
    if site_ids:
        rows = rows.filter(site_id__in=site_ids)
    if station_ids:
        rows = rows.filter(station_id__in=station_ids)
    if evse_ids:
        rows = rows.filter(evse_id__in=evse_ids)
    return rows


def _label(group_by: str, row: dict) -> str:
    if group_by == GroupBy.PORT:
        return f"{row['station__identity']} #{row['evse__evse_id']}"
    return str(row[GROUP_FIELDS[group_by][1]] or "—")


def report_build(
    *,
    actor: Actor,
    start: dt.date,
    end: dt.date,
    group_by: str = GroupBy.SITE,
    site_ids: list[int] | None = None,
    station_ids: list[int] | None = None,
    evse_ids: list[int] | None = None,
) -> Report:
    """Days [start, end) in each site's own calendar, and the same length just before."""
    previous_start = start - (end - start)
    rule = uptime_rule()
    filters = {"site_ids": site_ids, "station_ids": station_ids, "evse_ids": evse_ids}
    current = _days(actor=actor, start=start, end=end, **filters)
    before = _days(actor=actor, start=previous_start, end=start, **filters)
    fields = GROUP_FIELDS[group_by]
    now_rows = {r[fields[0]]: r for r in current.values(*fields).annotate(**_aggregates())}
    old_rows = {r[fields[0]]: r for r in before.values(*fields).annotate(**_aggregates())}
    rows = [
        ReportRow(
            key=key,
            label=_label(group_by, row),
            measures=Measures.of(row, rule),
            previous=Measures.of(old_rows.get(key, {}), rule),
        )
        for key, row in now_rows.items()
    ]
    rows.sort(key=lambda r: (-r.measures.energy_wh, r.label))
    series = [
        (r["day"], r["energy_wh"] or 0, r["peak_power_w"])
        for r in current.values("day")
        .annotate(energy_wh=Sum("energy_wh"), peak_power_w=Max("peak_power_w"))
        .order_by("day")
    ]
    ghg_now = _ghg_by_site(current)
    ghg_before = _ghg_by_site(before)
    if group_by == GroupBy.SITE:
        for row in rows:
            row.ghg_avoided_g = ghg_now.get(row.key, 0)
    return Report(
        ghg_avoided_g=sum(ghg_now.values()),
        previous_ghg_avoided_g=sum(ghg_before.values()),
        start=start,
        end=end,
        group_by=group_by,
        totals=Measures.of(current.aggregate(**_aggregates()), rule),
        previous=Measures.of(before.aggregate(**_aggregates()), rule),
        rows=rows,
        series=series,
    )


def ghg_settings() -> GhgSettings:
    """The tenant's saved greenhouse gas factors (the defaults when none were saved)."""
    return GhgSettings.objects.first() or GhgSettings()


def ghg_factors() -> tuple[ghg.Factors, dict[int, Decimal]]:
    """The tenant's factors and the sites' own grid factors."""
    settings = GhgSettings.objects.first()
    factors = (
        ghg.Factors(settings.baseline_g_per_km, settings.ev_kwh_per_km, settings.grid_g_per_kwh)
        if settings
        else ghg.Factors()
    )
    sites = dict(SiteEmissionFactor.objects.values_list("site_id", "grid_g_per_kwh"))
    return factors, sites


def _ghg_by_site(rows: QuerySet) -> dict[int | None, int]:
    factors, site_grid = ghg_factors()
    out = {}
    for row in rows.values("site_id").annotate(energy=Sum("energy_wh")):
        grid = site_grid.get(row["site_id"])
        mine = replace(factors, grid_g_per_kwh=grid) if grid is not None else factors
        out[row["site_id"]] = ghg.avoided_g(row["energy"] or 0, mine)
    return out


def load_profile(
    *, actor: Actor, start: dt.datetime, end: dt.datetime, site_ids=None, station_ids=None
) -> list[tuple[dt.datetime, int, int | None]]:
    """Energy (Wh) and peak power (W) of every quarter hour of [start, end), summed over the
    ports in scope: the 15-minute report."""
    if station_ids:
        rows = PortRollup.objects.restrict(actor, PERMISSION).filter(station_id__in=station_ids)
    else:  # whole sites: their summed quarters, a twentieth of the rows of their ports
        rows = SiteQuarterRollup.objects.restrict(actor, PERMISSION)
    rows = rows.filter(bucket__gte=start, bucket__lt=end)
    if site_ids:
        rows = rows.filter(site_id__in=site_ids)
    # Tuples of integers: the quarter as epoch seconds and the sum cast back to bigint.
    # Loading 35,040 timestamptz values (a year) through the driver's time-zone-aware loader
    # took over half of the time (bench/reports_query.py); integers load at C speed.
    at = Cast(Extract("bucket", "epoch"), BigIntegerField())
    quarters = (
        rows.annotate(at=at)
        .values("at")
        .annotate(energy=Cast(Sum("energy_wh"), BigIntegerField()), peak=Max("peak_power_w"))
        .order_by("at")
        .values_list("at", "energy", "peak")
    )
    utc = dt.UTC
    return [(dt.datetime.fromtimestamp(t, utc), wh, peak) for t, wh, peak in quarters]


def port_rollup_list(*, actor: Actor) -> QuerySet:
    return PortRollup.objects.restrict(actor, PERMISSION).select_related("station", "evse")


def day_rollup_list(*, actor: Actor) -> QuerySet:
    return PortDayRollup.objects.restrict(actor, PERMISSION).select_related("station", "evse")


# --- The capacity planner ---------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityInputs:
    """What the planner is asked: the site's panel and the ports thought of.  Powers in W;
    ``limit_w`` None: the existing ports' combined power (the panel was sized for them)."""

    limit_w: int | None = None
    other_load_w: int = 0
    port_w: int = 7400
    min_w: int = 1380  # 6 A on one 230 V phase
    tolerance_percent: Decimal = Decimal("5")
    wanted_ports: int = 0


def site_capacity_plan(
    *, actor: Actor, site, start: dt.date, end: dt.date, inputs: CapacityInputs
) -> capacity.CapacityPlan:
    """The capacity plan of ``site`` (already in the caller's scope) from its quarters of the
    local days [start, end), read through ``restrict``."""
    zone = ZoneInfo(site.timezone)
    since = dt.datetime.combine(start, dt.time(), zone)
    until = dt.datetime.combine(end, dt.time(), zone)
    rows = (
        SiteQuarterRollup.objects.restrict(actor, PERMISSION)
        .filter(site_id=site.pk, bucket__gte=since, bucket__lt=until)
        .order_by("bucket")
        .values_list("bucket", "energy_wh", "seconds_occupied", "sessions_started")
    )
    quarters = [capacity.Quarter(*row) for row in rows]
    ports = Evse.objects.filter(station__site_id=site.pk)
    installed = ports.aggregate(total=Sum("max_power_w"))["total"] or 0
    assumptions = capacity.Assumptions(
        limit_w=inputs.limit_w if inputs.limit_w is not None else installed,
        other_load_w=inputs.other_load_w,
        existing_ports=ports.count(),
        port_w=inputs.port_w,
        min_w=inputs.min_w,
        tolerance_percent=inputs.tolerance_percent,
        wanted_ports=inputs.wanted_ports,
    )
    return capacity.plan(quarters, assumptions, zone=zone, days=(end - start).days)


# --- Breakdowns of sessions ---------------------------------------------------------------------

# (key, upper bound in seconds or None, label): a session falls in the first band whose bound
# it is under.
DURATION_BANDS = (
    ("lt30m", 30 * 60, _("under 30 min")),
    ("30m-1h", 3600, _("30 min to 1 h")),
    ("1h-2h", 2 * 3600, _("1 to 2 h")),
    ("2h-4h", 4 * 3600, _("2 to 4 h")),
    ("4h-8h", 8 * 3600, _("4 to 8 h")),
    ("8h+", None, _("8 h or more")),
)
IDLE_BANDS = (
    ("none", 1, _("no idle time")),
    ("lt15m", 15 * 60, _("under 15 min")),
    ("15m-1h", 3600, _("15 min to 1 h")),
    ("1h-4h", 4 * 3600, _("1 to 4 h")),
    ("4h+", None, _("4 h or more")),
)


@dataclass
class BreakdownRow:
    key: str | int | None
    label: str
    sessions: int = 0
    energy_wh: int = 0
    seconds: int = 0  # plugged in: start to end
    idle_seconds: int = 0  # plugged in after energy stopped flowing

    @property
    def energy_per_session_wh(self) -> int | None:
        return self.energy_wh // self.sessions if self.sessions else None

    @property
    def average_minutes(self) -> int | None:
        return round(self.seconds / self.sessions / 60) if self.sessions else None

    @property
    def average_idle_minutes(self) -> int | None:
        return round(self.idle_seconds / self.sessions / 60) if self.sessions else None

    def add(self, energy_wh: int, seconds: int, idle: int) -> None:
        self.sessions += 1
        self.energy_wh += energy_wh
        self.seconds += seconds
        self.idle_seconds += idle


@dataclass
class Breakdowns:
    by_duration: list[BreakdownRow]
    by_idle: list[BreakdownRow]
    by_group: list[BreakdownRow]
    by_vehicle: list[BreakdownRow] | None  # None: no fleet app answers (not shown)


def _band(bands, seconds: int) -> str:
    for key, bound, _label in bands:
        if bound is None or seconds < bound:
            return key
    raise AssertionError("the last band has no bound")


def breakdown_sessions(
    *, actor: Actor, start: dt.date, end: dt.date, site_ids: list[int] | None = None
) -> QuerySet:
    """The ended sessions in scope that started on the days [start, end) of their site's own
    calendar, as (id, energy Wh, seconds plugged in, seconds idle)."""
    local_day = Cast(
        Func(
            F("station__site__timezone"),
            F("started_at"),
            function="timezone",
            output_field=DateTimeField(),
        ),
        DateField(),
    )
    sessions = (
        ChargingSession.objects.restrict(actor, PERMISSION)
        .filter(ended_at__isnull=False)
        .annotate(local_day=local_day)
        .filter(local_day__gte=start, local_day__lt=end)
    )
    if site_ids:
        sessions = sessions.filter(station__site_id__in=site_ids)
    return sessions


def breakdowns_build(
    *, actor: Actor, start: dt.date, end: dt.date, site_ids: list[int] | None = None
) -> Breakdowns:
    """Sessions by duration band, idle-time band, driver group (of their token: a session
    counts in each of its token's groups) and, when a fleet app answers, vehicle."""
    sessions = breakdown_sessions(actor=actor, start=start, end=end, site_ids=site_ids)
    rows = list(
        sessions.values_list("pk", "energy_wh", "started_at", "ended_at", "charging_ended_at")
    )
    facts = {}
    for pk, energy, started, ended, charging_ended in rows:
        seconds = max(0, int((ended - started).total_seconds()))
        idle = 0
        if charging_ended is not None:
            idle = max(0, min(seconds, int((ended - max(charging_ended, started)).total_seconds())))
        facts[pk] = (energy or 0, seconds, idle)

    by_duration = {key: BreakdownRow(key, str(label)) for key, _b, label in DURATION_BANDS}
    by_idle = {key: BreakdownRow(key, str(label)) for key, _b, label in IDLE_BANDS}
    for energy, seconds, idle in facts.values():
        by_duration[_band(DURATION_BANDS, seconds)].add(energy, seconds, idle)
        by_idle[_band(IDLE_BANDS, idle)].add(energy, seconds, idle)

    groups: dict = {}
    grouped = set()
    for pk, group_id, name in sessions.filter(token__access_groups__isnull=False).values_list(
        "pk", "token__access_groups__id", "token__access_groups__name"
    ):
        groups.setdefault(group_id, BreakdownRow(group_id, name)).add(*facts[pk])
        grouped.add(pk)
    by_group = sorted(groups.values(), key=lambda r: (-r.energy_wh, r.label))
    no_group = BreakdownRow(None, str(_("no group")))
    for pk, values in facts.items():
        if pk not in grouped:
            no_group.add(*values)
    if no_group.sessions:
        by_group.append(no_group)

    by_vehicle = None
    vehicles = policies.ask(policies.SESSION_VEHICLES, session_ids=list(facts))
    if vehicles is not None:
        found: dict = {}
        unknown = BreakdownRow(None, str(_("unknown vehicle")))
        for pk, values in facts.items():
            vehicle = vehicles.get(pk)
            if vehicle is None:
                unknown.add(*values)
                continue
            found.setdefault(vehicle["id"], BreakdownRow(vehicle["id"], vehicle["label"]))
            found[vehicle["id"]].add(*values)
        by_vehicle = sorted(found.values(), key=lambda r: (-r.energy_wh, r.label))
        if unknown.sessions:
            by_vehicle.append(unknown)
    return Breakdowns(
        by_duration=list(by_duration.values()),
        by_idle=list(by_idle.values()),
        by_group=by_group,
        by_vehicle=by_vehicle,
    )
