"""Writes: joining and leaving a queue, promoting the next driver to a freed port (claimed with
a conditional update; the database's unique holds decide any race), holding the port with an
OCPP reservation, and what follows: the driver arrives, the hold expires, the station refuses.

The flow (docs/waitlist.md):

1. A port of a group becomes Available (``port_freed``) or a driver joins while one is free
   (``group_promote``): ``port_promote`` claims the first waiting driver for it.
2. ``hold_reserve`` sends ReserveNow (expiry = the group's hold time).  Accepted: the driver is
   notified.  Refused (or the station is unreachable): the driver keeps their place and the
   port passes to the next driver (``hold_refused``).
3. The driver's session starts on the port (``session_started``): the entry is served.  The
   hold expires first (``hold_expire``): a no-show, the driver goes to the back of the queue
   (dropped after the group's limit), the reservation is cancelled and the port promoted again.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from contextvars import ContextVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from apps.charging import services as charging
from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.core import events
from apps.core.scoping import SYSTEM
from apps.ocpp import commands
from apps.stations.models import Evse, Station

from . import queue, selectors
from .choices import ACTIVE_STATUSES, EntryStatus, JoinedVia, ReservationState
from .live import queue_changed
from .models import WaitlistEntry, WaitlistGroup

logger = logging.getLogger(__name__)
SYSTEM_REQUESTER = commands.Requester(actor=SYSTEM, source="system")
RESERVE_TIMEOUT = 15.0  # seconds to wait for the station's answer to ReserveNow
MAX_REFUSALS = 3  # ports refused in a row before the port is left until it changes again
DISPLAY_MESSAGE_ID = 8101  # the queue position's message id on a 2.0.1 display
# A driver who joins from the public page confirms that the card is theirs by tapping it at a
# station of the queue within this many minutes (docs/waitlist.md "Proving the card").
CONFIRM_MINUTES = 10

# Set while the waitlist asks the rest of the authorization rules (no recursion).
_asking = ContextVar("waitlist_asking", default=False)


class WaitlistError(Exception):
    """Refused for the driver's or the group's reason; ``str()`` is for people."""


def _notify(entry: WaitlistEntry, kind: str, event: str, **context) -> None:
    events.emit(
        events.NOTIFICATION_REQUESTED,
        recipient={
            "key": entry.contact_key,
            "email": entry.email,
            "phone": entry.phone,
            "language": entry.language,
        },
        kind=kind,
        event_key=f"waitlist:{entry.pk}:{event}",
        context={"group": entry.group.name, **context},
    )


def may_charge(*, group: WaitlistGroup, token_uid: str, token_type: str = "") -> bool:
    """Whether the token may charge on the group's stations (access control, billing, the
    token table: the rules as they are), asked without the waitlist's own policy."""
    station = group.stations.order_by("pk").first()
    if station is None:
        return False
    marker = _asking.set(True)
    try:
        decision = charging.authorize(uid=token_uid, token_type=token_type, station_id=station.pk)
    finally:
        _asking.reset(marker)
    return decision.accepted


GROUP_FIELDS = (
    "name",
    "hold_minutes",
    "max_no_shows",
    "allow_several_queues",
    "opens_at",
    "closes_at",
    "is_active",
)


def _check_stations(group: WaitlistGroup, stations) -> None:
    if any(station.site_id != group.site_id for station in stations):
        raise ValidationError(_("A queue's stations must be at its site."))


@transaction.atomic
def group_create(*, site, stations=(), **fields) -> WaitlistGroup:
    group = WaitlistGroup(site=site, **{k: v for k, v in fields.items() if k in GROUP_FIELDS})
    group.full_clean()
    _check_stations(group, stations)
    group.save()
    group.stations.set(stations)
    return group


