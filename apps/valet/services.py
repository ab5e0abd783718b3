"""Writes of the valet board: each checks the actor's ``valet.act`` on the session's site."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging.models import ChargingSession
from apps.core import events
from apps.core.live import publish_live
from apps.core.scoping import Actor
from apps.roles.selectors import UserActor

from .models import CarMove


def _check(actor: Actor, session: ChargingSession) -> None:
    if not actor.scope_for("valet.act").covers_site(session.station.site_id):
        raise PermissionDenied(_("You may not do this at this site."))


def _move_of(session: ChargingSession) -> CarMove:
    move, _ = CarMove.objects.select_for_update().get_or_create(session=session)
    return move


def _changed(session: ChargingSession) -> None:
    site_id = session.station.site_id
    transaction.on_commit(lambda: publish_live({"kind": "valet", "site_id": site_id}))


@transaction.atomic
def car_moved(*, actor: Actor, session: ChargingSession, user=None) -> CarMove:
    _check(actor, session)
    move = _move_of(session)
    if move.moved_at is None:
        move.moved_at, move.moved_by = timezone.now(), user
        move.save()
        _changed(session)
    return move


@transaction.atomic
def car_assign(*, actor: Actor, session: ChargingSession, user) -> CarMove:
    """Hand the car to one of the site's valet staff (None: nobody)."""
    _check(actor, session)
    if user is not None and not _user_may_act(user, session):
        raise ValidationError(_("This person does not work the valet board at this site."))
    move = _move_of(session)
    move.assigned_to = user
    move.save()
    _changed(session)
    return move


def _user_may_act(user, session: ChargingSession) -> bool:
    return user_may_act_site(user, session.station.site_id)


def user_may_act_site(user, site_id: int) -> bool:
    return UserActor(user).scope_for("valet.act").covers_site(site_id)


@transaction.atomic
def driver_ask_to_move(*, actor: Actor, session: ChargingSession) -> CarMove:
    """ "Please move your car", through the notification service (once per session: asking
    again changes nothing; the driver is reached where their token has a contact)."""
    _check(actor, session)
    move = _move_of(session)
    if session.id_token:
        events.emit(
            events.NOTIFICATION_REQUESTED,
            recipient={"key": f"token:{session.id_token}"},
            kind="valet.move_car",
            event_key=f"valet:{session.pk}:move",
            context={
                "port": f"{session.station.name or session.station.identity} #{session.evse.evse_id}"
            },
        )
    if move.driver_notified_at is None:
        move.driver_notified_at = timezone.now()
        move.save()
        _changed(session)
    return move
