"""Writes of the reports app: the rollup pipeline.

How a quarter hour of a port gets its numbers (definitions in docs/reports.md):

1. *Mark.*  Something changed in the raw rows: a port's quarter hour goes into ``RollupDirty``
   (``rollup_mark``).  ``rollup_scan`` finds what changed by reading the raw tables past the
   cursor (their ids only grow, so late and offline-queued rows are found by id, whatever
   their timestamps) and marks every quarter they can change: a meter reading's own quarter
   and the quarter of the session's next reading (whose increase it changes), a status
   change's quarters until the port's next change, a session's quarters, a session cost's
   quarter.  ``rollup_tick`` marks the current and previous quarter of every port (time passes
   even when nothing is reported: seconds in a status, an open session's occupancy).
2. *Recompute.*  ``rollup_pending`` claims marked quarters (rows locked and deleted, so two
   workers never do the same one) and ``rollup_recompute`` computes them from the raw rows in
   two set-based statements, then the port's local days from its quarters.  Nothing is ever
   added to a stored number: replays, late data and rebuilds give the same rows.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files import File
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from apps.billing.models import SessionCost
from apps.charging.metering import ENERGY_REGISTER, POWER
from apps.charging.models import ChargingSession, MeterValue
from apps.monitoring.services.alerts import portal_url
from apps.roles.selectors import UserActor
from apps.stations.models import Evse, Site, Station, StatusChange

from . import exports, queue, selectors
from .models import (
    ExportJob,
    GhgSettings,
    PortDayRollup,
    PortRollup,
    ReportDelivery,
    ReportSettings,
    ReportSubscription,
    RollupCursor,
    RollupDirty,
    RollupGap,
    SiteQuarterRollup,
)

QUARTER = dt.timedelta(minutes=15)
CLAIM_BATCH = 5000
MAX_QUARTERS_PER_CHANGE = 96 * 62  # a late status change re-marks at most two months


def quarter_of(moment: dt.datetime) -> dt.datetime:
    """The UTC quarter hour that holds ``moment``."""
    moment = moment.astimezone(dt.UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def quarters(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every quarter that overlaps [start, end)."""
    out, at = [], quarter_of(start)
    while at < end:
        out.append(at)
        at += QUARTER
    return out


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- 1. Mark --------------------------------------------------------------------------------


def rollup_mark(pairs: Iterable[tuple[int, dt.datetime]]) -> int:
    """Mark (port pk, quarter) pairs for recomputation.  Returns how many were given."""
    pairs = list({(evse_id, quarter_of(at)) for evse_id, at in pairs})
    if not pairs:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_t(RollupDirty)} (evse_id, bucket) "
            "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[]) ON CONFLICT DO NOTHING",
            [[p[0] for p in pairs], [p[1] for p in pairs]],
        )
    return len(pairs)


def rollup_mark_session(*, session_id: int) -> int:
    session = ChargingSession.objects.filter(pk=session_id).only(
        "evse_id", "started_at", "ended_at"
    )
    session = session.first()
    if session is None:
        return 0
    end = session.ended_at or timezone.now()
    return rollup_mark((session.evse_id, q) for q in quarters(session.started_at, end + QUARTER))


# In the same statement (the same snapshot) as a scan: forget the gaps now seen, and those
# whose holders (the transactions running when they were noted) had all ended before this
# statement began (``running`` is read just before it); note the ids up to the newest seen
# that are not visible (yet), with the transactions running now.  Virtual transaction ids, not
# xids: a snapshot's xmax is the newest *completed* xid + 1, so a running transaction with a
# newer xid (or with none yet, between ``nextval`` and its first write) is not below it.
_GAPS_CTE = """
            forgotten AS (
                DELETE FROM reports_rollupgap
                WHERE source = %(source)s AND (row_id IN (SELECT id FROM new)
                    OR NOT holders && %(running)s::varchar[])
            ), noted AS (
                INSERT INTO reports_rollupgap (source, row_id, holders)
                SELECT %(source)s, g, ({running})
                FROM generate_series(%(after)s + 1, (SELECT max(id) FROM new)) g
                WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = g)
                ON CONFLICT DO NOTHING
            )"""

# Every transaction holds the lock on its own virtual id from its first statement.  Every
# database's: pg_stat_activity (to keep only ours) is read once per transaction and cached, so
# it would miss a transaction begun since; a gap also waits for other databases' (harmless).
_RUNNING = (
    "SELECT coalesce(array_agg(virtualxid), '{}') FROM pg_locks "
    "WHERE locktype = 'virtualxid' AND granted"
)


def running_transactions() -> list[str]:
    """The virtual ids of the transactions running now (every database's)."""
    with connection.cursor() as cursor:
        cursor.execute(_RUNNING)
        return list(cursor.fetchone()[0])


