from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.api.viewsets import ScopedModelViewSet, ScopedViewSet
from apps.stations.models import Station

from .. import imports, local_lists, selectors, services
from ..filtersets import AccessGroupFilterSet, AccessRuleFilterSet, HolidayFilterSet
from ..models import AccessGroup, AccessRule, Holiday, StationLocalList
from .serializers import (
    AccessGroupInputSerializer,
    AccessGroupSerializer,
    AccessRuleCreateSerializer,
    AccessRuleSerializer,
    AccessRuleUpdateSerializer,
    ExplainQuerySerializer,
    ExplanationSerializer,
    HolidayCreateSerializer,
    HolidaySerializer,
    HolidayUpdateSerializer,
    ImportReportSerializer,
    ImportSerializer,
    LocalListSerializer,
    MembersChangeSerializer,
    MemberSerializer,
)


def _mapped(service, **kwargs):
    """The services' ValidationErrors as 400s; the lock-out one on ``confirm_lockout``."""
    try:
        return service(**kwargs)
    except ValidationError as error:
        if getattr(error, "code", None) == "lockout":
            raise serializers.ValidationError({"confirm_lockout": error.messages}) from error
        if hasattr(error, "error_dict"):
            raise serializers.ValidationError(error.message_dict) from error
        raise serializers.ValidationError(error.messages) from error


class AccessGroupViewSet(ScopedModelViewSet):
    """Driver groups that access rules name.  Tenant-wide (a group is not a site's).
    ``members/`` lists the member tokens (GET) or adds and removes them by uid (POST)."""

    queryset = AccessGroup.objects.annotate(member_count=Count("tokens")).order_by("name")
    serializer_class = AccessGroupSerializer
    input_serializer_class = AccessGroupInputSerializer
    filterset_class = AccessGroupFilterSet
    view_permission = "access.view"
    manage_permission = "access.manage"
    action_permissions = {
        "members": "access.view",
        "change_members": "access.manage",
        "tokens_import": "access.manage",
    }
    audit_name = "access_group"

    def create_service(self, data):
        return _mapped(services.group_create, **data)

    def update_service(self, instance, data):
        return _mapped(services.group_update, group=instance, **data)

    def delete_service(self, instance):
        services.group_delete(group=instance)

    @extend_schema(request=None, responses=MemberSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None)
    def members(self, request, pk=None):
        group = self.get_object()
        page = self.paginate_queryset(group.tokens.order_by("uid"))
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(request=MembersChangeSerializer, responses=AccessGroupSerializer)
    @members.mapping.post
    def change_members(self, request, pk=None):
        """Add and remove member tokens by uid; an unknown uid changes nothing (400)."""
        group = self.get_object()
        data = MembersChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.group_change_members(group=group, **data.validated_data)
        except services.UnknownTokens as error:
            raise serializers.ValidationError({"tokens": error.messages}) from error
        self.audit("members", group, changes=data.validated_data)
        return Response(AccessGroupSerializer(self.refetch(group)).data)

    @extend_schema(request=ImportSerializer, responses=ImportReportSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
    )
    def tokens_import(self, request):
        """Cards and their groups from a CSV or XLSX file (columns ``token``, ``groups``
        separated by ``;``, ``label``, ``expires``, ``parent``).  Every bad row is reported
        with its line; with bad rows nothing is imported unless ``keep_good``; ``dry_run``
        only checks.  Creating cards also needs ``tokens.manage`` on every site."""
        if not self.actor.scope_for("tokens.manage").all_sites:
            raise PermissionDenied(_("Importing cards needs tokens.manage on every site."))
        data = ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            report = imports.tokens_import(
                content=upload.read(),
                filename=upload.name,
                keep_good=data.validated_data["keep_good"],
                dry_run=data.validated_data["dry_run"],
            )
        except imports.ImportFileError as error:
            raise serializers.ValidationError({"file": [str(error)]}) from error
        if report.imported:
            self.audit(
                "import",
                None,
                changes={"file": upload.name, "rows": report.rows, "good": report.good},
            )
        return Response(ImportReportSerializer(report).data)


