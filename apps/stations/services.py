"""Writes on sites and stations: provisioning, and what stations report about themselves."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, Max, fields
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import events
from apps.tenants.models import StationIdentity

from .choices import LIVE_STATE_OF_STATUS, LiveState, RegistrationStatus, StatusKind
from .models import Connector, Evse, Site, Station, StationSecuritySettings, StatusChange
from .passwords import validate_station_password
from .tags import normalize_tags


@transaction.atomic
def site_create(*, name: str, timezone: str = "UTC", **fields) -> Site:
    site = Site(name=name, timezone=timezone, **fields)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def station_register(
    *,
    identity: str,
    password: str | None,
    site: Site | None = None,
    name: str = "",
    evse_count: int = 1,
    max_current_a: float = 32,
    min_current_a: float = 6,
    phases: int = 3,
    max_power_w: int | None = None,
    connector_type: str = "cType2",
    registration_status: str = RegistrationStatus.ACCEPTED,
    legacy_password: bool = False,
    tags: list[str] | None = None,
) -> Station:
    """Create a station with its EVSEs and connectors in the current tenant, and enter its
    identity (and password hash) in the public registry so that it can connect.  The password
    follows the one rule (``passwords``); ``legacy_password``: a station that registers itself
    with the password its firmware already holds (trust on first use) keeps it."""
    if password and not legacy_password:
        validate_station_password(password)
    tenant = connection.tenant
    station = Station(
        identity=identity,
        name=name,
        site=site,
        registration_status=registration_status,
        tags=normalize_tags(tags or []),
    )
    station.full_clean()
    station.save()
    power = max_power_w or int(230 * max_current_a * phases)
    for number in range(1, evse_count + 1):
        _evse_create(
            station=station,
            evse_id=number,
            max_current_a=max_current_a,
            min_current_a=min_current_a,
            phases=phases,
            max_power_w=power,
            connector_type=connector_type,
        )
    registry = StationIdentity(identity=identity, tenant_id=tenant.pk)
    registry.set_password(password)
    registry.full_clean()
    registry.save()
    return station


def _evse_create(
    *, station: Station, evse_id: int, connector_type: str = "cType2", **fields
) -> Evse:
    evse = Evse.objects.create(station=station, evse_id=evse_id, **fields)
    Connector.objects.create(evse=evse, connector_id=1, connector_type=connector_type)
    return evse


@transaction.atomic
def station_set_password(*, station: Station, password: str) -> None:
    validate_station_password(password)
    registry = StationIdentity.objects.get(identity=station.identity)
    registry.set_password(password)
    registry.save(update_fields=["password_hash"])


@transaction.atomic
def station_password_stage(*, station: Station, password: str) -> None:
    """A new password is on its way to the station (1.6 AuthorizationKey, 2.0.1
    SecurityCtrlr.BasicAuthPassword): from now on both it and the old one let the station in,
    until the station logs in with the new one (``StationIdentity.check_password``)."""
    validate_station_password(password)
    hashed = StationIdentity()
    hashed.set_password(password)
    StationIdentity.objects.filter(identity=station.identity).update(
        pending_password_hash=hashed.password_hash
    )


@transaction.atomic
def station_password_unstage(*, station: Station) -> None:
    """The station refused its new password: only the old one lets it in."""
    StationIdentity.objects.filter(identity=station.identity).update(pending_password_hash="")


def evse_get_or_create(*, station_id: int, evse_id: int) -> Evse:
    """The EVSE a station reports on; stations may report ports nobody provisioned."""
    evse = Evse.objects.filter(station_id=station_id, evse_id=evse_id).first()
    if evse is None:
        with transaction.atomic():
            station = Station.objects.get(pk=station_id)
            evse = _evse_create(station=station, evse_id=evse_id)
    return evse


# --- What a connected station tells us ----------------------------------------------------


@transaction.atomic
def station_connected(*, station_id: int, connection_id: str, version: str) -> None:
    now = timezone.now()
    was_online = Station.objects.filter(pk=station_id, is_online=True).exists()
    Station.objects.filter(pk=station_id).update(
        is_online=True,
        connection_id=connection_id,
        connected_at=now,
        last_seen_at=now,
        ocpp_version=version,
    )
    if not was_online:
        StatusChange.objects.create(
            station_id=station_id, kind=StatusKind.CONNECTION, status="Online", occurred_at=now
        )
        events.emit(events.STATION_CONNECTED, station_id=station_id)


@transaction.atomic
def stations_connected(*, links: list[tuple[int, str, str]]) -> set[int]:
    """``station_connected`` for many (station id, connection id, version) at once: one UPDATE,
    and history for those that were offline, whose ids are returned for
    ``stations_came_online``.  A station listed twice keeps its last socket."""
    latest = {station_id: (conn, version) for station_id, conn, version in links}
    if not latest:
        return set()
    now = timezone.now()
    ids = sorted(latest)  # lock rows in one order: concurrent batches never deadlock
    were_offline = set(
        Station.objects.select_for_update()
        .filter(pk__in=ids, is_online=False)
        .values_list("pk", flat=True)
    )
    table = connection.ops.quote_name(Station._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET is_online = true, connection_id = v.connection_id, "
            "connected_at = %s, last_seen_at = %s, ocpp_version = v.version "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, connection_id, version) "
            "WHERE s.id = v.id",
            [now, now, ids, [latest[pk][0] for pk in ids], [latest[pk][1] for pk in ids]],
        )
    StatusChange.objects.bulk_create(
        StatusChange(station_id=pk, kind=StatusKind.CONNECTION, status="Online", occurred_at=now)
        for pk in sorted(were_offline)
    )
    return were_offline


@transaction.atomic
def stations_came_online(*, station_ids: list[int]) -> None:
    """``station.connected`` for stations ``stations_connected`` brought online.  A separate
    step so that a storm of connects is marked online without waiting for every feature's
    handlers (alerts, price display, power, webhooks)."""
    events.emit_many(
        events.STATION_CONNECTED, [{"station_id": station_id} for station_id in station_ids]
    )


@transaction.atomic
def station_disconnected(*, station_id: int, connection_id: str | None = None) -> bool:
    """Mark offline; with ``connection_id``, only if that socket is still the station's."""
    now = timezone.now()
    updated = Station.objects.filter(pk=station_id, is_online=True)
    if connection_id is not None:
        updated = updated.filter(connection_id=connection_id)
    # A real disconnect forgets the socket; the silence sweep keeps it, so that the next frame
    # on a socket that was only quiet brings the station back online (station_seen).
    changes = {"is_online": False}
    if connection_id is not None:
        changes["connection_id"] = ""
    if not updated.update(**changes):
        return False
    StatusChange.objects.create(
        station_id=station_id, kind=StatusKind.CONNECTION, status="Offline", occurred_at=now
    )
    events.emit(events.STATION_DISCONNECTED, station_id=station_id)
    return True