def _gaps(source: str) -> dict:
    """The ids a scan looks for again, and (read before its statement) who is running."""
    ids = list(RollupGap.objects.filter(source=source).values_list("row_id", flat=True))
    return {"source": source, "gaps": ids, "running": running_transactions() if ids else []}


@transaction.atomic
def rollup_scan(*, now: dt.datetime | None = None) -> int:
    """Mark the quarters that raw rows written since the last scan can change; move the
    cursor.  Returns the number of new raw rows seen."""
    now = now or timezone.now()
    cursor_row, _ = RollupCursor.objects.get_or_create(singleton=True)
    cursor_row = RollupCursor.objects.select_for_update().get(pk=cursor_row.pk)
    seen = 0
    with connection.cursor() as cursor:
        # Meter readings: their quarter, and the quarter of the session's next register
        # reading (its increase is measured from this one).
        cursor.execute(
            f"""
            WITH new AS (
                SELECT mv.id, mv.station_id, mv.evse_id AS evse_no, mv.session_id,
                       mv.timestamp, mv.measurand
                FROM {_t(MeterValue)} mv WHERE mv.id > %(after)s OR mv.id = ANY(%(gaps)s)
            ), {_GAPS_CTE.format(table=_t(MeterValue), running=_RUNNING)}, marks AS (
                SELECT e.id AS evse_pk, new.timestamp AS at FROM new
                JOIN {_t(Evse)} e ON e.station_id = new.station_id AND e.evse_id = new.evse_no
                UNION
                SELECT e.id, nxt.timestamp FROM new
                JOIN {_t(Evse)} e ON e.station_id = new.station_id AND e.evse_id = new.evse_no
                CROSS JOIN LATERAL (
                    SELECT m2.timestamp FROM {_t(MeterValue)} m2
                    WHERE m2.session_id = new.session_id AND m2.measurand = new.measurand
                      AND m2.timestamp > new.timestamp
                    ORDER BY m2.timestamp LIMIT 1
                ) nxt
                WHERE new.session_id IS NOT NULL AND new.measurand = %(register)s
                UNION
                SELECT s.evse_id, s.ended_at FROM new
                JOIN {_t(ChargingSession)} s ON s.id = new.session_id
                WHERE new.measurand = %(register)s AND s.ended_at > new.timestamp
            ), marked AS (
                INSERT INTO {_t(RollupDirty)} (evse_id, bucket)
                SELECT DISTINCT evse_pk, date_bin('15 minutes', at, TIMESTAMPTZ '2000-01-01')
                FROM marks ON CONFLICT DO NOTHING
            )
            SELECT greatest(coalesce(max(id), %(after)s), %(after)s), count(*) FROM new
            """,
            {
                "after": cursor_row.meter_value_id,
                "register": ENERGY_REGISTER,
                **_gaps(RollupGap.Source.METER_VALUE),
            },
        )
        cursor_row.meter_value_id, count = cursor.fetchone()
        seen += count
        # Status changes: every quarter from the change to the port's next change (of the
        # same kind), at most up to now.  A link change touches every port of the station.
        cursor.execute(
            f"""
            WITH new AS (
                SELECT sc.id, sc.station_id, sc.evse_id, sc.kind, sc.occurred_at
                FROM {_t(StatusChange)} sc WHERE sc.id > %(after)s OR sc.id = ANY(%(gaps)s)
            ), {_GAPS_CTE.format(table=_t(StatusChange), running=_RUNNING)}, spans AS (
                SELECT e.id AS evse_pk, new.occurred_at AS since,
                       least(coalesce(nxt.occurred_at, %(now)s), %(now)s,
                             new.occurred_at + %(cap)s) AS until
                FROM new
                JOIN {_t(Evse)} e ON e.station_id = new.station_id
                     AND (new.evse_id = e.id OR new.kind = 'connection')
                LEFT JOIN LATERAL (
                    SELECT s2.occurred_at FROM {_t(StatusChange)} s2
                    WHERE s2.station_id = new.station_id AND s2.kind = new.kind
                      AND (new.kind = 'connection' OR s2.evse_id = new.evse_id)
                      AND s2.occurred_at > new.occurred_at
                    ORDER BY s2.occurred_at LIMIT 1
                ) nxt ON true
            ), marked AS (
                INSERT INTO {_t(RollupDirty)} (evse_id, bucket)
                SELECT DISTINCT spans.evse_pk, q
                FROM spans CROSS JOIN LATERAL generate_series(
                    date_bin('15 minutes', spans.since, TIMESTAMPTZ '2000-01-01'),
                    greatest(spans.until - interval '1 microsecond', spans.since),
                    interval '15 minutes') AS q
                ON CONFLICT DO NOTHING
            )
            SELECT greatest(coalesce(max(id), %(after)s), %(after)s), count(*) FROM new
            """,
            {
                "after": cursor_row.status_change_id,
                "now": now,
                "cap": QUARTER * MAX_QUARTERS_PER_CHANGE,
                **_gaps(RollupGap.Source.STATUS_CHANGE),
            },
        )
        cursor_row.status_change_id, count = cursor.fetchone()
        seen += count
        # Session costs (billing prices a session after it ends): the quarter it ended in.
        cursor.execute(
            f"""
            WITH new AS (
                SELECT c.id, s.evse_id, s.ended_at FROM {_t(SessionCost)} c
                JOIN {_t(ChargingSession)} s ON s.id = c.session_id
                WHERE c.id > %(after)s OR c.id = ANY(%(gaps)s)
            ), {_GAPS_CTE.format(table=_t(SessionCost), running=_RUNNING)}, marked AS (
                INSERT INTO {_t(RollupDirty)} (evse_id, bucket)
                SELECT DISTINCT evse_id,
                       date_bin('15 minutes', ended_at, TIMESTAMPTZ '2000-01-01')
                FROM new WHERE ended_at IS NOT NULL ON CONFLICT DO NOTHING
            )
            SELECT greatest(coalesce(max(id), %(after)s), %(after)s), count(*) FROM new
            """,
            {"after": cursor_row.session_cost_id, **_gaps(RollupGap.Source.SESSION_COST)},
        )
        cursor_row.session_cost_id, count = cursor.fetchone()
        seen += count
    cursor_row.save()
    return seen


