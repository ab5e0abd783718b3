"""Portal pages of access control: rules (with their schedules and overlaps), groups and their
members, holidays, and the "why was this card refused here now?" tool.  Thin: forms in,
services to write, selectors to read."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.stations.models import Evse, Site, Station

from . import engine, imports, local_lists, selectors, services
from .filtersets import AccessRuleFilterSet
from .forms import (
    AccessGroupForm,
    ExplainForm,
    HolidayForm,
    ImportForm,
    MembersForm,
    RuleForm,
    WindowFormSet,
    window_rows,
    window_specs,
)
from .models import AccessGroup, AccessRule, Holiday, StationLocalList


class TenantWideMixin(PermissionRequiredMixin):
    """Groups belong to no site: their pages need the permission on every site."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _may(request, permission: str, site_id: int | None = None) -> bool:
    scope = request.actor.scope_for(permission)
    return scope.all_sites if site_id is None else scope.covers_site(site_id)


# --- Rules ------------------------------------------------------------------------------------
class RuleListView(ScopedListView):
    model = AccessRule
    permission = "access.view"
    filterset_class = AccessRuleFilterSet
    filter_fields = ("site_id", "kind")
    template_name = "access/rule_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("scope_site", "station", "evse__station")
            .prefetch_related("groups", "windows")
            .order_by("scope_site__name", "station__identity", "evse__evse_id", "name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.actor
        context["may_manage"] = not actor.scope_for("access.manage").empty
        context["sites"] = Site.objects.restrict(actor, "access.manage").order_by("name")
        context["stations"] = (
            Station.objects.restrict(actor, "access.manage")
            .select_related("site")
            .order_by("identity")
        )
        return context


class RuleDetailView(ScopedDetailView):
    model = AccessRule
    permission = "access.view"
    template_name = "access/rule_detail.html"
    context_object_name = "rule"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("scope_site", "station", "evse__station")
            .prefetch_related("groups", "windows")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rule = self.object
        context["may_manage"] = self.may("access.manage", rule.scope_site_id)
        context["place_rules"] = selectors.place_rules(rule)
        context["overlaps"] = [str(o) for o in engine.overlaps(selectors.engine_rules(rule))]
        return context


class RuleFormView(PermissionRequiredMixin, View):
    """New rule (``?site=``, ``?station=`` or ``?port=`` names its place) or edit one."""

    permission = "access.manage"
    template_name = "access/rule_form.html"

    def _place(self, request, pk):
        actor = request.actor
        if pk is not None:
            rule = get_object_or_404(AccessRule.objects.restrict(actor, self.permission), pk=pk)
            return {}, rule
        if request.GET.get("port"):
            evse = get_object_or_404(
                Evse.objects.restrict(actor, self.permission), pk=request.GET["port"]
            )
            return {"evse": evse}, None
        if request.GET.get("station"):
            station = get_object_or_404(
                Station.objects.restrict(actor, self.permission), pk=request.GET["station"]
            )
            return {"station": station}, None
        site = get_object_or_404(
            Site.objects.restrict(actor, self.permission), pk=request.GET.get("site")
        )
        return {"site": site}, None

    def _render(self, request, form, windows, place, rule):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "windows": windows,
                "rule": rule,
                "place": rule or next(iter(place.values())),
                "ports": place["station"].evses.order_by("evse_id") if "station" in place else (),
            },
        )

    def get(self, request, pk=None):
        place, rule = self._place(request, pk)
        if rule is None:
            form = RuleForm(initial={"holidays": "as_usual"})
            windows = WindowFormSet(prefix="w")
        else:
            form = RuleForm(
                initial={
                    "name": rule.name,
                    "kind": rule.kind,
                    "groups": list(rule.groups.all()),
                    "date_from": rule.date_from,
                    "date_to": rule.date_to,
                    "holidays": rule.holidays,
                }
            )
            windows = WindowFormSet(prefix="w", initial=window_rows(rule.windows.all()))
        return self._render(request, form, windows, place, rule)

    def post(self, request, pk=None):
        place, rule = self._place(request, pk)
        form = RuleForm(request.POST)
        windows = WindowFormSet(request.POST, prefix="w")
        if form.is_valid() and windows.is_valid():
            data = {**form.cleaned_data, "windows": window_specs(windows)}
            try:
                if rule is None:
                    rule = services.rule_create(**place, **data)
                else:
                    rule = services.rule_update(rule=rule, **data)
            except ValidationError as error:
                if getattr(error, "code", None) == "lockout":
                    form.add_error("confirm_lockout", error)
                else:
                    form.add_error(None, error)
            else:
                messages.success(request, _("Access rule saved."))
                return HttpResponseRedirect(reverse("access:rule_detail", args=[rule.pk]))
        return self._render(request, form, windows, place, rule)


class RuleDeleteView(PermissionRequiredMixin, View):
    permission = "access.manage"

    def post(self, request, pk):
        rule = get_object_or_404(AccessRule.objects.restrict(request.actor, self.permission), pk=pk)
        services.rule_delete(rule=rule)
        messages.success(request, _("Access rule deleted."))
        return HttpResponseRedirect(reverse("access:rule_list"))


# --- Groups -----------------------------------------------------------------------------------
class GroupListView(TenantWideMixin, ScopedListView):
    model = AccessGroup
    permission = "access.view"
    template_name = "access/group_list.html"

    def get_queryset(self):
        return super().get_queryset().annotate(member_count=Count("tokens")).order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = _may(self.request, "access.manage")
        context["form"] = AccessGroupForm()
        return context


