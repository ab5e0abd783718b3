"""Portal pages of billing: tariffs (list, detail, editor, wizard), receipts with refunds,
payouts with their statement and bank file; and the Stripe webhook endpoint."""

from __future__ import annotations

import csv
import io
import json
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record_for_request
from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.tenants.models import Tenant

from . import selectors, services
from .conf import stripe_settings
from .filtersets import (
    PayoutFilterSet,
    SessionCostFilterSet,
    TariffAssignmentFilterSet,
    TariffFilterSet,
)
from .forms import (
    EDITOR_FORM,
    EDITOR_JSON,
    BillingProfileForm,
    DefinitionJSONForm,
    PayoutRunForm,
    RefundForm,
    TariffAssignmentForm,
    TariffEditor,
    TariffForm,
    TariffVersionForm,
    TaxRateForm,
    WizardForm,
    add_row,
)
from .models import Payout, SessionCost, Tariff, TariffAssignment, TaxRate
from .ocpi import tariff_to_ocpi
from .pricing_text import describe_tariff
from .providers.stripe import WebhookError, verify_webhook
from .services.sessions import BillingError, refunded_amount

logger = logging.getLogger(__name__)


def _audit(request, action: str, obj, **fields) -> None:
    audit_record_for_request(request, action=action, obj=obj, **fields)


class TariffListView(ScopedListView):
    model = Tariff
    permission = "billing.view"
    filterset_class = TariffFilterSet
    filter_fields = ("q", "is_active")
    template_name = "billing/tariff_list.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("versions", "assignments")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        rows = []
        for tariff in context["object_list"]:
            versions = [v for v in tariff.versions.all() if v.effective_from <= now]
            current = max(versions, key=lambda v: v.effective_from, default=None)
            rows.append((tariff, current, describe_tariff(current.parsed) if current else ""))
        context["rows"] = rows
        context["may_manage"] = not self.request.actor.scope_for("billing.manage").empty
        return context


class TariffDetailView(ScopedDetailView):
    model = Tariff
    permission = "billing.view"
    template_name = "billing/tariff_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tariff = self.object
        versions = list(tariff.versions.order_by("-effective_from"))
        context["versions"] = [(v, describe_tariff(v.parsed)) for v in versions]
        context["may_manage"] = self.request.actor.scope_for("billing.manage").all_sites
        context["may_assign"] = not self.request.actor.scope_for("billing.manage").empty
        context["assignments"] = tariff.assignments.restrict(
            self.request.actor, "billing.view"
        ).select_related("site", "station", "driver_group")
        current = selectors.version_in_force(tariff.pk, timezone.now())
        if current is not None:
            profile = selectors.billing_profile()
            context["ocpi"] = json.dumps(
                tariff_to_ocpi(
                    current.parsed,
                    tariff_id=f"{tariff.pk}-{current.number}",
                    country_code=profile.ocpi_country_code,
                    party_id=profile.ocpi_party_id or connection.tenant.slug[:3].upper(),
                    last_updated=current.created_at,
                ),
                indent=2,
                default=str,
            )
        return context