def rollup_tick(*, now: dt.datetime | None = None) -> int:
    """Mark the current and the previous quarter of every port (time passes by itself)."""
    now = now or timezone.now()
    current = quarter_of(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_t(RollupDirty)} (evse_id, bucket) "
            f"SELECT e.id, q FROM {_t(Evse)} e, unnest(%s::timestamptz[]) q "
            "ON CONFLICT DO NOTHING",
            [[current - QUARTER, current]],
        )
        return cursor.rowcount


# --- 2. Recompute ---------------------------------------------------------------------------

_STATE_OF = """
    CASE
        WHEN link IS DISTINCT FROM 'Online' THEN 'offline'
        WHEN status = 'Available' THEN 'available'
        WHEN status IN ('Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Occupied')
            THEN 'charging'
        WHEN status = 'Finishing' THEN 'finished'
        WHEN status = 'Reserved' THEN 'reserved'
        WHEN status = 'Faulted' THEN 'faulted'
        ELSE 'unavailable'
    END
"""


def _recompute_sql() -> str:
    mv, cs, sc = _t(MeterValue), _t(ChargingSession), _t(StatusChange)
    states = ("available", "charging", "finished", "reserved", "faulted", "unavailable", "offline")
    state_sums = ",\n".join(
        f"coalesce(sum(seconds) FILTER (WHERE state = '{s}'), 0)::int AS seconds_{s}"
        for s in states
    )
    state_cols = ", ".join(f"seconds_{s}" for s in states)
    state_vals = ", ".join(f"coalesce(st.seconds_{s}, 0)" for s in states)
    return f"""
WITH d AS (
    SELECT DISTINCT u.evse_pk, u.bucket, u.bucket + interval '15 minutes' AS bucket_end,
           least(u.bucket + interval '15 minutes', greatest(%(now)s, u.bucket)) AS known_until,
           e.station_id, e.evse_id AS evse_no, s.site_id
    FROM unnest(%(evses)s::bigint[], %(buckets)s::timestamptz[]) AS u(evse_pk, bucket)
    JOIN {_t(Evse)} e ON e.id = u.evse_pk
    JOIN {_t(Station)} s ON s.id = e.station_id
),
-- Energy: register readings of the port's sessions in the quarter (stored samples, plus the
-- session's meter start and stop), each against the session's reading just before it.
readings AS (
    -- (LATERAL: one index range scan per port-quarter, whatever the planner guesses)
    SELECT d.evse_pk, d.bucket, mv.session_id, mv.at, mv.wh
    FROM d CROSS JOIN LATERAL (
        SELECT m.session_id, m.timestamp AS at, m.value::bigint AS wh FROM {mv} m
        WHERE m.station_id = d.station_id AND m.evse_id = d.evse_no
          AND m.timestamp >= d.bucket AND m.timestamp < d.bucket_end
          AND m.measurand = %(register)s AND m.phase = '' AND m.location IN ('', 'Outlet')
          AND m.session_id IS NOT NULL
        OFFSET 0  -- keeps the subquery (and its index scan) from being flattened
    ) mv
    UNION ALL
    SELECT d.evse_pk, d.bucket, s.id, s.started_at, s.meter_start_wh
    FROM d JOIN {cs} s ON s.evse_id = d.evse_pk
        AND s.started_at >= d.bucket AND s.started_at < d.bucket_end
    WHERE s.meter_start_wh IS NOT NULL
    UNION ALL
    SELECT d.evse_pk, d.bucket, s.id, s.ended_at, s.meter_stop_wh
    FROM d JOIN {cs} s ON s.evse_id = d.evse_pk
        AND s.ended_at >= d.bucket AND s.ended_at < d.bucket_end
    WHERE s.meter_stop_wh IS NOT NULL
),
before AS (
    SELECT r.evse_pk, r.bucket, r.session_id, p.at, p.wh
    FROM (SELECT DISTINCT evse_pk, bucket, session_id FROM readings) r
    JOIN {cs} s ON s.id = r.session_id
    CROSS JOIN LATERAL (
        SELECT at, wh FROM (
            (SELECT mv.timestamp AS at, mv.value::bigint AS wh FROM {mv} mv
             WHERE mv.session_id = r.session_id AND mv.measurand = %(register)s
               AND mv.phase = '' AND mv.location IN ('', 'Outlet') AND mv.timestamp < r.bucket
             ORDER BY mv.timestamp DESC, mv.value DESC LIMIT 1)
            UNION ALL
            SELECT s.started_at, s.meter_start_wh
            WHERE s.meter_start_wh IS NOT NULL AND s.started_at < r.bucket
            UNION ALL
            SELECT s.ended_at, s.meter_stop_wh
            WHERE s.meter_stop_wh IS NOT NULL AND s.ended_at < r.bucket
        ) c ORDER BY at DESC, wh DESC LIMIT 1
    ) p
),
steps AS (
    SELECT evse_pk, bucket, inside,
           wh - lag(wh) OVER (PARTITION BY evse_pk, bucket, session_id ORDER BY at, wh) AS step
    FROM (SELECT *, true AS inside FROM readings
          UNION ALL SELECT *, false FROM before) x
),
energy AS (
    SELECT evse_pk, bucket, sum(greatest(step, 0))::bigint AS energy_wh
    FROM steps WHERE inside AND step IS NOT NULL GROUP BY evse_pk, bucket
),
power AS (
    SELECT d.evse_pk, d.bucket, mv.peak AS peak_power_w
    FROM d CROSS JOIN LATERAL (
        SELECT max(m.value)::int AS peak FROM {mv} m
        WHERE m.station_id = d.station_id AND m.evse_id = d.evse_no
          AND m.timestamp >= d.bucket AND m.timestamp < d.bucket_end
          AND m.measurand = %(power)s AND m.phase = '' AND m.location IN ('', 'Outlet')
    ) mv WHERE mv.peak IS NOT NULL
),
sessions AS (
    SELECT d.evse_pk, d.bucket,
        count(*) FILTER (WHERE s.started_at >= d.bucket) AS sessions_started,
        count(*) FILTER (WHERE s.ended_at >= d.bucket AND s.ended_at < d.bucket_end)
            AS sessions_ended,
        sum(greatest(0, extract(epoch FROM
            least(coalesce(s.ended_at, d.known_until), d.known_until)
            - greatest(s.started_at, d.bucket))))::int AS seconds_occupied,
        coalesce(sum(c.total) FILTER (
            WHERE s.ended_at >= d.bucket AND s.ended_at < d.bucket_end), 0) AS revenue
    FROM d JOIN {cs} s ON s.evse_id = d.evse_pk AND s.started_at < d.bucket_end
        AND (s.ended_at IS NULL OR s.ended_at >= d.bucket)
    LEFT JOIN {_t(SessionCost)} c ON c.session_id = s.id
    GROUP BY d.evse_pk, d.bucket
),
-- Seconds in each state: the quarter cut at every change of the port's status or of the
-- station's link; each piece takes the status and the link in force at its start.
cuts AS (
    SELECT d.evse_pk, d.bucket, d.bucket AS at FROM d
    UNION
    SELECT d.evse_pk, d.bucket, c.occurred_at FROM d JOIN {sc} c
        ON c.station_id = d.station_id AND c.occurred_at > d.bucket
        AND c.occurred_at < d.known_until
        AND ((c.kind = 'connector' AND c.evse_id = d.evse_pk) OR c.kind = 'connection')
),
pieces AS (
    SELECT cuts.evse_pk, cuts.bucket,
        extract(epoch FROM lead(cuts.at, 1, d.known_until)
            OVER (PARTITION BY cuts.evse_pk, cuts.bucket ORDER BY cuts.at) - cuts.at) AS seconds,
        port.status, link.status AS link
    FROM cuts JOIN d ON d.evse_pk = cuts.evse_pk AND d.bucket = cuts.bucket
    LEFT JOIN LATERAL (
        SELECT c.status FROM {sc} c WHERE c.station_id = d.station_id
          AND c.kind = 'connector' AND c.evse_id = d.evse_pk AND c.occurred_at <= cuts.at
        ORDER BY c.occurred_at DESC, c.id DESC LIMIT 1) port ON true
    LEFT JOIN LATERAL (
        SELECT c.status FROM {sc} c WHERE c.station_id = d.station_id
          AND c.kind = 'connection' AND c.occurred_at <= cuts.at
        ORDER BY c.occurred_at DESC, c.id DESC LIMIT 1) link ON true
),
states AS (
    SELECT evse_pk, bucket, {state_sums}
    FROM (SELECT evse_pk, bucket, seconds, {_STATE_OF} AS state FROM pieces) p
    GROUP BY evse_pk, bucket
)
INSERT INTO {_t(PortRollup)} (evse_id, station_id, site_id, bucket, computed_at,
    energy_wh, peak_power_w, {state_cols}, seconds_occupied, sessions_started,
    sessions_ended, revenue)
SELECT d.evse_pk, d.station_id, d.site_id, d.bucket, %(now)s,
    coalesce(en.energy_wh, 0), pw.peak_power_w, {state_vals},
    coalesce(se.seconds_occupied, 0), coalesce(se.sessions_started, 0),
    coalesce(se.sessions_ended, 0), coalesce(se.revenue, 0)
FROM d
LEFT JOIN energy en ON en.evse_pk = d.evse_pk AND en.bucket = d.bucket
LEFT JOIN power pw ON pw.evse_pk = d.evse_pk AND pw.bucket = d.bucket
LEFT JOIN sessions se ON se.evse_pk = d.evse_pk AND se.bucket = d.bucket
LEFT JOIN states st ON st.evse_pk = d.evse_pk AND st.bucket = d.bucket
ON CONFLICT (evse_id, bucket) DO UPDATE SET
    station_id = EXCLUDED.station_id, site_id = EXCLUDED.site_id,
    computed_at = EXCLUDED.computed_at, energy_wh = EXCLUDED.energy_wh,
    peak_power_w = EXCLUDED.peak_power_w,
    {", ".join(f"{c} = EXCLUDED.{c}" for c in state_cols.split(", "))},
    seconds_occupied = EXCLUDED.seconds_occupied,
    sessions_started = EXCLUDED.sessions_started,
    sessions_ended = EXCLUDED.sessions_ended, revenue = EXCLUDED.revenue
"""