class AccessRuleViewSet(ScopedModelViewSet):
    """Who may charge at a site, a station or a port, and when (weekly windows in the site's
    timezone, dates, holidays).  ``site`` is the site of the rule's place; ``level`` says
    where it is attached.  A change after which nobody may charge at the place is refused
    (400 on ``confirm_lockout``) unless ``confirm_lockout`` is true.  Precedence:
    docs/access.md."""

    queryset = AccessRule.objects.prefetch_related("groups", "windows")
    serializer_class = AccessRuleSerializer
    filterset_class = AccessRuleFilterSet
    view_permission = "access.view"
    manage_permission = "access.manage"
    audit_name = "access_rule"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return AccessRuleCreateSerializer
        if action in ("update", "partial_update"):
            return AccessRuleUpdateSerializer
        return None

    def create_service(self, data):
        return _mapped(services.rule_create, **data)

    def update_service(self, instance, data):
        # PATCH sends only what changes: the rest (groups and windows included) stays
        current = {
            "name": instance.name,
            "kind": instance.kind,
            "groups": list(instance.groups.all()),
            "windows": [(w.weekday, w.start, w.end) for w in instance.windows.all()],
            "date_from": instance.date_from,
            "date_to": instance.date_to,
            "holidays": instance.holidays,
        }
        return _mapped(services.rule_update, rule=instance, **{**current, **data})

    def delete_service(self, instance):
        services.rule_delete(rule=instance)


class HolidayViewSet(ScopedModelViewSet):
    """Local dates on which rules may be skipped or apply only; of one site or (no site)
    of every site."""

    queryset = Holiday.objects.all()
    serializer_class = HolidaySerializer
    filterset_class = HolidayFilterSet
    view_permission = "access.view"
    manage_permission = "access.manage"
    audit_name = "access_holiday"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return HolidayCreateSerializer
        if action in ("update", "partial_update"):
            return HolidayUpdateSerializer
        return None

    def create_service(self, data):
        return _mapped(services.holiday_create, **data)

    def update_service(self, instance, data):
        current = {"date": instance.date, "name": instance.name}  # PATCH: the rest stays
        return _mapped(services.holiday_update, holiday=instance, **{**current, **data})

    def delete_service(self, instance):
        services.holiday_delete(holiday=instance)


class AccessExplainViewSet(ScopedViewSet):
    """Why a card is (or would be) refused at a station: the rules that decide, each with
    whether it admits the token and is in force, the token table's status and what the
    station is told."""

    queryset = Station.objects.select_related("site")
    serializer_class = ExplanationSerializer
    view_permission = "access.view"
    action_permissions = {
        "explain": "access.view",
        "local_list": "access.view",
        "local_list_sync": "access.manage",
    }

    @extend_schema(parameters=[ExplainQuerySerializer], responses=ExplanationSerializer)
    @action(detail=True, methods=["get"])
    def explain(self, request, pk=None):
        station = self.get_object()
        query = ExplainQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        explanation = selectors.explain(
            uid=query.validated_data["token"],
            station=station,
            evse_id=query.validated_data["port"],
            moment=query.validated_data["at"],
        )
        return Response(ExplanationSerializer(explanation).data)

    @extend_schema(responses=LocalListSerializer)
    @action(detail=True, methods=["get"], url_path="local-list")
    def local_list(self, request, pk=None):
        """The station's local authorisation list as it last accepted it: version, size,
        state (in_step, behind, too_large, unsupported, failed) and the station's limits."""
        station = self.get_object()
        held = StationLocalList.objects.filter(station=station).first()
        return Response(LocalListSerializer(held or StationLocalList(station=station)).data)

    @extend_schema(request=None, responses=LocalListSerializer)
    @local_list.mapping.post
    def local_list_sync(self, request, pk=None):
        """Bring the station's list in step now (it talks to the station: an offline station
        is answered with state ``behind``)."""
        station = self.get_object()
        local_lists.local_list_sync(station_id=station.pk)
        self.audit("access.local_list_sync", station)
        return Response(LocalListSerializer(StationLocalList.objects.get(station=station)).data)