@transaction.atomic
def group_update(*, group: WaitlistGroup, stations=None, **fields) -> WaitlistGroup:
    for name, value in fields.items():
        if name in GROUP_FIELDS:
            setattr(group, name, value)
    group.full_clean()
    group.save()
    if stations is not None:
        _check_stations(group, stations)
        group.stations.set(stations)
    queue.group_promote(group.pk)  # opened, or a station added
    return group


@transaction.atomic
def group_delete(*, group: WaitlistGroup) -> None:
    for entry in group.entries.filter(status=EntryStatus.HELD):
        entry_leave(entry=entry)
    group.delete()


@transaction.atomic
def entry_join(
    *,
    group: WaitlistGroup,
    token_uid: str,
    via: str,
    token_type: str = "",
    email: str = "",
    phone: str = "",
    language: str = "en",
    check_access: bool = True,
    confirm_by_tap: bool = False,
) -> WaitlistEntry:
    """Join ``group``'s queue (or find the place the driver already has).

    ``confirm_by_tap`` (the public page, where anybody may type any card number): the entry
    takes no place until the card is tapped at a station of the queue within
    ``CONFIRM_MINUTES`` (``entry_confirm``); it never finds nor touches the card's existing
    place, whose page stays private to whoever proved the card."""
    now = timezone.now()
    if not group.is_open(now):
        raise WaitlistError(_("This queue is closed now."))
    if confirm_by_tap:
        return _join_unconfirmed(
            group=group,
            token_uid=token_uid,
            via=via,
            token_type=token_type,
            email=email,
            phone=phone,
            language=language,
            now=now,
        )
    existing = WaitlistEntry.objects.filter(
        group=group, token_uid=token_uid, status__in=(EntryStatus.WAITING, EntryStatus.HELD)
    ).first()
    if existing is not None:
        return existing
    if check_access and not may_charge(group=group, token_uid=token_uid, token_type=token_type):
        raise WaitlistError(_("This card may not charge at these stations."))
    elsewhere = WaitlistEntry.objects.filter(
        token_uid=token_uid, status__in=(EntryStatus.WAITING, EntryStatus.HELD)
    ).exclude(group=group)
    if elsewhere.exists() and not (
        group.allow_several_queues
        and not elsewhere.filter(group__allow_several_queues=False).exists()
    ):
        raise WaitlistError(_("This card is already waiting in another queue."))
    entry = WaitlistEntry(
        group=group,
        token_uid=token_uid,
        token_type=token_type,
        email=email,
        phone=phone,
        language=language or "en",
        joined_via=via,
        joined_at=now,
        queued_at=now,
    )
    entry.full_clean()
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # the same driver joined at the same moment elsewhere
        return WaitlistEntry.objects.get(
            group=group, token_uid=token_uid, status__in=(EntryStatus.WAITING, EntryStatus.HELD)
        )
    _notify(entry, "waitlist.joined", "joined", position=selectors.entry_position(entry))
    queue.group_promote(group.pk)
    queue_changed(group.pk)
    return entry


