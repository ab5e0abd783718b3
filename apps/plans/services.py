"""Writes on cloud plans: orders recorded by the platform operator, seats activated by the
tenant, renewals, reminders.  See docs/plans.md."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.core.permissions import grants
from apps.roles.models import RoleAssignment

from . import conf, selectors
from .models import PlanOrder, PlanReminder, PortActivation, add_years
from .ordercodes import OrderCodeError, parse_order_code

logger = logging.getLogger(__name__)


@transaction.atomic
def plan_order_create(
    *,
    tenant,
    code: str,
    quantity: int,
    starts_on: dt.date,
    reference: str = "",
    recorded_by: str = "",
    renews: PlanOrder | None = None,
) -> PlanOrder:
    """Record an order (new or obsolete code; stored under the current code)."""
    try:
        parsed = parse_order_code(code)
    except OrderCodeError as error:
        raise ValidationError({"order_code": str(error)}) from error
    order = PlanOrder(
        tenant=tenant,
        order_code=parsed.code,
        ordered_code=parsed.written,
        tier=parsed.tier,
        years=parsed.years,
        quantity=quantity,
        starts_on=starts_on,
        expires_on=add_years(starts_on, parsed.years),
        reference=reference,
        recorded_by=recorded_by,
        renews=renews,
    )
    order.full_clean()
    order.save()
    return order


@transaction.atomic
def plan_order_renew(
    *,
    order: PlanOrder,
    code: str | None = None,
    quantity: int | None = None,
    reference: str = "",
    recorded_by: str = "",
) -> PlanOrder:
    """A renewal starts the day the order expires; its ports move onto it (as many as it has
    seats, in activation order) so that they never lapse."""
    order = PlanOrder.every_tenant.select_for_update().get(pk=order.pk)
    if PlanOrder.every_tenant.filter(renews=order).exists():
        raise ValidationError(_("This order has already been renewed."))
    renewal = plan_order_create(
        tenant=order.tenant,
        code=code or order.order_code,
        quantity=quantity or order.quantity,
        starts_on=order.expires_on,
        reference=reference,
        recorded_by=recorded_by,
        renews=order,
    )
    moving = PortActivation.every_tenant.filter(order=order, released_at__isnull=True)
    ids = list(moving.order_by("activated_at", "pk").values_list("pk", flat=True))
    PortActivation.every_tenant.filter(pk__in=ids[: renewal.quantity]).update(order=renewal)
    return renewal


@transaction.atomic
def port_activate(
    *,
    tenant,
    station,
    evse_id: int,
    order: PlanOrder | None = None,
    day: dt.date | None = None,
) -> PortActivation:
    """Give a port a seat: of ``order``, or of the current order with a free seat that
    expires first.  A port whose plan lapsed gives up its old seat and takes the new one."""
    day = day or selectors.tenant_today(tenant)
    if not station.evses.filter(evse_id=evse_id).exists():
        raise ValidationError(_("This station has no port %(port)s.") % {"port": evse_id})
    orders = PlanOrder.every_tenant.select_for_update().filter(tenant_id=tenant.pk)
    current = PortActivation.every_tenant.select_related("order").filter(
        tenant_id=tenant.pk, station_pk=station.pk, evse_id=evse_id, released_at__isnull=True
    )
    existing = current.first()
    if existing is not None and day < existing.order.expires_on:
        raise ValidationError(_("This port already holds a plan seat."))
    if order is not None:
        candidates = list(orders.filter(pk=order.pk, tenant_id=tenant.pk))
        if not candidates:
            raise ValidationError(_("Unknown plan order."))
    else:
        candidates = list(orders.filter(expires_on__gt=day).order_by("expires_on", "pk"))
    for candidate in candidates:
        if candidate.expires_on <= day:
            raise ValidationError(_("This plan order has expired."))
        used = candidate.activations.filter(released_at__isnull=True).count()
        if used < candidate.quantity:
            break
    else:
        raise ValidationError(_("No free plan seat: order more ports or release one."))
    now = timezone.now()
    if existing is not None:
        existing.released_at = now
        existing.save(update_fields=["released_at"])
    activation = PortActivation(
        tenant=tenant,
        order=candidate,
        station_pk=station.pk,
        evse_id=evse_id,
        station_identity=station.identity,
        activated_at=now,
    )
    activation.full_clean()
    activation.save()
    return activation


@transaction.atomic
def port_release(*, activation: PortActivation) -> PortActivation:
    """Free the seat (the port then refuses new sessions: the tenant uses plans)."""
    activation = PortActivation.every_tenant.select_for_update().get(pk=activation.pk)
    if activation.released_at is None:
        activation.released_at = timezone.now()
        activation.save(update_fields=["released_at"])
    return activation


# --- Renewal reminders -----------------------------------------------------------------------
def plan_reminders_send(*, today: dt.date | None = None) -> int:
    """Remind each tenant's admins 60, 30 and 7 days before an order expires (once each: the
    reminder row is the claim).  Returns the number of reminders sent."""
    thresholds = conf.reminder_days()  # (60, 30, 7)
    sent = 0
    for index, days_before in enumerate(thresholds):
        more_than = thresholds[index + 1] if index + 1 < len(thresholds) else 0
        day = today or timezone.now().date()
        for order in selectors.orders_due_for_reminder(
            today=day, days_before=days_before, more_than=more_than
        ):
            local_day = today or selectors.tenant_today(order.tenant)
            days_left = (order.expires_on - local_day).days
            if not more_than < days_left <= days_before:
                continue
            if _remind(order=order, days_before=days_before, days_left=days_left):
                sent += 1
    return sent


def _remind(*, order: PlanOrder, days_before: int, days_left: int) -> bool:
    try:
        with transaction.atomic():
            reminder = PlanReminder.objects.create(
                order=order, days_before=days_before, sent_at=timezone.now()
            )
            reminder.recipients = _mail_admins(order=order, days_left=days_left)
            reminder.save(update_fields=["recipients"])
    except IntegrityError:  # another worker claimed it
        return False
    return True


def _mail_admins(*, order: PlanOrder, days_left: int) -> int:
    tenant = order.tenant
    sent = 0
    with tenant_context(tenant):
        assignments = RoleAssignment.objects.select_related("user", "role").filter(
            all_sites=True, user__is_active=True
        )
        users = {a.user for a in assignments if grants(a.role.permissions, "plans.manage")}
        for user in sorted(users, key=lambda u: u.email):
            language = getattr(user, "language", "") or tenant.language
            with translation.override(language):
                context = {"order": order, "days_left": days_left, "tenant": tenant}
                subject = render_to_string("plans/email/reminder_subject.txt", context).strip()
                body = render_to_string("plans/email/reminder_body.txt", context)
            sent += send_mail(subject, body, None, [user.email], fail_silently=False)
    return sent