class GroupDetailView(TenantWideMixin, ScopedDetailView):
    model = AccessGroup
    permission = "access.view"
    template_name = "access/group_detail.html"
    context_object_name = "group"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = self.object
        members = group.tokens.order_by("uid")
        context["member_count"] = members.count()
        context["members"] = members[:200]
        context["rules"] = group.rules.select_related("scope_site", "station", "evse")
        context["may_manage"] = _may(self.request, "access.manage")
        context["members_form"] = MembersForm()
        context["form"] = AccessGroupForm(
            initial={"name": group.name, "description": group.description}
        )
        return context


class GroupCreateView(TenantWideMixin, View):
    permission = "access.manage"

    def post(self, request):
        form = AccessGroupForm(request.POST)
        if form.is_valid():
            try:
                group = services.group_create(**form.cleaned_data)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                return HttpResponseRedirect(reverse("access:group_detail", args=[group.pk]))
        else:
            messages.error(request, _("A group needs a name."))
        return HttpResponseRedirect(reverse("access:group_list"))


class GroupEditView(TenantWideMixin, View):
    permission = "access.manage"

    def post(self, request, pk):
        group = get_object_or_404(AccessGroup, pk=pk)
        form = AccessGroupForm(request.POST)
        if form.is_valid():
            try:
                services.group_update(group=group, **form.cleaned_data)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Group saved."))
        return HttpResponseRedirect(reverse("access:group_detail", args=[pk]))


class GroupMembersView(TenantWideMixin, View):
    permission = "access.manage"

    def post(self, request, pk):
        group = get_object_or_404(AccessGroup, pk=pk)
        form = MembersForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.non_field_errors()))
        else:
            try:
                services.group_change_members(group=group, **form.cleaned_data)
            except services.UnknownTokens as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Members changed."))
        return HttpResponseRedirect(reverse("access:group_detail", args=[pk]))


class GroupDeleteView(TenantWideMixin, View):
    permission = "access.manage"

    def post(self, request, pk):
        services.group_delete(group=get_object_or_404(AccessGroup, pk=pk))
        messages.success(request, _("Group deleted."))
        return HttpResponseRedirect(reverse("access:group_list"))


# --- Holidays ---------------------------------------------------------------------------------
class HolidayListView(ScopedListView):
    model = Holiday
    permission = "access.view"
    template_name = "access/holiday_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site").order_by("-date")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.request.actor.scope_for("access.manage").empty:
            context["form"] = _holiday_form(self.request)
        return context


def _holiday_form(request, data=None) -> HolidayForm:
    return HolidayForm(
        data,
        sites=Site.objects.restrict(request.actor, "access.manage").order_by("name"),
        all_sites=_may(request, "access.manage"),
    )


class HolidayCreateView(PermissionRequiredMixin, View):
    permission = "access.manage"

    def post(self, request):
        form = _holiday_form(request, request.POST)
        if form.is_valid():
            try:
                services.holiday_create(**form.cleaned_data)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Holiday added."))
        else:
            messages.error(
                request, " ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        return HttpResponseRedirect(reverse("access:holiday_list"))


class HolidayDeleteView(PermissionRequiredMixin, View):
    permission = "access.manage"

    def post(self, request, pk):
        holiday = get_object_or_404(Holiday.objects.restrict(request.actor, self.permission), pk=pk)
        services.holiday_delete(holiday=holiday)
        messages.success(request, _("Holiday deleted."))
        return HttpResponseRedirect(reverse("access:holiday_list"))


# --- Why refused ------------------------------------------------------------------------------
class ExplainView(PermissionRequiredMixin, View):
    """ "Why was this card refused here now?" for any card, station, port and time."""

    permission = "access.view"

    def get(self, request):
        stations = (
            Station.objects.restrict(request.actor, self.permission)
            .select_related("site")
            .order_by("identity")
        )
        form = ExplainForm(request.GET or None, stations=stations)
        explanation = None
        if form.is_valid():
            station = form.cleaned_data["station"]
            moment = None
            if form.cleaned_data["at"] is not None:
                # the form reads the time on the reader's clock; it means the site's
                wall = timezone.make_naive(form.cleaned_data["at"])
                moment = wall.replace(tzinfo=ZoneInfo(station.site.timezone))
            explanation = selectors.explain(
                uid=form.cleaned_data["token"].strip(),
                station=station,
                evse_id=form.cleaned_data["port"],
                moment=moment,
            )
        return render(request, "access/explain.html", {"form": form, "explanation": explanation})


class GroupImportView(TenantWideMixin, View):
    """Cards and their groups from a CSV or XLSX file (``imports.py``), with every bad row's
    line and reason."""

    permission = "access.manage"
    template_name = "access/group_import.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _may(request, "tokens.manage"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": ImportForm()})

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = imports.tokens_import(
                    content=upload.read(),
                    filename=upload.name,
                    keep_good=form.cleaned_data["keep_good"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except imports.ImportFileError as error:
                form.add_error("file", str(error))
        return render(request, self.template_name, {"form": form, "report": report})


class StationLocalListSyncView(PermissionRequiredMixin, View):
    """ "Send now" on the station page: bring the station's local list in step at once."""

    permission = "access.manage"

    def post(self, request, pk):
        station = get_object_or_404(Station.objects.restrict(request.actor, self.permission), pk=pk)
        state = local_lists.local_list_sync(station_id=station.pk)
        label = StationLocalList.State(state).label
        messages.info(request, _("Local list: %(state)s.") % {"state": label})
        return HttpResponseRedirect(reverse("stations:station_detail", args=[station.pk]))
