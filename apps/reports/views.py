"""Portal pages: the report (chart, table, comparison with the previous period) and its
exports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from apps.core.views import PermissionRequiredMixin
from apps.stations.models import Site

from . import exports, selectors, services, summary
from .choices import Grain, GroupBy
from .forms import CapacityForm, GhgSettingsForm, ReportForm, ReportSettingsForm
from .models import ExportJob, ReportSubscription

SETTINGS_PERMISSION = "reports.manage"


class ReportMixin(PermissionRequiredMixin):
    permission = selectors.PERMISSION

    def report_form(self, data=None) -> ReportForm:
        sites = Site.objects.restrict(self.request.actor, self.permission)
        return ReportForm(data if data is not None else self.request.GET, sites=sites)


class ReportView(ReportMixin, TemplateView):
    template_name = "reports/report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.report_form()
        context["form"] = form
        context["can_manage"] = self.request.actor.scope_for(SETTINGS_PERMISSION).all_sites
        if not form.is_valid():
            return context
        data = form.cleaned_data
        site = data.get("site")
        report = selectors.report_build(
            actor=self.request.actor,
            start=data["start"],
            end=data["end"],
            group_by=data["group_by"],
            site_ids=[site.pk] if site else None,
        )
        context["report"] = report
        context["ghg_factors"] = selectors.ghg_factors()[0]
        context["query"] = self.request.GET.urlencode()
        context["chart"] = {
            "days": [day.isoformat() for day, _wh, _peak in report.series],
            "energy_kwh": [wh / 1000 for _day, wh, _peak in report.series],
            "peak_kw": [None if p is None else p / 1000 for _d, _w, p in report.series],
            "labels": {"energy": _("Energy (kWh)"), "peak": _("Peak power (kW)")},
        }
        breakdowns = selectors.breakdowns_build(
            actor=self.request.actor,
            start=data["start"],
            end=data["end"],
            site_ids=[site.pk] if site else None,
        )
        context["breakdown_tables"] = [
            (_("Session duration"), breakdowns.by_duration, "duration"),
            (_("Idle time"), breakdowns.by_idle, "idle"),
            (_("Driver group"), breakdowns.by_group, "group"),
        ]
        if breakdowns.by_vehicle is not None:  # only when a fleet app answers
            context["breakdown_tables"].append((_("Vehicle"), breakdowns.by_vehicle, "vehicle"))
        context["jobs"] = ExportJob.objects.filter(requested_by=self.request.user)[:5]
        return context


def _grain(value: str) -> str:
    return Grain.QUARTER if value == Grain.QUARTER else Grain.DAY


class PdfView(ReportMixin, View):
    """The printable summary of the report as the form describes it, in the reader's language
    (the portal's active one)."""

    def get(self, request):
        form = self.report_form()
        if not form.is_valid():
            return HttpResponseBadRequest(_("Invalid period."))
        data = form.cleaned_data
        content = summary.summary_pdf(
            actor=request.actor,
            start=data["start"],
            end=data["end"],
            group_by=data["group_by"],
            site=data.get("site"),
            tenant_name=getattr(request.tenant, "name", ""),
        )
        response = HttpResponse(content, content_type="application/pdf")
        name = f"report-{data['start']}-{data['end']}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response


class ExportView(ReportMixin, View):
    """GET: the period's rows as CSV, streamed as they are read.  POST: the same as a
    background job (CSV or XLSX) with a progress bar, for long ranges."""

    def get(self, request):
        form = self.report_form()
        if not form.is_valid():
            return HttpResponseBadRequest(_("Invalid period."))
        data = form.cleaned_data
        grain = _grain(request.GET.get("grain", ""))
        site = data.get("site")
        lines = exports.csv_lines(
            grain,
            exports.rows(
                actor=request.actor,
                grain=grain,
                start=data["start"],
                end=data["end"],
                site_ids=[site.pk] if site else None,
            ),
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        name = f"report-{data['start']}-{data['end']}-{grain}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def post(self, request):
        form = self.report_form(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Invalid period."))
        data = form.cleaned_data
        site = data.get("site")
        job = services.export_job_create(
            user=request.user,
            file_format="xlsx" if request.POST.get("format") == "xlsx" else "csv",
            grain=_grain(request.POST.get("grain", "")),
            start=data["start"],
            end=data["end"],
            site_ids=[site.pk] if site else [],
        )
        return redirect("reports:export_job", pk=job.pk)


class ExportJobMixin(ReportMixin):
    def job(self, pk: int) -> ExportJob:
        # An export holds what its requester could see: only they may fetch it.
        return get_object_or_404(ExportJob, pk=pk, requested_by=self.request.user)


class ExportJobView(ExportJobMixin, TemplateView):
    template_name = "reports/export_job.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["job"] = self.job(kwargs["pk"])
        return context


class ExportStatusView(ExportJobMixin, View):
    def get(self, request, pk: int):
        job = self.job(pk)
        return JsonResponse(
            {
                "status": job.status,
                "status_label": str(job.get_status_display()),
                "progress": job.progress,
                "rows_done": job.rows_done,
                "rows_total": job.rows_total,
                "download_url": reverse("reports:export_download", args=[job.pk])
                if job.status == ExportJob.Status.DONE
                else None,
            }
        )


class ExportDownloadView(ExportJobMixin, View):
    def get(self, request, pk: int):
        job = self.job(pk)
        if job.status != ExportJob.Status.DONE or not job.file:
            raise Http404
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
        )


class SubscribeView(ReportMixin, View):
    """The report page's "e-mail me this report" form."""

    def post(self, request):
        frequency = request.POST.get("frequency", "")
        if frequency not in ReportSubscription.Frequency.values:
            return HttpResponseBadRequest(_("Unknown frequency."))
        services.subscription_set(
            user=request.user,
            frequency=frequency,
            group_by=request.POST.get("group_by") or GroupBy.SITE,
        )
        messages.success(request, _("You will receive this report by e-mail."))
        return redirect("reports:report")


class UnsubscribeView(TemplateView):
    """The link in every report e-mail (no sign-in needed: the token is the key).  A GET only
    asks, so that a mail scanner following links unsubscribes nobody."""

    template_name = "reports/unsubscribe.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["subscription"] = (
            ReportSubscription.objects.select_related("user")
            .filter(unsubscribe_token=kwargs["token"], is_active=True)
            .first()
        )
        return context

    def post(self, request, token: str):
        done = services.subscription_unsubscribe(token=token)
        return self.render_to_response({"done": done})


class CapacityView(ReportMixin, TemplateView):
    """The capacity planner: how many more ports the site's panel takes, from its history."""

    template_name = "reports/capacity.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sites = Site.objects.restrict(self.request.actor, self.permission)
        form = CapacityForm(self.request.GET or None, sites=sites)
        context["form"] = form
        if not form.is_bound or not form.is_valid():
            return context
        data = form.cleaned_data
        plan = selectors.site_capacity_plan(
            actor=self.request.actor,
            site=data["site"],
            start=data["start"],
            end=data["end"],
            inputs=form.inputs(),
        )
        context["plan"] = plan
        context["site"] = data["site"]
        context["start"], context["end"] = data["start"], data["end"]
        context["chart"] = {
            "times": [p.time for p in plan.profile],
            "actual_kw": [p.actual_peak_w / 1000 for p in plan.profile],
            "simulated_kw": [p.simulated_peak_w / 1000 for p in plan.profile],
            "mean_kw": [p.simulated_mean_w / 1000 for p in plan.profile],
            "room_kw": plan.assumptions.room_w / 1000,
            "labels": {
                "actual": _("Highest load, as it was (kW)"),
                "simulated": _("Highest load, simulated (kW)"),
                "mean": _("Average load, simulated (kW)"),
                "room": _("Room on the panel (kW)"),
            },
        }
        return context


class SettingsView(PermissionRequiredMixin, View):
    """The tenant's report rules: the uptime definition, how long raw meter values are kept
    and the greenhouse gas factors.  They hold for every site: managed with ``reports.manage``
    on every site (site admins)."""

    permission = SETTINGS_PERMISSION
    template_name = "reports/settings_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def forms(self, data=None):
        return (
            ReportSettingsForm(data, instance=selectors.report_settings(), prefix="rules"),
            GhgSettingsForm(data, instance=selectors.ghg_settings(), prefix="ghg"),
        )

    def get(self, request):
        rules, ghg = self.forms()
        return render(request, self.template_name, {"rules": rules, "ghg": ghg})

    def post(self, request):
        rules, ghg = self.forms(request.POST)
        if rules.is_valid() & ghg.is_valid():  # both, so that every field error shows
            services.report_settings_update(**rules.cleaned_data, **ghg.cleaned_data)
            messages.success(request, _("Report settings saved."))
            return redirect("reports:reportsettings_edit")
        return render(request, self.template_name, {"rules": rules, "ghg": ghg})