_MEASURES = (
    "energy_wh, seconds_available, seconds_charging, seconds_finished, seconds_reserved, "
    "seconds_faulted, seconds_unavailable, seconds_offline, seconds_occupied, "
    "sessions_started, sessions_ended, revenue"
)


def _days_sql() -> str:
    sums = ", ".join(f"sum(r.{c})" for c in _MEASURES.split(", "))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _MEASURES.split(", "))
    return f"""
WITH touched AS (
    SELECT DISTINCT u.evse_pk, e.station_id, s.site_id,
        coalesce(site.timezone, %(tz)s) AS tz,
        (u.bucket AT TIME ZONE coalesce(site.timezone, %(tz)s))::date AS day
    FROM unnest(%(evses)s::bigint[], %(buckets)s::timestamptz[]) AS u(evse_pk, bucket)
    JOIN {_t(Evse)} e ON e.id = u.evse_pk
    JOIN {_t(Station)} s ON s.id = e.station_id
    LEFT JOIN {_t(Site)} site ON site.id = s.site_id
)
INSERT INTO {_t(PortDayRollup)} (evse_id, station_id, site_id, day, peak_power_w, {_MEASURES})
SELECT t.evse_pk, t.station_id, t.site_id, t.day, agg.*
FROM touched t CROSS JOIN LATERAL (
    -- per port and day: an index range scan of its quarters (never a scan of the table)
    SELECT max(r.peak_power_w), {sums} FROM {_t(PortRollup)} r
    WHERE r.evse_id = t.evse_pk
      AND r.bucket >= (t.day::timestamp AT TIME ZONE t.tz)
      AND r.bucket < ((t.day + 1)::timestamp AT TIME ZONE t.tz)
) agg
ON CONFLICT (evse_id, day) DO UPDATE SET
    station_id = EXCLUDED.station_id, site_id = EXCLUDED.site_id,
    peak_power_w = EXCLUDED.peak_power_w, {updates}
"""