def station_seen(*, station_id: int, connection_id: str) -> None:
    """Any traffic proves liveness (some chargers never answer websocket pings)."""
    now = timezone.now()
    mine = Station.objects.filter(pk=station_id, connection_id=connection_id)
    if mine.filter(is_online=True).update(last_seen_at=now):
        return  # the usual case: one UPDATE
    with transaction.atomic():
        # The sweep had marked this live socket offline (it was silent): it is back.
        if mine.filter(is_online=False).update(is_online=True, last_seen_at=now):
            StatusChange.objects.create(
                station_id=station_id, kind=StatusKind.CONNECTION, status="Online", occurred_at=now
            )
            events.emit(events.STATION_CONNECTED, station_id=station_id)


def stations_seen(*, links: list[tuple[int, str]]) -> None:
    """``station_seen`` for many (station id, connection id) pairs: one UPDATE for every
    station that is online on that socket (the usual case); the others go one by one."""
    if not links:
        return
    now = timezone.now()
    table = connection.ops.quote_name(Station._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET last_seen_at = %s "
            "FROM unnest(%s::bigint[], %s::text[]) AS v(id, connection_id) "
            "WHERE s.id = v.id AND s.connection_id = v.connection_id AND s.is_online "
            "RETURNING s.id",
            [now, [pk for pk, _ in links], [conn for _, conn in links]],
        )
        updated = {row[0] for row in cursor.fetchall()}
    for station_id, connection_id in links:
        if station_id not in updated:
            station_seen(station_id=station_id, connection_id=connection_id)


def stations_mark_silent_offline(*, now: dt.datetime | None = None, factor: float = 2.5) -> int:
    """Stations whose socket looks open but which sent nothing for ``factor`` heartbeat
    intervals are offline (half-open TCP, hung firmware)."""
    now = now or timezone.now()
    silent = (
        Station.objects.filter(is_online=True)
        .annotate(
            deadline=ExpressionWrapper(
                F("last_seen_at")
                + F("heartbeat_interval") * dt.timedelta(seconds=factor)
                + dt.timedelta(seconds=30),
                output_field=fields.DateTimeField(),
            )
        )
        .filter(deadline__lt=now)
        .values_list("pk", flat=True)
    )
    return sum(station_disconnected(station_id=pk) for pk in list(silent))