def _join_unconfirmed(*, group, token_uid, via, token_type, email, phone, language, now):
    if not may_charge(group=group, token_uid=token_uid, token_type=token_type):
        raise WaitlistError(_("This card may not charge at these stations."))
    entry = WaitlistEntry(
        group=group,
        token_uid=token_uid,
        token_type=token_type,
        email=email,
        phone=phone,
        language=language or "en",
        joined_via=via,
        status=EntryStatus.UNCONFIRMED,
        joined_at=now,
        queued_at=now,
        confirm_by=now + dt.timedelta(minutes=CONFIRM_MINUTES),
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def entry_confirm(*, token_uid: str, station_id: int) -> WaitlistEntry | None:
    """The card was tapped at ``station_id``: the latest unconfirmed entry of that card in the
    station's queue (joined from the public page, not lapsed) takes its place, counted from
    now; the card's other unconfirmed entries there lapse.  If the card already has a place in
    the queue, it keeps it and takes the new entry's contact details (the tap proves them)."""
    group = selectors.group_of_station(station_id)
    if group is None:
        return None
    now = timezone.now()
    queue_changed(group.pk)  # the pages of the card's entries there (and the places behind)
    pending = list(
        WaitlistEntry.objects.select_for_update()
        .filter(
            group=group,
            token_uid=token_uid,
            status=EntryStatus.UNCONFIRMED,
            confirm_by__gte=now,
        )
        .order_by("-joined_at", "-id")
    )
    if not pending:
        return None
    chosen, others = pending[0], pending[1:]
    WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in others]).update(
        status=EntryStatus.LEFT, ended_at=now
    )
    existing = (
        WaitlistEntry.objects.select_for_update()
        .filter(group=group, token_uid=token_uid, status__in=ACTIVE_STATUSES)
        .first()
    )
    if existing is not None:
        existing.email, existing.phone = chosen.email, chosen.phone
        existing.language = chosen.language
        existing.save(update_fields=["email", "phone", "language"])
        chosen.status, chosen.ended_at = EntryStatus.LEFT, now
        chosen.save(update_fields=["status", "ended_at"])
        return existing
    elsewhere = WaitlistEntry.objects.filter(
        token_uid=token_uid, status__in=ACTIVE_STATUSES
    ).exclude(group=group)
    if elsewhere.exists() and not (
        group.allow_several_queues
        and not elsewhere.filter(group__allow_several_queues=False).exists()
    ):
        chosen.status, chosen.ended_at = EntryStatus.LEFT, now
        chosen.save(update_fields=["status", "ended_at"])
        return None
    chosen.status, chosen.queued_at, chosen.confirm_by = EntryStatus.WAITING, now, None
    chosen.save(update_fields=["status", "queued_at", "confirm_by"])
    _notify(chosen, "waitlist.joined", "joined", position=selectors.entry_position(chosen))
    queue.group_promote(group.pk)
    return chosen


def lapse_unconfirmed(now: dt.datetime | None = None) -> int:
    """Unconfirmed entries whose time to tap has passed end (the beat's ``expire_due``)."""
    now = now or timezone.now()
    lapsing = WaitlistEntry.objects.filter(status=EntryStatus.UNCONFIRMED, confirm_by__lt=now)
    for group_id in set(lapsing.values_list("group_id", flat=True)):
        queue_changed(group_id)
    return lapsing.update(status=EntryStatus.LEFT, ended_at=now)


@transaction.atomic
def entry_leave(*, entry: WaitlistEntry) -> WaitlistEntry:
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in (EntryStatus.UNCONFIRMED, EntryStatus.WAITING, EntryStatus.HELD):
        return entry
    held = entry.status == EntryStatus.HELD
    evse_id, reservation_id = entry.held_evse_id, entry.reservation_id
    entry.status, entry.ended_at = EntryStatus.LEFT, timezone.now()
    _clear_hold(entry)
    entry.save()
    queue_changed(entry.group_id)
    if held:
        _after_hold_ended(evse_id=evse_id, reservation_id=reservation_id)
    return entry


def _clear_hold(entry: WaitlistEntry) -> None:
    entry.held_evse = None
    entry.held_at = entry.hold_expires_at = None
    entry.reservation_id = None
    entry.reservation_state = ReservationState.NONE


def _after_hold_ended(*, evse_id: int | None, reservation_id: int | None) -> None:
    """Cancel the station's reservation and offer the port to the next driver (after commit)."""
    if evse_id is None:
        return
    station_id = Evse.objects.filter(pk=evse_id).values_list("station_id", flat=True).first()
    if reservation_id is not None and station_id is not None:
        queue.reservation_cancel(station_id, reservation_id)
    queue.port_promote(evse_id, [])


