"""Portal pages (queues and the drivers in them, for site admins) and the driver's own pages:
joining a queue and following one's place, by signed links without signing in, made for a
phone."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.stations.models import Site

from . import selectors, services
from .choices import EntryStatus, JoinedVia
from .filtersets import WaitlistGroupFilterSet
from .forms import JoinForm, WaitlistGroupForm
from .models import WaitlistEntry, WaitlistGroup

ENTRY_SALT = "waitlist.driver"
GROUP_SALT = "waitlist.join"
# The notification service's push registration reads links signed with this salt
# (apps/notifications/views.py SALT); the two apps share only the string.
PUSH_SALT = "notifications.contact"


def driver_link(entry: WaitlistEntry) -> str:
    return reverse("waitlist:driver", args=[signing.dumps({"entry": entry.pk}, salt=ENTRY_SALT)])


def join_link(group: WaitlistGroup) -> str:
    return reverse("waitlist:join", args=[signing.dumps({"group": group.pk}, salt=GROUP_SALT)])


def join_url_of_station(*, station_id: int, **_) -> str | None:
    """The join page of the station's active queue (the drivers' finder links to it)."""
    group = selectors.group_of_station(station_id)
    return join_link(group) if group is not None else None


def _signed(value: str, salt: str, key: str) -> int:
    try:
        return int(signing.loads(value, salt=salt)[key])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404 from None


# --- Site admins ------------------------------------------------------------------------------
class GroupListView(ScopedListView):
    model = WaitlistGroup
    permission = "waitlist.view"
    filterset_class = WaitlistGroupFilterSet
    template_name = "waitlist/group_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [
            (group, selectors.waiting(group).count()) for group in context["object_list"]
        ]
        context["may_manage"] = not self.request.actor.scope_for("waitlist.manage").empty
        context["sites"] = Site.objects.restrict(self.request.actor, "waitlist.manage")
        return context


class GroupDetailView(ScopedDetailView):
    model = WaitlistGroup
    permission = "waitlist.view"
    template_name = "waitlist/group_detail.html"
    context_object_name = "group"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = self.object
        entries = group.entries.filter(status__in=(EntryStatus.WAITING, EntryStatus.HELD))
        context["entries"] = [
            (entry, selectors.entry_position(entry), driver_link(entry))
            for entry in entries.select_related("held_evse__station")
        ]
        context["may_manage"] = self.may("waitlist.manage", group.site_id)
        context["join_link"] = join_link(group)
        context["stations"] = group.stations.order_by("identity")
        return context


class GroupFormView(PermissionRequiredMixin, View):
    permission = "waitlist.manage"

    def _site_and_group(self, request, pk=None):
        if pk is not None:
            group = get_object_or_404(
                WaitlistGroup.objects.restrict(request.actor, self.permission), pk=pk
            )
            return group.site, group
        site = get_object_or_404(
            Site.objects.restrict(request.actor, self.permission), pk=request.GET.get("site")
        )
        return site, None

    def get(self, request, pk=None):
        site, group = self._site_and_group(request, pk)
        form = WaitlistGroupForm(instance=group, site=site)
        return render(
            request, "waitlist/group_form.html", {"form": form, "site": site, "group": group}
        )

    def post(self, request, pk=None):
        site, group = self._site_and_group(request, pk)
        form = WaitlistGroupForm(request.POST, instance=group, site=site)
        if form.is_valid():
            data = dict(form.cleaned_data)
            stations = data.pop("stations")
            try:
                if group is None:
                    group = services.group_create(site=site, stations=stations, **data)
                else:
                    group = services.group_update(group=group, stations=stations, **data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Queue saved."))
                return HttpResponseRedirect(reverse("waitlist:group_detail", args=[group.pk]))
        return render(
            request, "waitlist/group_form.html", {"form": form, "site": site, "group": group}
        )


class EntryRemoveView(PermissionRequiredMixin, View):
    permission = "waitlist.manage"

    def post(self, request, pk):
        entry = get_object_or_404(
            WaitlistEntry.objects.restrict(request.actor, self.permission), pk=pk
        )
        services.entry_leave(entry=entry)
        messages.success(request, _("The driver was taken off the queue."))
        return HttpResponseRedirect(reverse("waitlist:group_detail", args=[entry.group_id]))


# --- Drivers (signed links, no sign-in) -------------------------------------------------------
def place_context(entry: WaitlistEntry) -> dict:
    """What ``waitlist/_place.html`` shows (the page, and its live updates from
    ``consumers.DriverConsumer``)."""
    wait = selectors.expected_wait(entry)
    return {
        "entry": entry,
        "group": entry.group,
        "position": selectors.entry_position(entry),
        "wait_minutes": None if wait is None else int(wait.total_seconds() // 60),
        "port": services.port_label(entry.held_evse) if entry.held_evse else "",
        "active": entry.status in (EntryStatus.UNCONFIRMED, EntryStatus.WAITING, EntryStatus.HELD),
        "confirm_minutes": services.CONFIRM_MINUTES,
    }


class JoinView(View):
    def _group(self, signed):
        group_id = _signed(signed, GROUP_SALT, "group")
        return get_object_or_404(WaitlistGroup.objects.select_related("site"), pk=group_id)

    def get(self, request, signed):
        group = self._group(signed)
        form = JoinForm(initial={"language": get_language()})
        return render(request, "waitlist/join.html", {"group": group, "form": form})

    def post(self, request, signed):
        group = self._group(signed)
        form = JoinForm(request.POST)
        if form.is_valid():
            try:
                entry = services.entry_join(
                    group=group,
                    token_uid=form.cleaned_data["token_uid"].strip(),
                    via=JoinedVia.PAGE,
                    email=form.cleaned_data["email"],
                    phone=form.cleaned_data["phone"],
                    language=form.cleaned_data["language"],
                    confirm_by_tap=True,
                )
            except services.WaitlistError as error:
                form.add_error(None, str(error))
            else:
                return HttpResponseRedirect(driver_link(entry))
        return render(request, "waitlist/join.html", {"group": group, "form": form})


class DriverView(View):
    def _entry(self, signed):
        entry_id = _signed(signed, ENTRY_SALT, "entry")
        return get_object_or_404(
            WaitlistEntry.objects.select_related("group__site", "held_evse__station"),
            pk=entry_id,
        )

    def get(self, request, signed):
        entry = self._entry(signed)
        context = {
            **place_context(entry),
            "push_url": reverse(
                "notifications:push_subscribe",
                args=[signing.dumps({"contact": entry.contact_key}, salt=PUSH_SALT)],
            ),
            "live_url": f"/ws/waitlist/{signed}/",
        }
        return render(request, "waitlist/driver.html", context)

    def post(self, request, signed):
        entry = self._entry(signed)
        services.entry_leave(entry=entry)
        return HttpResponseRedirect(request.path)