def _sites_sql() -> str:
    return f"""
WITH touched AS (
    SELECT DISTINCT s.site_id, u.bucket
    FROM unnest(%(evses)s::bigint[], %(buckets)s::timestamptz[]) AS u(evse_pk, bucket)
    JOIN {_t(Evse)} e ON e.id = u.evse_pk
    JOIN {_t(Station)} s ON s.id = e.station_id
    WHERE s.site_id IS NOT NULL
)
INSERT INTO {_t(SiteQuarterRollup)} (site_id, bucket, energy_wh, peak_power_w,
    seconds_occupied, sessions_started, sessions_ended, revenue)
SELECT t.site_id, t.bucket, agg.*
FROM touched t CROSS JOIN LATERAL (
    SELECT coalesce(sum(r.energy_wh), 0), max(r.peak_power_w),
        coalesce(sum(r.seconds_occupied), 0), coalesce(sum(r.sessions_started), 0),
        coalesce(sum(r.sessions_ended), 0), coalesce(sum(r.revenue), 0)
    FROM {_t(PortRollup)} r WHERE r.site_id = t.site_id AND r.bucket = t.bucket
) agg
ON CONFLICT (site_id, bucket) DO UPDATE SET
    energy_wh = EXCLUDED.energy_wh, peak_power_w = EXCLUDED.peak_power_w,
    seconds_occupied = EXCLUDED.seconds_occupied,
    sessions_started = EXCLUDED.sessions_started,
    sessions_ended = EXCLUDED.sessions_ended, revenue = EXCLUDED.revenue
"""


