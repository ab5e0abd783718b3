"""Billing API: tariffs (with versions, assignments and their OCPI form), session costs with
receipts and refunds, payouts with statements and bank files, and the pricing wizard."""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.api.viewsets import (
    ApiView,
    CreateMixin,
    DestroyMixin,
    ReadOnlyScopedViewSet,
    ScopedModelViewSet,
    ScopedViewSet,
    UpdateMixin,
)
from apps.charging.models import ChargingSession
from apps.stations.models import Station

from .. import selectors, services
from ..filtersets import (
    PayoutFilterSet,
    SessionCostFilterSet,
    TariffAssignmentFilterSet,
    TariffFilterSet,
)
from ..models import BillingProfile, Payout, SessionCost, Tariff, TariffAssignment, TaxRate
from ..ocpi import tariff_to_ocpi
from ..pricing_text import describe_tariff
from ..services.sessions import BillingError
from .serializers import (
    BillingProfileSerializer,
    PayoutPeriodSerializer,
    PayoutPreviewSerializer,
    PayoutSerializer,
    PriceQuoteQuerySerializer,
    PriceQuoteSerializer,
    RefundInputSerializer,
    SessionCostSerializer,
    SessionReceiptSerializer,
    TariffAssignmentInputSerializer,
    TariffAssignmentSerializer,
    TariffInputSerializer,
    TariffSerializer,
    TariffVersionInputSerializer,
    TariffVersionSerializer,
    TaxRateInputSerializer,
    TaxRateSerializer,
    WizardInputSerializer,
    WizardProposalSerializer,
)