@transaction.atomic
def station_boot(
    *,
    station_id: int,
    vendor: str,
    model: str,
    serial_number: str = "",
    firmware_version: str = "",
    iccid: str = "",
    imsi: str = "",
) -> tuple[str, int]:
    """Record a BootNotification; returns (registration status, heartbeat interval)."""
    station = Station.objects.select_for_update().get(pk=station_id)
    station.vendor = vendor[:50]
    station.model = model[:50]
    station.serial_number = (serial_number or "")[:50]
    station.firmware_version = (firmware_version or "")[:50]
    station.iccid = (iccid or "")[:20]
    station.imsi = (imsi or "")[:20]
    station.last_boot_at = timezone.now()
    station.save(
        update_fields=[
            "vendor",
            "model",
            "serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "last_boot_at",
        ]
    )
    events.emit(events.STATION_BOOTED, station_id=station_id)
    return station.registration_status, station.heartbeat_interval


BOOT_FIELDS = {
    "vendor": 50,
    "model": 50,
    "serial_number": 50,
    "firmware_version": 50,
    "iccid": 20,
    "imsi": 20,
}


@transaction.atomic
def stations_boot(*, boots: list[dict]) -> list[tuple[str, int]]:
    """``station_boot`` for many BootNotifications (of different stations, or a station twice:
    its last one stands): one locking read, one UPDATE; one answer per boot, in order."""
    ids = sorted({boot["station_id"] for boot in boots})  # lock rows in one order
    answers = {
        pk: (registration, interval)
        for pk, registration, interval in Station.objects.select_for_update()
        .filter(pk__in=ids)
        .values_list("pk", "registration_status", "heartbeat_interval")
    }
    missing = set(ids) - set(answers)
    if missing:
        raise Station.DoesNotExist(f"No station {sorted(missing)}")
    latest = {boot["station_id"]: boot for boot in boots}
    columns = list(BOOT_FIELDS)
    values = [
        [(latest[pk].get(name) or "")[:size] for pk in ids] for name, size in BOOT_FIELDS.items()
    ]
    table = connection.ops.quote_name(Station._meta.db_table)
    assignments = ", ".join(f"{name} = v.{name}" for name in columns)
    arrays = ", ".join("%s::text[]" for _ in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET {assignments}, last_boot_at = %s "
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(columns)}) "
            "WHERE s.id = v.id",
            [timezone.now(), ids, *values],
        )
    events.emit_many(events.STATION_BOOTED, [{"station_id": boot["station_id"]} for boot in boots])
    return [answers[boot["station_id"]] for boot in boots]


@transaction.atomic
def status_record(
    *,
    station_id: int,
    evse_id: int,
    status: str,
    occurred_at: dt.datetime,
    error_code: str = "",
    info: str = "",
) -> None:
    """A connector status report.  Late (out-of-order) reports go to history only."""
    if evse_id == 0:  # the station as a whole
        StatusChange.objects.create(
            station_id=station_id,
            status=status[:16],
            error_code=error_code[:50],
            info=info[:255],
            occurred_at=occurred_at,
        )
        events.emit(
            events.STATUS_CHANGED,
            station_id=station_id,
            evse_id=None,
            status=status,
            live_state=LIVE_STATE_OF_STATUS.get(status, LiveState.UNAVAILABLE),
            info=info,
        )
        return
    evse = evse_get_or_create(station_id=station_id, evse_id=evse_id)
    StatusChange.objects.create(
        station_id=station_id,
        evse=evse,
        status=status[:16],
        error_code=error_code[:50],
        info=info[:255],
        occurred_at=occurred_at,
    )
    if evse.status_changed_at and occurred_at < evse.status_changed_at:
        return
    evse_set_status(evse=evse, status=status, at=occurred_at, error_code=error_code, info=info)


def evse_set_status(
    *, evse: Evse, status: str, at: dt.datetime, error_code: str = "", info: str = ""
) -> None:
    changed = evse.status != status
    Evse.objects.filter(pk=evse.pk).update(
        status=status, status_changed_at=at, error_code=error_code[:50]
    )
    if changed:
        events.emit(
            events.STATUS_CHANGED,
            station_id=evse.station_id,
            evse_id=evse.evse_id,
            status=status,
            live_state=LIVE_STATE_OF_STATUS.get(status, LiveState.UNAVAILABLE),
            info=info,
        )


def station_firmware_reported(*, station_id: int, version: str) -> None:
    Station.objects.filter(pk=station_id).update(firmware_version=version[:50])


# --- Edits from the portal and the API (added with the REST API) -----------------------------
SITE_EDITABLE = {
    "name",
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "timezone",
}
STATION_EDITABLE = {
    "name",
    "site",
    "heartbeat_interval",
    "lax_validation",
    "registration_status",
    "security_profile",
    "tags",
}