def _tenant_timezone() -> str:
    return getattr(getattr(connection, "tenant", None), "timezone", None) or "UTC"


@transaction.atomic
def rollup_recompute(
    *, pairs: Iterable[tuple[int, dt.datetime]], now: dt.datetime | None = None
) -> int:
    """Recompute these (port pk, quarter) rollups and their ports' local days from the raw
    rows.  Returns the number of quarters written."""
    pairs = sorted({(evse_id, quarter_of(at)) for evse_id, at in pairs})
    raw_since = RollupCursor.objects.values_list("raw_since", flat=True).first()
    if raw_since is not None:  # older raw readings are gone: those rollups are all that is left
        pairs = [pair for pair in pairs if pair[1] >= raw_since]
    if not pairs:
        return 0
    params = {
        "evses": [p[0] for p in pairs],
        "buckets": [p[1] for p in pairs],
        "now": now or timezone.now(),
        "register": ENERGY_REGISTER,
        "power": POWER,
        "tz": _tenant_timezone(),
    }
    with connection.cursor() as cursor:
        # Small, index-driven statements: JIT compilation would cost more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_recompute_sql(), params)
        written = cursor.rowcount
        cursor.execute(_days_sql(), params)
        cursor.execute(_sites_sql(), params)
    return written


def rollup_pending(*, limit: int = CLAIM_BATCH, now: dt.datetime | None = None) -> int:
    """Claim up to ``limit`` marked quarters and recompute them.  Returns how many."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_t(RollupDirty)} WHERE id IN (SELECT id FROM {_t(RollupDirty)} "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING evse_id, bucket",
                [limit],
            )
            pairs = cursor.fetchall()
        # Recomputed in the claiming transaction: if it fails, the marks come back.
        return rollup_recompute(pairs=pairs, now=now)


def rollup_catch_up(*, now: dt.datetime | None = None) -> int:
    """Scan the raw tables, then recompute every marked quarter.  Returns quarters done."""
    rollup_scan(now=now)
    done = 0
    while True:
        count = rollup_pending(now=now)
        done += count
        if count == 0:
            return done


def rollup_rebuild(
    *,
    start: dt.datetime,
    end: dt.datetime,
    evse_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
    chunk: int = CLAIM_BATCH,
) -> int:
    """Recompute every quarter of [start, end) of the given ports (default: all)."""
    ids = (
        list(evse_ids) if evse_ids is not None else list(Evse.objects.values_list("pk", flat=True))
    )
    done = 0
    batch: list[tuple[int, dt.datetime]] = []
    for quarter in quarters(start, end):
        batch.extend((evse_id, quarter) for evse_id in ids)
        if len(batch) >= chunk:
            done += rollup_recompute(pairs=batch, now=now)
            batch = []
    done += rollup_recompute(pairs=batch, now=now)
    return done


# --- 3. Raw retention --------------------------------------------------------------------

RETENTION_PORTS = 200  # ports per statement
RETENTION_ROWS = 500  # readings per port per statement: at most 100,000 rows a statement

# The readings of these ports older than the cutoff that a rollup holds: the scan has read
# them (id at or below the cursor, not a gap), their quarter has a rollup and no pending mark,
# and their session (if any) ended before the cutoff (a later reading of an open session is
# measured from them).  Found per port through the (station, evse, timestamp, ...) unique
# index, a bounded number per port, so each statement is small and cheap.
_RETENTION_SQL = f"""
DELETE FROM {{mv}} WHERE id IN (
    SELECT old.id
    FROM {{evse}} e CROSS JOIN LATERAL (
        SELECT mv.id, mv.timestamp, mv.session_id FROM {{mv}} mv
        WHERE mv.station_id = e.station_id AND mv.evse_id = e.evse_id
          AND mv.timestamp < %(cutoff)s AND mv.id <= %(scanned)s
          AND NOT mv.id = ANY(%(gaps)s)
          AND (mv.session_id IS NULL OR EXISTS (
              SELECT 1 FROM {{session}} s WHERE s.id = mv.session_id
              AND s.ended_at IS NOT NULL AND s.ended_at < %(cutoff)s))
          AND EXISTS (
              SELECT 1 FROM {{rollup}} r WHERE r.evse_id = e.id
              AND r.bucket = date_bin('15 minutes', mv.timestamp, TIMESTAMPTZ '2000-01-01'))
          AND NOT EXISTS (
              SELECT 1 FROM {{dirty}} d WHERE d.evse_id = e.id
              AND d.bucket = date_bin('15 minutes', mv.timestamp, TIMESTAMPTZ '2000-01-01'))
        ORDER BY mv.timestamp LIMIT {RETENTION_ROWS}
    ) old
    WHERE e.id = ANY(%(ports)s)
)
"""


def raw_retention_run(*, now: dt.datetime | None = None) -> int:
    """Delete the raw meter values older than the tenant's retention that a rollup holds
    (docs/reports.md, "Raw retention").  Returns the number of rows deleted."""
    now = now or timezone.now()
    days = selectors.report_settings().raw_retention_days
    cutoff = quarter_of(now - dt.timedelta(days=days))
    # What is marked or not yet read is rolled up first.
    rollup_catch_up(now=now)
    with transaction.atomic():
        cursor_row, _ = RollupCursor.objects.get_or_create(singleton=True)
        cursor_row = RollupCursor.objects.select_for_update().get(pk=cursor_row.pk)
        if cursor_row.raw_since is None or cursor_row.raw_since < cutoff:
            # From now on nothing before the cutoff is recomputed (see rollup_recompute).
            cursor_row.raw_since = cutoff
            cursor_row.save(update_fields=["raw_since"])
        scanned = cursor_row.meter_value_id
    gaps = list(
        RollupGap.objects.filter(source=RollupGap.Source.METER_VALUE).values_list(
            "row_id", flat=True
        )
    )
    sql = _RETENTION_SQL.format(
        mv=_t(MeterValue),
        evse=_t(Evse),
        session=_t(ChargingSession),
        rollup=_t(PortRollup),
        dirty=_t(RollupDirty),
    )
    ports = list(Evse.objects.order_by("pk").values_list("pk", flat=True))
    deleted = 0
    for at in range(0, len(ports), RETENTION_PORTS):
        params = {
            "cutoff": cutoff,
            "scanned": scanned,
            "gaps": gaps,
            "ports": ports[at : at + RETENTION_PORTS],
        }
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(sql, params)
                count = cursor.rowcount
            deleted += count
            if count == 0:
                break
    return deleted


# --- Exports ------------------------------------------------------------------------------


@transaction.atomic
def export_job_create(
    *, user, file_format: str, grain: str, start: dt.date, end: dt.date, site_ids: list[int]
):
    """Record an export and queue it (after commit)."""
    job = ExportJob(
        requested_by=user,
        file_format=file_format,
        grain=grain,
        start=start,
        end=end,
        site_ids=site_ids,
    )
    job.full_clean(exclude=["file"])
    job.save()
    queue.export_run(job.pk)
    return job


def export_job_run(*, job_id: int) -> str:
    """Write the export's file (as the requester sees the data) and mark it done.  Claimed
    with a conditional update: a second delivery of the task does nothing."""
    Status = ExportJob.Status
    if not ExportJob.objects.filter(pk=job_id, status=Status.PENDING).update(status=Status.RUNNING):
        return "skipped"
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    actor = UserActor(job.requested_by)
    params = {
        "actor": actor,
        "grain": job.grain,
        "start": job.start,
        "end": job.end,
        "site_ids": job.site_ids or None,
    }
    total = exports.queryset(**params).count()
    ExportJob.objects.filter(pk=job_id).update(rows_total=total)

    def tick(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(rows_done=done)

    name = f"report-{job.start}-{job.end}-{job.grain}.{job.file_format}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, name)
            if job.file_format == "xlsx":
                exports.write_xlsx(path, job.grain, exports.rows(**params), tick)
            else:
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    exports.write_csv(handle, job.grain, exports.rows(**params), tick)
            with open(path, "rb") as handle:
                job.file.save(f"{connection.schema_name}/{job.pk}/{name}", File(handle), save=False)
    except Exception as error:
        ExportJob.objects.filter(pk=job_id).update(
            status=Status.FAILED, error=str(error)[:255], finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job_id).update(
        status=Status.DONE,
        file=job.file.name,
        rows_done=total,
        finished_at=timezone.now(),
    )
    return "done"


# --- Scheduled reports ----------------------------------------------------------------------


def period_before(*, frequency: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last whole period before ``today``: yesterday, last Monday-to-Sunday week, or last
    calendar month.  [start, end) in the sites' calendars."""
    if frequency == "daily":
        return today - dt.timedelta(days=1), today
    if frequency == "weekly":
        end = today - dt.timedelta(days=today.weekday())
        return end - dt.timedelta(days=7), end
    end = today.replace(day=1)
    return (end - dt.timedelta(days=1)).replace(day=1), end