def port_promote(*, evse_pk: int, skip_entry_ids: list[int] | tuple = ()) -> WaitlistEntry | None:
    """Hold a free port for the first waiting driver of its group.  The claim is a conditional
    update (the entry must still be waiting) backed by the unique holds: two processes
    promoting the same port, or the same driver to two ports, cannot both succeed."""
    evse = Evse.objects.select_related("station").filter(pk=evse_pk).first()
    if evse is None or not selectors.port_is_free(evse):
        return None
    group = selectors.group_of_station(evse.station_id)
    now = timezone.now()
    if group is None or not group.is_open(now):
        return None
    candidates = selectors.waiting(group).exclude(pk__in=list(skip_entry_ids))
    for candidate in candidates[:10]:
        try:
            with transaction.atomic():
                claimed = WaitlistEntry.objects.filter(
                    pk=candidate.pk, status=EntryStatus.WAITING
                ).update(
                    status=EntryStatus.HELD,
                    held_evse=evse,
                    held_at=now,
                    hold_expires_at=now + dt.timedelta(minutes=group.hold_minutes),
                    reservation_id=secrets.randbelow(2**31 - 2) + 1,
                    reservation_state=ReservationState.SENT,
                )
        except IntegrityError:
            if WaitlistEntry.objects.filter(status=EntryStatus.HELD, held_evse=evse).exists():
                return None  # another process gave the port to someone
            continue  # this driver holds a port elsewhere: the next one
        if claimed:
            queue_changed(group.pk)
            return WaitlistEntry.objects.select_related("group", "held_evse__station").get(
                pk=candidate.pk
            )
    return None


def hold_reserve(*, entry_id: int, skip_entry_ids: list[int] | tuple = ()) -> str:
    """Send the hold's ReserveNow; answers the outcome ("accepted", "refused", "gone")."""
    entry = (
        WaitlistEntry.objects.select_related("group__site", "held_evse__station")
        .filter(pk=entry_id, status=EntryStatus.HELD)
        .first()
    )
    if entry is None or entry.reservation_state != ReservationState.SENT:
        return "gone"
    evse = entry.held_evse
    reply = commands.reservation_reserve_now(
        requester=SYSTEM_REQUESTER,
        station=evse.station,
        evse_id=evse.evse_id,
        reservation_id=entry.reservation_id,
        expires_at=entry.hold_expires_at,
        id_token=entry.token_uid,
        token_type=entry.token_type or "ISO14443",
        timeout=RESERVE_TIMEOUT,
    )
    if reply.ok:
        return "accepted" if hold_accepted(entry_id=entry.pk) else "gone"
    hold_refused(entry_id=entry.pk, reason=reply.status, skip_entry_ids=skip_entry_ids)
    return "refused"


@transaction.atomic
def hold_accepted(*, entry_id: int) -> bool:
    updated = WaitlistEntry.objects.filter(
        pk=entry_id, status=EntryStatus.HELD, reservation_state=ReservationState.SENT
    ).update(reservation_state=ReservationState.ACCEPTED)
    if not updated:
        return False
    entry = WaitlistEntry.objects.select_related("group__site", "held_evse__station").get(
        pk=entry_id
    )
    queue_changed(entry.group_id)
    until = entry.hold_expires_at.astimezone(ZoneInfo(entry.group.site.timezone))
    _notify(
        entry,
        "waitlist.promoted",
        f"promoted:{entry.reservation_id}",
        port=port_label(entry.held_evse),
        until=formats.time_format(until, "H:i"),
    )
    queue.hold_expire(entry_id, at=entry.hold_expires_at)
    return True


@transaction.atomic
def hold_refused(
    *, entry_id: int, reason: str = "", skip_entry_ids: list[int] | tuple = ()
) -> None:
    """The station refused the reservation (or could not be reached): the driver keeps their
    place, the port passes to the next driver (up to ``MAX_REFUSALS`` in a row)."""
    entry = WaitlistEntry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None or entry.status != EntryStatus.HELD:
        return
    evse_id = entry.held_evse_id
    entry.status = EntryStatus.WAITING
    _clear_hold(entry)
    entry.save()
    queue_changed(entry.group_id)
    logger.info("Reservation for entry %s refused: %s", entry_id, reason)
    skip = [*skip_entry_ids, entry_id]
    if len(skip) < MAX_REFUSALS:
        queue.port_promote(evse_id, skip)