class TariffViewSet(CreateMixin, ReadOnlyScopedViewSet):
    """Tariffs and their versions.  Prices never change in place: add a version."""

    queryset = Tariff.objects.prefetch_related("versions")
    serializer_class = TariffSerializer
    input_serializer_class = TariffInputSerializer
    filterset_class = TariffFilterSet
    view_permission = "billing.view"
    manage_permission = "billing.manage"
    action_permissions = {"versions": "billing.manage", "ocpi": "billing.view"}
    audit_name = "tariff"

    def create_service(self, data):
        return services.tariff_create(created_by=self.request.user, **data)

    @extend_schema(request=TariffVersionInputSerializer, responses=TariffVersionSerializer)
    @action(detail=True, methods=["post"])
    def versions(self, request, pk=None):
        """New prices from ``effective_from`` (now by default; never in the past)."""
        tariff = self.get_object()
        serializer = TariffVersionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.tariff_version_add(
            tariff=tariff, created_by=request.user, **serializer.validated_data
        )
        self.audit("version_add", tariff, changes={"number": version.number})
        return Response(TariffVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def ocpi(self, request, pk=None):
        """The version in force now, as an OCPI 2.2.1 Tariff object."""
        tariff = self.get_object()
        version = selectors.version_in_force(tariff.pk, timezone.now())
        if version is None:
            raise NotFound(_("No version in force."))
        profile = selectors.billing_profile()
        data = tariff_to_ocpi(
            version.parsed,
            tariff_id=f"{tariff.pk}-{version.number}",
            country_code=profile.ocpi_country_code,
            party_id=profile.ocpi_party_id or connection.tenant.slug[:3].upper(),
            last_updated=version.created_at,
            start_date_time=version.effective_from,
        )
        return Response(data)


class TariffAssignmentViewSet(CreateMixin, DestroyMixin, ReadOnlyScopedViewSet):
    """Where and for whom a tariff applies (tenant-wide, a site, a station; a driver group)."""

    queryset = TariffAssignment.objects.select_related("tariff", "site", "station", "driver_group")
    serializer_class = TariffAssignmentSerializer
    input_serializer_class = TariffAssignmentInputSerializer
    filterset_class = TariffAssignmentFilterSet
    view_permission = "billing.view"
    manage_permission = "billing.manage"
    audit_name = "tariff_assignment"

    def create_service(self, data):
        return services.tariff_assign(**data)

    def delete_service(self, instance):
        services.tariff_unassign(assignment=instance)


class SessionCostViewSet(ReadOnlyScopedViewSet):
    """Priced sessions: the receipt with its lines.  Refunds post reversing entries."""

    queryset = SessionCost.objects.select_related("session__station").prefetch_related("lines")
    serializer_class = SessionCostSerializer
    filterset_class = SessionCostFilterSet
    view_permission = "billing.view"
    action_permissions = {"refund": "billing.manage"}
    audit_name = "session_cost"

    @extend_schema(request=RefundInputSerializer, responses=SessionCostSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Give money back (all that is left, or ``amount``): reversing ledger entries, and the
        card refunded through its provider."""
        cost = self.get_object()
        serializer = RefundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            refund = services.session_refund(
                cost=cost,
                amount=data["amount"],
                reason=data["reason"],
                actor=self.actor.label,
                request_key=data["request_key"] or None,
            )
        except BillingError as error:
            raise ValidationError({"amount": [str(error)]}) from error
        self.audit("refund", cost, changes={"transaction": refund.idempotency_key})
        return Response(SessionCostSerializer(self.refetch(cost)).data)


class PayoutViewSet(ReadOnlyScopedViewSet):
    """Monthly payouts to the owner's bank: statement lines, the pain.001 file, and the
    bank's confirmation."""

    queryset = Payout.objects.prefetch_related("lines")
    serializer_class = PayoutSerializer
    filterset_class = PayoutFilterSet
    view_permission = "billing.manage"
    action_permissions = {
        "bank_file": "billing.manage",
        "statement": "billing.manage",
        "mark_sent": "billing.manage",
        "mark_paid": "billing.manage",
        "preview": "billing.manage",
        "run": "billing.manage",
    }

    @extend_schema(request=PayoutPeriodSerializer, responses=PayoutPreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """What the payout of a month that has ended would pay if built now (nothing is
        written); a payout already built answers with its own lines."""
        serializer = PayoutPeriodSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preview = selectors.payout_preview(**serializer.validated_data)
        return Response(PayoutPreviewSerializer(preview).data)

    @extend_schema(request=PayoutPeriodSerializer, responses=PayoutSerializer)
    @action(detail=False, methods=["post"])
    def run(self, request):
        """Build the payout of a month that has ended now, rather than on the 1st (the
        monthly task's service; running it twice builds one payout)."""
        serializer = PayoutPeriodSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            payout = services.payout_run(**serializer.validated_data)
        except ValueError as error:
            raise ValidationError({"period_start": [str(error)]}) from error
        self.audit("run", payout)
        return Response(PayoutSerializer(self.refetch(payout)).data)

    @extend_schema(responses={(200, "application/xml"): bytes, (200, "text/plain"): bytes})
    @action(detail=True, methods=["get"], url_path="bank-file")
    def bank_file(self, request, pk=None):
        """The bank file in the tenant's format: an ISO 20022 pain.001 credit transfer
        (validated against the XSD, ``application/xml``) or a CPA Standard 005 file
        (``text/plain``, 1464-byte records)."""
        payout = self.get_object()
        if not payout.bank_file:
            raise NotFound(_("No bank file yet."))
        content_type, extension = payout.bank_file_media
        response = HttpResponse(payout.bank_file, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{payout.message_id}.{extension}"'
        return response

    @extend_schema(responses={(200, "text/csv"): bytes})
    @action(detail=True, methods=["get"])
    def statement(self, request, pk=None):
        """The payout statement as CSV: its lines add up to the amount paid."""
        payout = self.get_object()
        buffer = io.StringIO()
        csv.writer(buffer).writerows(selectors.payout_statement_rows(payout))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{payout.message_id}.csv"'
        return response

    @extend_schema(request=None, responses=PayoutSerializer)
    @action(detail=True, methods=["post"], url_path="mark-sent")
    def mark_sent(self, request, pk=None):
        """Record that the bank file was sent to the bank."""
        payout = services.payout_mark_sent(payout=self.get_object())
        self.audit("sent", payout)
        return Response(PayoutSerializer(payout).data)

    @extend_schema(request=None, responses=PayoutSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        """Record the bank's confirmation: the money has left the platform's account."""
        payout = services.payout_mark_paid(payout=self.get_object())
        self.audit("paid", payout)
        return Response(PayoutSerializer(payout).data)


class PricingWizardView(ApiView):
    """Propose a tariff from the business sector, the utility's prices and a goal."""

    permission = "billing.manage"

    @extend_schema(request=WizardInputSerializer, responses=WizardProposalSerializer)
    def post(self, request):
        serializer = WizardInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal = selectors.wizard_proposal(**serializer.validated_data)
        # Through the documented serializer: the estimates are exact decimal strings, not floats.
        answer = WizardProposalSerializer(
            {
                "definition": proposal.definition,
                "summary": describe_tariff(proposal.tariff),
                "reasoning": proposal.reasoning,
                "estimates": proposal.estimates,
            }
        )
        return Response(answer.data)


class StationPriceViewSet(ScopedViewSet):
    """The price a driver would pay at a station, before charging."""

    queryset = Station.objects.select_related("site")
    serializer_class = PriceQuoteSerializer
    view_permission = "billing.view"
    action_permissions = {"price_quote": "billing.view"}

    @extend_schema(parameters=[PriceQuoteQuerySerializer], responses=PriceQuoteSerializer)
    @action(detail=True, methods=["get"], url_path="price-quote")
    def price_quote(self, request, pk=None):
        """The tariff that would apply if charging started now (with ``id_token``, the
        driver's group tariff when it has one), each component in words, and the site's
        currency and taxes.  The same choice prices the session afterwards."""
        station = self.get_object()
        query = PriceQuoteQuerySerializer(data=request.query_params, context={"station": station})
        query.is_valid(raise_exception=True)
        quote = selectors.price_quote(station=station, token_uid=query.validated_data["id_token"])
        return Response(PriceQuoteSerializer(quote).data)


class SessionReceiptViewSet(ScopedViewSet):
    """The itemised receipt of a charging session, by the session's id."""

    queryset = ChargingSession.objects.select_related("station__site")
    serializer_class = SessionReceiptSerializer
    view_permission = "billing.view"
    action_permissions = {"receipt": "billing.view"}

    @extend_schema(responses=SessionReceiptSerializer)
    @action(detail=True, methods=["get"])
    def receipt(self, request, pk=None):
        """Lines, taxes and total in the site's currency, the site, the times (UTC and on
        the site's clock) and the energy in Wh.  404 while the session is not priced."""
        cost = selectors.session_receipt(self.get_object())
        if cost is None:
            raise NotFound(_("This session has not been priced yet."))
        return Response(SessionReceiptSerializer(cost).data)


class TaxRateViewSet(ScopedModelViewSet):
    """The taxes charged at each site (several may apply; a compound one is computed on the
    price plus the taxes before it)."""

    queryset = TaxRate.objects.select_related("site")
    serializer_class = TaxRateSerializer
    input_serializer_class = TaxRateInputSerializer
    filterset_fields = {"site": ["exact"], "code": ["exact"]}
    view_permission = "billing.view"
    manage_permission = "billing.manage"
    audit_name = "tax_rate"

    def create_service(self, data):
        return services.tax_rate_set(**data)

    def update_service(self, instance, data):
        return services.tax_rate_update(tax=instance, **data)

    def delete_service(self, instance):
        services.tax_rate_delete(tax=instance)


class BillingProfileViewSet(UpdateMixin, ReadOnlyScopedViewSet):
    """The tenant's billing settings (one row): taxes in prices or on top, the payout bank
    account and bank-file format, the OCPI identity.  Listed as one row; PATCH to change."""

    http_method_names = ["get", "patch", "head", "options"]
    queryset = BillingProfile.objects.all()
    serializer_class = BillingProfileSerializer
    input_serializer_class = BillingProfileSerializer
    view_permission = "billing.manage"
    manage_permission = "billing.manage"
    audit_name = "billing_profile"

    def update_service(self, instance, data):
        return services.billing_profile_update(**data)
