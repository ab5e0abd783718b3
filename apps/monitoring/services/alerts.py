"""Writes: raise and clear alerts, acknowledge and resolve them, the periodic sweep, e-mail
to subscribers, subscriptions."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from apps.core import events
from apps.core.live import publish_live
from apps.core.scoping import Actor
from apps.stations.choices import ConnectorStatus
from apps.stations.models import Evse, Site, Station

from .. import queue
from ..choices import AlertEvent, AlertKind, AlertSeverity
from ..models import Alert, AlertSubscription
from ..selectors import alert_recipients, alert_summary

logger = logging.getLogger(__name__)


def offline_grace() -> dt.timedelta:
    """How long a station may be gone before it is an alert (reconnects are common)."""
    return dt.timedelta(seconds=getattr(settings, "MONITORING_OFFLINE_GRACE_SECONDS", 300))


def alert_severity(*, kind: str, evse: Evse | None) -> str:
    """Critical when nobody can charge at the station (offline, or faulted as a whole);
    a warning when one port is out."""
    if kind == AlertKind.OFFLINE or evse is None:
        return AlertSeverity.CRITICAL
    return AlertSeverity.WARNING


class AlertClosed(Exception):
    """The alert has already cleared or been resolved."""


def alert_data(alert: Alert) -> dict:
    """An alert as integrators see it (the ``alert`` of the alert events, which webhooks
    send as it is)."""
    station = alert.station
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "severity": alert.severity,
        "station": {
            "id": station.pk,
            "identity": station.identity,
            "name": station.name,
            "site_id": station.site_id,
        },
        "evse_id": alert.evse.evse_id if alert.evse_id else None,
        "message": alert.details,
        "error_code": alert.error_code,
        "raised_at": alert.raised_at,
        "cleared_at": alert.cleared_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
        "resolved_by": alert.resolved_by,
    }


def _announce(alert: Alert, event: str) -> None:
    """Tell the others through the core's events (webhooks write their deliveries in this
    transaction), then after commit: the live pages and the subscribers' e-mails."""
    alert_id = alert.pk
    events.emit(
        events.ALERT_RAISED if event == AlertEvent.RAISED else events.ALERT_CLEARED,
        alert_id=alert_id,
        station_id=alert.station_id,
        site_id=alert.station.site_id,
        kind=alert.kind,
        alert=alert_data(alert),
    )

    def run() -> None:
        try:
            summary = alert_summary(alert_id=alert_id)
            if summary is not None:
                publish_live(
                    {"kind": "alert", "event": event, "at": timezone.now().isoformat(), **summary}
                )
        except Exception:  # the live feed must not stop the e-mails
            logger.exception("Could not publish alert %s", alert_id)
        queue.alert_notify(alert_id, event)

    transaction.on_commit(run)


@transaction.atomic
def alert_raise(
    *,
    station_id: int,
    kind: str,
    evse: Evse | None = None,
    message: str = "",
    error_code: str = "",
    at: dt.datetime | None = None,
) -> Alert | None:
    """Open an alert; returns it, or None when the same alert is already open."""
    open_alerts = Alert.objects.filter(
        station_id=station_id, evse=evse, kind=kind, cleared_at__isnull=True
    )
    if open_alerts.exists():
        return None
    alert = Alert(
        station_id=station_id,
        evse=evse,
        kind=kind,
        severity=alert_severity(kind=kind, evse=evse),
        message=message[:255],
        error_code=error_code[:50],
        raised_at=at or timezone.now(),
    )
    alert.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError:  # raised concurrently by another process: theirs stands
        return None
    _announce(alert, AlertEvent.RAISED)
    return alert


@transaction.atomic
def alert_clear(
    *, station_id: int, kind: str, evse: Evse | None = None, at: dt.datetime | None = None
) -> int:
    """Close the open alert of this kind on this station (or port); returns how many closed."""
    at = at or timezone.now()
    ids = list(
        Alert.objects.select_for_update()
        .filter(station_id=station_id, evse=evse, kind=kind, cleared_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    Alert.objects.filter(pk__in=ids).update(cleared_at=Greatest(Value(at), F("raised_at")))
    for alert in Alert.objects.filter(pk__in=ids).select_related("station", "evse"):
        _announce(alert, AlertEvent.CLEARED)
    return len(ids)


def alerts_clear(*, station_ids, kind: str) -> int:
    """``alert_clear`` for many stations (a batch of connects): one query finds the few that
    have such an alert open."""
    with_open = (
        Alert.objects.filter(
            station_id__in=station_ids, evse=None, kind=kind, cleared_at__isnull=True
        )
        .values_list("station_id", flat=True)
        .distinct()
    )
    return sum(alert_clear(station_id=pk, kind=kind) for pk in sorted(with_open))


def _open_alert_for_update(alert_id: int) -> Alert:
    alert = Alert.objects.select_for_update(of=("self",)).select_related("station", "evse")
    alert = alert.get(pk=alert_id)
    if not alert.is_open:
        raise AlertClosed("This alert has already cleared.")
    return alert


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Actor, note: str = "") -> Alert:
    """Someone is on it: the first acknowledgement stands (again is a no-op); only open
    alerts.  The alert stays open until the station recovers or someone resolves it."""
    alert = _open_alert_for_update(alert.pk)
    if alert.is_acknowledged:
        return alert
    alert.acknowledged_at = max(timezone.now(), alert.raised_at)
    alert.acknowledged_by = actor.label[:255]
    if note:
        alert.note = note
    alert.full_clean(validate_constraints=False)
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, actor: Actor, note: str = "") -> Alert:
    """Close an open alert by hand (the problem is dealt with); announced like a clear.  If
    the station is still offline or faulted, the next sweep raises a new alert."""
    alert = _open_alert_for_update(alert.pk)
    alert.cleared_at = max(timezone.now(), alert.raised_at)
    alert.resolved_by = actor.label[:255]
    if note:
        alert.note = note
    alert.full_clean(validate_constraints=False)
    alert.save(update_fields=["cleared_at", "resolved_by", "note"])
    _announce(alert, AlertEvent.CLEARED)
    return alert