class TariffEditorView(PermissionRequiredMixin, TemplateView):
    """The tariff editor: a structured form (with rows added by a submit button, no script
    needed) or, as an alternative, the definition as JSON.

    Buttons post ``action``: ``save``, ``add:<formset prefix>`` (one more row), ``to_json``
    and ``to_form`` (switch editors, carrying the prices over).  A post without ``editor``
    is JSON, as the page was before the structured editor.
    """

    permission = "billing.manage"
    template_name = "billing/tariff_form.html"
    header_class: type[DefinitionJSONForm] = TariffForm

    def dispatch(self, request, *args, **kwargs):
        # Tariffs are tenant-wide: only who manages billing everywhere may change them.
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def start_definition(self) -> dict:
        return {"currency": self.currency}

    def header_initial(self) -> dict:
        return {}

    def save(self, header, definition: dict):
        raise NotImplementedError

    @property
    def currency(self) -> str:
        return selectors.tenant_currency()

    def get(self, request, *args, **kwargs):
        return self.show_definition(self.header_initial(), self.start_definition())

    def show_definition(self, header_initial: dict, definition: dict, note: str = ""):
        """An unbound page for ``definition``: the form if it can show it, else JSON."""
        reason = TariffEditor.representable(definition, self.currency)
        text = json.dumps(definition, indent=2)
        if reason:
            header = self.header_class(
                initial={**header_initial, "editor": EDITOR_JSON, "definition": text}
            )
            return self.show(header, TariffEditor(currency=self.currency), advanced_reason=reason)
        header = self.header_class(
            initial={**header_initial, "editor": EDITOR_FORM, "definition": text}
        )
        return self.show(
            header, TariffEditor(currency=self.currency, definition=definition), note=note
        )

    def show(self, header, editor, **context):
        uses_json = (header["editor"].value() or EDITOR_JSON) != EDITOR_FORM
        return self.render_to_response(
            self.get_context_data(
                form=header,
                editor=editor,
                uses_json=uses_json,
                currency=self.currency,
                **context,
            )
        )

    def posted_header_initial(self) -> dict:
        fields = [n for n in self.header_class.base_fields if n not in ("editor", "definition")]
        return {name: self.request.POST.get(name, "") for name in fields}

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action") or "save"
        header = self.header_class(request.POST)
        if action.startswith("add:"):
            data = add_row(request.POST, action.removeprefix("add:"))
            header = self.header_class(data)
            editor = TariffEditor(currency=self.currency, data=data)
            editor.silence()
            header._errors = ErrorDict()
            return self.show(header, editor)
        if action == "to_json":
            editor = TariffEditor(currency=self.currency, data=request.POST)
            if not editor.is_valid():
                header._errors = ErrorDict()
                return self.show(header, editor)
            initial = self.posted_header_initial()
            initial |= {
                "editor": EDITOR_JSON,
                "definition": json.dumps(editor.definition, indent=2),
            }
            return self.show(
                self.header_class(initial=initial), TariffEditor(currency=self.currency)
            )
        if action == "to_form":
            header.is_valid()
            header._errors = ErrorDict(
                {k: v for k, v in header.errors.items() if k == "definition"}
            )
            if "definition" in header.errors:
                return self.show(header, TariffEditor(currency=self.currency))
            return self.show_definition(
                self.posted_header_initial(), header.cleaned_data["definition"]
            )
        if header.uses_json:
            editor = TariffEditor(currency=self.currency)
            valid = header.is_valid()
            definition = header.cleaned_data.get("definition") if valid else None
        else:
            editor = TariffEditor(currency=self.currency, data=request.POST)
            valid = editor.is_valid()  # its own errors, whatever the header's
            valid = header.is_valid() and valid
            definition = editor.definition
        if not valid:
            return self.show(header, editor)
        try:
            response = self.save(header, definition)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                if field in header.fields and field != "definition":
                    header.add_error(field, problems)
                elif header.uses_json:
                    header.add_error("definition", problems)
                else:
                    editor.problems += problems
            return self.show(header, editor)
        return response


class TariffCreateView(TariffEditorView):
    header_class = TariffForm

    def save(self, header, definition: dict):
        data = header.cleaned_data
        tariff = services.tariff_create(
            name=data["name"],
            description=data["description"],
            definition=definition,
            effective_from=data["effective_from"],
            created_by=self.request.user,
        )
        _audit(self.request, "tariff.create", tariff)
        messages.success(self.request, _("Tariff created."))
        return redirect("billing:tariff_detail", pk=tariff.pk)