@transaction.atomic
def hold_expire(*, entry_id: int) -> str | None:
    """The driver did not arrive in time: back of the queue (or dropped after the group's
    limit of no-shows); cancel the reservation and promote the port again."""
    now = timezone.now()
    entry = (
        WaitlistEntry.objects.select_related("group")
        .filter(pk=entry_id, status=EntryStatus.HELD, hold_expires_at__lte=now)
        .first()
    )
    if entry is None:
        return None
    evse_id, reservation_id = entry.held_evse_id, entry.reservation_id
    updated = WaitlistEntry.objects.filter(
        pk=entry_id, status=EntryStatus.HELD, reservation_id=reservation_id
    ).update(
        status=Case(
            When(no_shows__gte=entry.group.max_no_shows - 1, then=Value(EntryStatus.DROPPED)),
            default=Value(EntryStatus.WAITING),
        ),
        no_shows=F("no_shows") + 1,
        queued_at=now,
        held_evse=None,
        held_at=None,
        hold_expires_at=None,
        reservation_id=None,
        reservation_state=ReservationState.NONE,
    )
    if not updated:
        return None
    station_id = Evse.objects.filter(pk=evse_id).values_list("station_id", flat=True).first()
    if station_id is not None:  # billing charges the tariff's no-show fee, if it has one
        events.emit(
            events.RESERVATION_NO_SHOW,
            key=f"waitlist:{entry_id}:{reservation_id}",
            token_uid=entry.token_uid,
            station_id=station_id,
            evse_id=evse_id,
            at=entry.hold_expires_at,
        )
    entry.refresh_from_db()
    queue_changed(entry.group_id)
    if entry.status == EntryStatus.DROPPED:
        WaitlistEntry.objects.filter(pk=entry_id).update(ended_at=now)
        _notify(entry, "waitlist.dropped", "dropped")
    else:
        _notify(entry, "waitlist.expired", f"expired:{reservation_id}")
    _after_hold_ended(evse_id=evse_id, reservation_id=reservation_id)
    return entry.status


@transaction.atomic
def session_started(*, session_id: int) -> WaitlistEntry | None:
    """A session opened: the driver the port was held for has arrived (served); a driver who
    was waiting and found a free port is served too.  Someone else on a held port (a station
    that ignored the reservation) ends that hold without a no-show: the driver keeps their
    place."""
    session = ChargingSession.objects.select_related("evse").filter(pk=session_id).first()
    if session is None:
        return None
    now = timezone.now()
    held = (
        WaitlistEntry.objects.select_for_update()
        .filter(status=EntryStatus.HELD, held_evse=session.evse)
        .first()
    )
    if held is not None and held.token_uid != session.id_token:
        held.status = EntryStatus.WAITING
        _clear_hold(held)
        held.save()
        queue_changed(held.group_id)
        held = None
    served = held or (
        WaitlistEntry.objects.select_for_update()
        .filter(
            token_uid=session.id_token,
            status=EntryStatus.WAITING,
            group__stations__id=session.station_id,
        )
        .first()
    )
    if served is None or not session.id_token:
        return None
    served.status, served.session, served.ended_at = EntryStatus.CHARGING, session, now
    served.arrived_on_hold = held is not None  # billing's reservation fee (SESSION_RESERVED)
    _clear_hold(served)
    served.save()
    queue_changed(served.group_id)
    return served