def port_status_observed(
    *, station_id: int, evse_id: int | None, status: str, info: str = ""
) -> None:
    """A port (or the whole station, ``evse_id`` None) reported a status: faulted raises an
    alert, anything else clears it."""
    evse = None
    error_code = ""
    if evse_id is not None:
        evse = Evse.objects.filter(station_id=station_id, evse_id=evse_id).first()
        if evse is None:
            return
        error_code = evse.error_code
    if status == ConnectorStatus.FAULTED:
        alert_raise(
            station_id=station_id,
            evse=evse,
            kind=AlertKind.FAULTED,
            # The station's own words; the code is shown in the reader's words (fault_words).
            message=info,
            error_code=error_code,
        )
    else:
        alert_clear(station_id=station_id, evse=evse, kind=AlertKind.FAULTED)


@dataclass(frozen=True)
class SweepResult:
    raised: int
    cleared: int


def monitoring_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Bring alerts in line with the stations, whatever events were missed: stations offline
    for longer than the grace period, faulted ports; clear what recovered.  Idempotent."""
    now = now or timezone.now()
    raised = cleared = 0
    open_alerts = Alert.objects.filter(cleared_at__isnull=True)

    # Offline: only stations that were seen at least once (a station not installed yet is not
    # an outage); offline since their last message.
    open_offline = set(
        open_alerts.filter(kind=AlertKind.OFFLINE).values_list("station_id", flat=True)
    )
    gone = Station.objects.filter(
        is_online=False,
        last_seen_at__isnull=False,
        last_seen_at__lt=now - offline_grace(),
        retired_at__isnull=True,  # a retired station is gone on purpose
    ).exclude(pk__in=open_offline)
    for station_id, last_seen in gone.values_list("pk", "last_seen_at"):
        # Raised at its last message: the alert's duration is how long it has been gone.
        if alert_raise(station_id=station_id, kind=AlertKind.OFFLINE, at=last_seen):
            raised += 1
    back = open_alerts.filter(kind=AlertKind.OFFLINE, station__is_online=True)
    for station_id in set(back.values_list("station_id", flat=True)):
        cleared += alert_clear(station_id=station_id, kind=AlertKind.OFFLINE, at=now)

    # Faulted ports.
    open_faulted = set(
        open_alerts.filter(kind=AlertKind.FAULTED, evse__isnull=False).values_list(
            "evse_id", flat=True
        )
    )
    faulted = (
        Evse.objects.filter(status=ConnectorStatus.FAULTED)
        .exclude(pk__in=open_faulted)
        .select_related("station")
    )
    for evse in faulted:
        if alert_raise(
            station_id=evse.station_id,
            evse=evse,
            kind=AlertKind.FAULTED,
            message=evse.error_code,
            error_code=evse.error_code,
            at=evse.status_changed_at or now,
        ):
            raised += 1
    recovered = open_alerts.filter(kind=AlertKind.FAULTED, evse__isnull=False).exclude(
        evse__status=ConnectorStatus.FAULTED
    )
    for alert in recovered.select_related("evse"):
        cleared += alert_clear(
            station_id=alert.station_id, evse=alert.evse, kind=AlertKind.FAULTED, at=now
        )
    return SweepResult(raised=raised, cleared=cleared)


# --- E-mail ----------------------------------------------------------------------------------
def portal_url(path: str) -> str:
    """An absolute address of a page of the current tenant's portal (for e-mails)."""
    tenant = getattr(connection, "tenant", None)
    domain = tenant.get_primary_domain().domain if tenant is not None else settings.BASE_DOMAIN
    scheme = getattr(settings, "PORTAL_URL_SCHEME", "http" if settings.DEBUG else "https")
    return f"{scheme}://{domain}{path}"


def alert_notify(*, alert_id: int, event: str) -> int:
    """E-mail the people who asked about this alert; returns how many were sent."""
    alert = Alert.objects.select_related("station", "station__site", "evse").filter(pk=alert_id)
    alert = alert.first()
    if alert is None:
        return 0
    cleared = event == AlertEvent.CLEARED
    recipients = alert_recipients(alert=alert, cleared=cleared)
    tenant = getattr(connection, "tenant", None)
    default_language = getattr(tenant, "language", "") or settings.LANGUAGE_CODE
    link = portal_url(reverse("stations:station_detail", args=[alert.station_id]))
    sent = 0
    for user in recipients:
        with translation.override(user.language or default_language):
            context = {"alert": alert, "cleared": cleared, "link": link, "tenant": tenant}
            subject = render_to_string("monitoring/email/alert_subject.txt", context).strip()
            body = render_to_string("monitoring/email/alert_body.txt", context)
        sent += send_mail(subject, body, None, [user.email], fail_silently=False)
    return sent


# --- Subscriptions ---------------------------------------------------------------------------
@transaction.atomic
def alert_subscription_set(
    *,
    user,
    kinds: Iterable[str],
    all_sites: bool,
    sites: Iterable[Site] = (),
    notify_on_clear: bool = True,
) -> AlertSubscription:
    subscription, _ = AlertSubscription.objects.get_or_create(user=user)
    subscription.kinds = sorted(set(kinds))
    subscription.all_sites = all_sites
    subscription.notify_on_clear = notify_on_clear
    subscription.full_clean()
    subscription.save()
    subscription.sites.set([] if all_sites else list(sites))
    return subscription