@transaction.atomic
def subscription_set(*, user, frequency: str, group_by: str = "site"):
    """Subscribe ``user`` (again) to the report every day, week or month."""
    subscription = ReportSubscription.objects.filter(user=user, frequency=frequency).first()
    if subscription is None:
        subscription = ReportSubscription(
            user=user, frequency=frequency, unsubscribe_token=secrets.token_urlsafe(32)
        )
    subscription.group_by = group_by
    subscription.is_active = True
    subscription.full_clean()
    subscription.save()
    return subscription


def subscription_unsubscribe(*, token: str) -> bool:
    return bool(ReportSubscription.objects.filter(unsubscribe_token=token).update(is_active=False))


def report_deliver(*, subscription_id: int, today: dt.date | None = None) -> bool:
    """E-mail the last whole period's report to the subscriber, built with their own scope (a
    delegate's report holds only their sites) and in their language.  The period is claimed
    with a conditional update, so a redelivered task sends nothing twice."""
    tenant = getattr(connection, "tenant", None)
    if today is None:
        today = timezone.localdate(timezone=_zone(_tenant_timezone()))
    subscription = ReportSubscription.objects.select_related("user").get(pk=subscription_id)
    start, end = period_before(frequency=subscription.frequency, today=today)
    claimed = (
        ReportSubscription.objects.filter(pk=subscription_id, is_active=True)
        .exclude(last_period_end__gte=end)
        .update(last_period_end=end)
    )
    if not claimed:
        return False
    user = subscription.user
    actor = UserActor(user)
    if not user.is_active or actor.scope_for(selectors.PERMISSION).empty:
        return False
    report = selectors.report_build(
        actor=actor, start=start, end=end, group_by=subscription.group_by
    )
    language = user.language or getattr(tenant, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "report": report,
            "subscription": subscription,
            "tenant": tenant,
            "link": portal_url(reverse("reports:report") + f"?start={start}&end={end}"),
            "unsubscribe": portal_url(
                reverse("reports:unsubscribe", args=[subscription.unsubscribe_token])
            ),
        }
        subject = render_to_string("reports/email/report_subject.txt", context).strip()
        body = render_to_string("reports/email/report_body.txt", context)
    with transaction.atomic():
        ReportDelivery.objects.create(
            subscription=subscription,
            recipient=user.email,
            period_start=start,
            period_end=end,
            sites=len({row.key for row in report.rows}),
        )
        send_mail(subject, body, None, [user.email], fail_silently=False)
    return True


def _zone(name: str):
    return ZoneInfo(name)


# --- The tenant's report rules (the settings page) -------------------------------------------
@transaction.atomic
def report_settings_update(
    *,
    uptime_unavailable: str,
    uptime_offline: str,
    raw_retention_days: int,
    baseline_g_per_km,
    ev_kwh_per_km,
    grid_g_per_kwh,
) -> tuple[ReportSettings, GhgSettings]:
    """Save the uptime definition, the raw retention and the greenhouse gas factors (each one
    row, created the first time).  Reports read them at once; a shorter retention deletes raw
    readings at the next nightly run (only those a rollup holds)."""
    rules = ReportSettings.objects.select_for_update().first() or ReportSettings()
    rules.uptime_unavailable = uptime_unavailable
    rules.uptime_offline = uptime_offline
    rules.raw_retention_days = raw_retention_days
    rules.full_clean()
    rules.save()
    factors = GhgSettings.objects.select_for_update().first() or GhgSettings()
    factors.baseline_g_per_km = baseline_g_per_km
    factors.ev_kwh_per_km = ev_kwh_per_km
    factors.grid_g_per_kwh = grid_g_per_kwh
    factors.full_clean()
    factors.save()
    return rules, factors