def group_promote(*, group_id: int) -> list[int]:
    """Offer every free port of the group to the queue (a driver joined, a port came back in
    service, the queue opened).  Returns the entries claimed."""
    group = WaitlistGroup.objects.filter(pk=group_id).first()
    if group is None:
        return []
    claimed = []
    for evse in selectors.free_ports(group):
        entry = port_promote(evse_pk=evse.pk)
        if entry is None:
            break  # nobody left waiting (or the rest hold ports)
        claimed.append(entry.pk)
    return claimed


def port_freed(*, station_id: int, evse_id: int) -> int | None:
    """A port reported Available: promote it.  Returns the pk of the entry claimed."""
    evse_pk = (
        Evse.objects.filter(station_id=station_id, evse_id=evse_id)
        .values_list("pk", flat=True)
        .first()
    )
    if evse_pk is None:
        return None
    entry = port_promote(evse_pk=evse_pk)
    return entry.pk if entry else None


def position_display(*, entry_id: int, station_id: int) -> str:
    """Show the driver's place on a 2.0.1 station's display (1.6 has none)."""
    entry = WaitlistEntry.objects.select_related("group").filter(pk=entry_id).first()
    station = Station.objects.filter(pk=station_id).first()
    if entry is None or station is None or station.ocpp_version != "2.0.1":
        return "skipped"
    position = selectors.entry_position(entry)
    if position is None:
        return "skipped"
    with translation.override(entry.language or "en"):
        text = _("You are number %(position)s in the queue.") % {"position": position}
    reply = commands.station_display_message(
        requester=SYSTEM_REQUESTER,
        station=station,
        message_id=DISPLAY_MESSAGE_ID,
        text=text,
        language=entry.language or "en",
    )
    return reply.status


def reservation_cancel(*, station_id: int, reservation_id: int) -> str:
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        return "gone"
    return commands.reservation_cancel(
        requester=SYSTEM_REQUESTER, station=station, reservation_id=reservation_id
    ).status


JUST_STOPPED = dt.timedelta(minutes=2)


def _charging_or_just_stopped(*, uid: str, group: WaitlistGroup) -> bool:
    return ChargingSession.objects.filter(
        Q(status=SessionStatus.ACTIVE) | Q(ended_at__gte=timezone.now() - JUST_STOPPED),
        id_token=uid,
        station__in=group.stations.all(),
    ).exists()


def port_label(evse: Evse) -> str:
    return f"{evse.station.name or evse.station.identity} #{evse.evse_id}"


# --- Joining by a card tap (the AUTHORIZATION policy) ----------------------------------------
def tap_authorization(
    *, uid: str, token_type: str = "", station_id: int, evse_id: int | None = None, **_
):
    """A driver taps their card (Authorize, no port named) on a station of a queue whose every
    port is busy: if the rules let them charge there, they join the queue.  The answer is the
    rules' own (Accepted: no port is free, so nothing starts and nothing is charged); the
    waitlist abstains in every other case."""
    if _asking.get() or not uid:
        return None
    # Any tap of the card here (or a start naming it) proves a page join's card.
    entry_confirm(token_uid=uid, station_id=station_id)
    if evse_id is not None:
        return None
    group = selectors.group_of_station(station_id)
    if group is None or not group.is_open(timezone.now()):
        return None
    if selectors.free_ports(group).exists():
        return None
    if WaitlistEntry.objects.filter(token_uid=uid, status=EntryStatus.HELD).exists():
        return None  # their held port: they are here to charge
    if _charging_or_just_stopped(uid=uid, group=group):
        return None  # a stop (1.6 StopTransaction, 2.0.1 Ended) names the token too
    marker = _asking.set(True)
    try:
        decision = charging.authorize(uid=uid, token_type=token_type, station_id=station_id)
    finally:
        _asking.reset(marker)
    if not decision.accepted:
        return decision
    try:
        entry = entry_join(
            group=group, token_uid=uid, token_type=token_type, via=JoinedVia.TAP, check_access=False
        )
    except WaitlistError:
        return decision
    queue.position_display(entry.pk, station_id)
    return decision