@transaction.atomic
def site_update(*, site: Site, **fields) -> Site:
    unknown = set(fields) - SITE_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of a site")
    for name, value in fields.items():
        setattr(site, name, value)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def site_delete(*, site: Site) -> None:
    """Delete an empty site (a site with stations is protected: move them first)."""
    site.delete()


@transaction.atomic
def station_update(*, station: Station, password: str | None = None, **fields) -> Station:
    """Change a station's settings; a new ``password`` goes to the public registry."""
    unknown = set(fields) - STATION_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of a station")
    if "tags" in fields:
        fields["tags"] = normalize_tags(fields["tags"])
    for name, value in fields.items():
        setattr(station, name, value)
    station.full_clean()
    station.save()
    if password is not None:
        station_set_password(station=station, password=password)
    return station


@transaction.atomic
def station_security_settings_update(*, cso_name: str) -> StationSecuritySettings:
    """Set the tenant's CSO name (blank: profile 3 certificates' O is not checked)."""
    row, _ = StationSecuritySettings.objects.get_or_create(singleton=True)
    row.cso_name = cso_name.strip()
    row.full_clean()
    row.save()
    return row


# --- Ports and connectors, retiring and archiving (issue 13, parity) ---------------------------
EVSE_EDITABLE = {"max_current_a", "min_current_a", "max_power_w", "phases"}
CONNECTOR_EDITABLE = {"connector_type", "max_power_w"}


def _check_currents(evse: Evse) -> None:
    if evse.min_current_a is not None and evse.max_current_a is not None:
        if evse.min_current_a > evse.max_current_a:
            raise ValidationError(
                {"min_current_a": _("The minimum current cannot exceed the maximum.")}
            )


@transaction.atomic
def evse_add(
    *,
    station: Station,
    max_current_a: float = 32,
    min_current_a: float = 6,
    phases: int = 3,
    max_power_w: int | None = None,
    connector_type: str = "cType2",
) -> Evse:
    """One more port on a station (numbered after the last), with one connector."""
    if station.retired_at is not None:
        raise ValidationError(_("This station is retired."))
    last = Evse.objects.filter(station=station).aggregate(last=Max("evse_id"))["last"] or 0
    evse = Evse(
        station=station,
        evse_id=last + 1,
        max_current_a=max_current_a,
        min_current_a=min_current_a,
        phases=phases,
        max_power_w=max_power_w or int(230 * float(max_current_a) * phases),
    )
    _check_currents(evse)
    evse.full_clean()
    evse.save()
    connector = Connector(evse=evse, connector_id=1, connector_type=connector_type)
    connector.full_clean()
    connector.save()
    return evse


@transaction.atomic
def evse_update(*, evse: Evse, **fields) -> Evse:
    """A port's ratings: its current range, phases and power."""
    unknown = set(fields) - EVSE_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of a port")
    for name, value in fields.items():
        setattr(evse, name, value)
    _check_currents(evse)
    evse.full_clean()
    evse.save(update_fields=sorted(fields) or None)
    return evse


@transaction.atomic
def connector_update(*, connector: Connector, **fields) -> Connector:
    """A connector's plug type and power."""
    unknown = set(fields) - CONNECTOR_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of a connector")
    for name, value in fields.items():
        setattr(connector, name, value)
    connector.full_clean()
    connector.save(update_fields=sorted(fields) or None)
    return connector


@transaction.atomic
def station_retire(*, station: Station, at: dt.datetime | None = None) -> Station:
    """Retire a station for good: its identity leaves the public registry, so it cannot
    connect again (a connection still open ends at the station's next reconnect), and it
    leaves the lists; its sessions, receipts, status history and messages stay."""
    station = Station.objects.select_for_update().get(pk=station.pk)
    if station.retired_at is not None:
        return station
    station.retired_at = at or timezone.now()
    station.registration_status = RegistrationStatus.REJECTED
    station.save(update_fields=["retired_at", "registration_status"])
    StationIdentity.objects.filter(
        identity=station.identity, tenant_id=connection.tenant.pk
    ).delete()
    return station


@transaction.atomic
def site_archive(*, site: Site, at: dt.datetime | None = None) -> Site:
    """Archive a site whose stations are all retired (or moved): it leaves the lists and the
    pickers; its history stays and it can be restored."""
    if Station.objects.filter(site=site, retired_at__isnull=True).exists():
        raise ValidationError(_("Move or retire this site's stations first."))
    if site.archived_at is None:
        site.archived_at = at or timezone.now()
        site.save(update_fields=["archived_at"])
    return site


@transaction.atomic
def site_restore(*, site: Site) -> Site:
    """Bring an archived site back into the lists."""
    if site.archived_at is not None:
        site.archived_at = None
        site.save(update_fields=["archived_at"])
    return site