class TariffEditView(TariffEditorView):
    """New prices for a tariff, starting from its latest version (versions are never edited)."""

    header_class = TariffVersionForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.tariff = get_object_or_404(
                Tariff.objects.restrict(request.actor, self.permission), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def start_definition(self) -> dict:
        latest = self.tariff.versions.order_by("-number").first()
        return latest.definition if latest is not None else super().start_definition()

    def get_context_data(self, **kwargs):
        return super().get_context_data(tariff=self.tariff, **kwargs)

    def save(self, header, definition: dict):
        data = header.cleaned_data
        version = services.tariff_version_add(
            tariff=self.tariff,
            definition=definition,
            effective_from=data["effective_from"],
            note=data["note"],
            created_by=self.request.user,
        )
        _audit(self.request, "tariff.version_add", self.tariff, changes={"version": version.number})
        messages.success(self.request, _("New prices saved."))
        return redirect("billing:tariff_detail", pk=self.tariff.pk)


class PricingWizardView(PermissionRequiredMixin, FormView):
    """Answer three questions, read the reasoning, then edit and save the proposal (in the
    tariff editor, pre-filled)."""

    permission = "billing.manage"
    form_class = WizardForm
    template_name = "billing/wizard.html"

    def form_valid(self, form):
        proposal = selectors.wizard_proposal(**form.answers())
        sector = dict(form.fields["sector"].choices)[form.cleaned_data["sector"]]
        tariff_form = TariffForm(
            initial={
                "name": _("%(sector)s pricing") % {"sector": sector},
                "editor": EDITOR_JSON,
                "definition": json.dumps(proposal.definition, indent=2),
            }
        )
        return self.render_to_response(
            self.get_context_data(
                form=form,
                proposal=proposal,
                summary=describe_tariff(proposal.tariff),
                tariff_form=tariff_form,
            )
        )


class SessionCostListView(ScopedListView):
    model = SessionCost
    permission = "billing.view"
    filterset_class = SessionCostFilterSet
    filter_fields = ("q", "site_id", "ended_after", "ended_before")
    template_name = "billing/receipt_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("session__station__site")


class SessionCostDetailView(ScopedDetailView):
    model = SessionCost
    permission = "billing.view"
    template_name = "billing/receipt_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("session__station__site", "driver_account")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cost = self.object
        context["lines"] = cost.lines.order_by("position")
        context["refunded"] = refunded_amount(cost)
        site_id = cost.session.station.site_id
        if self.may("billing.manage", site_id) and cost.total > context["refunded"]:
            context["refund_form"] = RefundForm()
        return context


class SessionCostRefundView(SessionCostDetailView):
    """POST: a refund from the receipt page (``services.session_refund``, as the API); a
    mistake comes back on the page, next to its field."""

    permission = "billing.manage"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        cost = self.object = self.get_object()
        form = RefundForm(request.POST)
        if form.is_valid():
            try:
                refund = services.session_refund(
                    cost=cost,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.actor.label,
                )
            except BillingError as error:
                form.add_error("amount", str(error))
            else:
                _audit(
                    request,
                    "session_cost.refund",
                    cost,
                    changes={"transaction": refund.idempotency_key},
                )
                messages.success(request, _("Refund recorded."))
                return redirect("billing:receipt_detail", pk=cost.pk)
        context = self.get_context_data(object=cost)
        context["refund_form"] = form
        return self.render_to_response(context, status=400)


class AssignmentListView(ScopedListView):
    """What applies where: every assignment the caller may see, and per station the public
    price in force now (the one a driver in no group pays)."""

    model = TariffAssignment
    permission = "billing.view"
    filterset_class = TariffAssignmentFilterSet
    filter_fields = ("site_id", "tariff_id")
    filter_labels = {"site_id": gettext_lazy("Site"), "tariff_id": gettext_lazy("Tariff")}
    template_name = "billing/assignment_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("tariff", "site", "station", "driver_group")
            .order_by("site__name", "station__identity", "driver_group__name", "priority", "id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        prices = selectors.public_prices(actor=self.request.actor, at=timezone.now())
        context["prices"] = [
            (price, describe_tariff(price.version.parsed) if price.version else "")
            for price in prices
        ]
        context["may_manage"] = not self.request.actor.scope_for("billing.manage").empty
        return context


class AssignmentCreateView(PermissionRequiredMixin, FormView):
    """Assign a tariff to all sites, a site or a station, for everyone or a driver group
    (``services.tariff_assign``, as the API)."""

    permission = "billing.manage"
    form_class = TariffAssignmentForm
    template_name = "billing/assignment_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.actor}

    def get_initial(self):
        return {key: self.request.GET.get(key) for key in ("tariff", "site", "station")}

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        try:
            assignment = services.tariff_assign(**form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
            return self.form_invalid(form)
        _audit(self.request, "tariff_assignment.create", assignment)
        messages.success(self.request, _("The tariff now applies there."))
        return redirect("billing:assignment_list")


class AssignmentDeleteView(PermissionRequiredMixin, View):
    """POST: the tariff no longer applies there (``services.tariff_unassign``)."""

    permission = "billing.manage"

    def post(self, request, pk: int):
        assignment = get_object_or_404(
            TariffAssignment.objects.restrict(request.actor, self.permission), pk=pk
        )
        site = assignment.site
        services.tariff_unassign(assignment=assignment)
        _audit(
            request,
            "tariff_assignment.delete",
            None,
            object_type=TariffAssignment._meta.label_lower,
            object_id=pk,
            object_repr=str(assignment),
            site=site,
        )
        messages.success(request, _("The tariff no longer applies there."))
        return redirect("billing:assignment_list")


class TaxListView(ScopedListView):
    """The taxes charged at each of the caller's sites."""

    model = TaxRate
    permission = "billing.view"
    template_name = "billing/tax_list.html"
    paginate_by = 200

    def get_queryset(self):
        return super().get_queryset().select_related("site").order_by("site__name", "position")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = not self.request.actor.scope_for("billing.manage").empty
        context["profile"] = selectors.billing_profile()
        return context


class TaxFormMixin(PermissionRequiredMixin):
    permission = "billing.manage"
    template_name = "billing/tax_form.html"

    def page(self, form, tax=None, status=200):
        return render(self.request, self.template_name, {"form": form, "tax": tax}, status=status)

    def saved(self, form, save):
        try:
            return save(**form.service_fields())
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                target = {"rate": "percent"}.get(field, field)
                form.add_error(target if target in form.fields else None, problems)
            return None

    def managed(self, pk: int) -> TaxRate:
        return get_object_or_404(
            TaxRate.objects.restrict(self.request.actor, self.permission), pk=pk
        )


class TaxCreateView(TaxFormMixin, View):
    def get(self, request):
        initial = {"site": request.GET.get("site")}
        return self.page(TaxRateForm(actor=request.actor, initial=initial))

    def post(self, request):
        form = TaxRateForm(request.POST, actor=request.actor)
        if form.is_valid():
            tax = self.saved(form, services.tax_rate_set)
            if tax is not None:
                _audit(request, "tax_rate.create", tax)
                messages.success(request, _("The tax was saved."))
                return redirect("billing:tax_list")
        return self.page(form, status=400)


class TaxEditView(TaxFormMixin, View):
    def get(self, request, pk: int):
        tax = self.managed(pk)
        return self.page(TaxRateForm(instance=tax, actor=request.actor), tax)

    def post(self, request, pk: int):
        tax = self.managed(pk)
        original = TaxRate.objects.get(pk=pk)
        form = TaxRateForm(request.POST, instance=tax, actor=request.actor)
        if form.is_valid():
            fields = form.service_fields()
            fields.pop("site")
            saved = self.saved(form, lambda **_: services.tax_rate_update(tax=original, **fields))
            if saved is not None:
                _audit(request, "tax_rate.update", saved)
                messages.success(request, _("The tax was saved."))
                return redirect("billing:tax_list")
        return self.page(form, original, status=400)


class TaxDeleteView(TaxFormMixin, View):
    def post(self, request, pk: int):
        tax = self.managed(pk)
        label, site = str(tax), tax.site
        services.tax_rate_delete(tax=tax)
        _audit(
            request,
            "tax_rate.delete",
            None,
            object_type=TaxRate._meta.label_lower,
            object_id=pk,
            object_repr=label,
            site=site,
        )
        messages.success(request, _("The tax is no longer charged there."))
        return redirect("billing:tax_list")


class PayoutListView(ScopedListView):
    model = Payout
    permission = "billing.manage"
    filterset_class = PayoutFilterSet
    filter_fields = ("status",)
    template_name = "billing/payout_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.actor.scope_for(self.permission).all_sites:
            context["run_form"] = PayoutRunForm(months=selectors.payout_closed_months())
        return context


class PayoutManageMixin(PermissionRequiredMixin):
    """Payouts are the whole tenant's money: who manages billing on every site only."""

    permission = "billing.manage"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def period_form(self, data):
        return PayoutRunForm(data, months=selectors.payout_closed_months())


class PayoutPreviewView(PayoutManageMixin, TemplateView):
    """GET ``?period=YYYY-MM``: the statement the payout of that month would carry if built
    now; nothing is written."""

    template_name = "billing/payout_preview.html"

    def get(self, request, *args, **kwargs):
        form = self.period_form(request.GET)
        if not form.is_valid():
            return self.render_to_response({"run_form": form}, status=400)
        preview = selectors.payout_preview(period_start=form.period_start())
        return self.render_to_response({"run_form": form, "preview": preview})


class PayoutRunView(PayoutManageMixin, View):
    """POST: build the payout of a month that has ended now (``services.payout_run``, as the
    API and the monthly task; running it twice builds one payout)."""

    def post(self, request):
        form = self.period_form(request.POST)
        if form.is_valid():
            try:
                payout = services.payout_run(period_start=form.period_start())
            except ValueError as error:
                form.add_error("period", str(error))
            else:
                _audit(request, "payout.run", payout)
                messages.success(request, _("The payout was built."))
                return redirect("billing:payout_detail", pk=payout.pk)
        response = render(request, "billing/payout_preview.html", {"run_form": form}, status=400)
        return response


class PayoutTransitionView(PayoutManageMixin, View):
    """POST: record that the bank file went to the bank, or that the bank paid."""

    service = None
    verb = ""
    done = ""

    def post(self, request, pk: int):
        payout = get_object_or_404(Payout.objects.restrict(request.actor, self.permission), pk=pk)
        before = payout.status
        payout = type(self).service(payout=payout)
        if payout.status == before:
            messages.error(
                request,
                _("Nothing changed: the payout is %(status)s.")
                % {"status": payout.get_status_display()},
            )
        else:
            _audit(request, f"payout.{self.verb}", payout)
            messages.success(request, self.done)
        return redirect("billing:payout_detail", pk=payout.pk)


class PayoutMarkSentView(PayoutTransitionView):
    service = staticmethod(services.payout_mark_sent)
    verb = "sent"
    done = gettext_lazy("Recorded: the bank file was sent to the bank.")


class PayoutMarkPaidView(PayoutTransitionView):
    service = staticmethod(services.payout_mark_paid)
    verb = "paid"
    done = gettext_lazy("Recorded: the bank paid.")


class PayoutDetailView(ScopedDetailView):
    model = Payout
    permission = "billing.manage"
    template_name = "billing/payout_detail.html"

    def get_context_data(self, **kwargs):
        from .choices import PayoutStatus

        context = super().get_context_data(**kwargs)
        context["lines"] = self.object.lines.order_by("position")
        if self.request.actor.scope_for(self.permission).all_sites:
            status = self.object.status
            context["may_mark_sent"] = status == PayoutStatus.READY
            context["may_mark_paid"] = status in (PayoutStatus.READY, PayoutStatus.SENT)
        return context


class PayoutBankFileView(PayoutDetailView):
    def render_to_response(self, context, **kwargs):
        payout = self.object
        if not payout.bank_file:
            raise Http404
        _audit(self.request, "payout.download_bank_file", payout)
        content_type, extension = payout.bank_file_media
        response = HttpResponse(payout.bank_file, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{payout.message_id}.{extension}"'
        return response


class PayoutStatementView(PayoutDetailView):
    def render_to_response(self, context, **kwargs):
        payout = self.object
        buffer = io.StringIO()
        csv.writer(buffer).writerows(selectors.payout_statement_rows(payout))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{payout.message_id}.csv"'
        return response


class BillingProfileEditView(PayoutManageMixin, View):
    """The tenant's billing settings: taxes in prices, the payout bank account and the bank
    file's format, the OCPI identity (``billing_profile_update``, as the API)."""

    template_name = "billing/profile_form.html"

    def page(self, form, status=200):
        return render(self.request, self.template_name, {"form": form}, status=status)

    def get(self, request):
        return self.page(BillingProfileForm(instance=selectors.billing_profile()))

    def post(self, request):
        form = BillingProfileForm(request.POST, instance=selectors.billing_profile())
        if form.is_valid():
            try:
                profile = services.billing_profile_update(**form.service_fields())
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                _audit(request, "billing_profile.update", profile)
                messages.success(request, _("The billing settings were saved."))
                return redirect("billing:profile_edit")
        return self.page(form, status=400)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's events, for every tenant: one endpoint in the public URLs.

    The signature is checked first; the tenant comes from the ``schema`` metadata we put on
    every PaymentIntent and Refund.  Unknown or foreign events are acknowledged and ignored
    (Stripe retries anything that is not a 2xx).
    """
    try:
        event = verify_webhook(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            stripe_settings().webhook_secret,
        )
    except WebhookError as error:
        logger.warning("Refused a Stripe webhook: %s", error)
        return HttpResponseBadRequest(str(error))
    obj = (event.get("data") or {}).get("object") or {}
    schema = (obj.get("metadata") or {}).get("schema", "")
    tenant = (
        Tenant.objects.filter(schema_name=schema, is_template=False).first() if schema else None
    )
    if tenant is None:
        return HttpResponse("ignored")
    with tenant_context(tenant):
        services.stripe_event_handle(event)
    return HttpResponse("ok")
