from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import (
    CreateMixin,
    ReadOnlyScopedViewSet,
    ScopedModelViewSet,
    UpdateMixin,
)
from apps.audit.choices import AuditSource
from apps.audit.services import client_ip
from apps.ocpp import commands

from .. import selectors, services
from ..choices import AuthorKind, CaseStatus, RequesterKind, Source
from ..filtersets import CannedAnswerFilterSet, CaseFilterSet
from ..models import CannedAnswer, Case, SupportSettings
from .serializers import (
    CannedAnswerSerializer,
    CaseCreateSerializer,
    CaseMessageSerializer,
    CaseSerializer,
    CaseUpdateSerializer,
    FollowupSerializer,
    ReplySerializer,
    StationCommandResultSerializer,
    StationCommandSerializer,
    SupportSettingsSerializer,
)


def _mapped(service, **kwargs):
    try:
        return service(**kwargs)
    except (ValidationError, services.SupportError) as error:
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            raise serializers.ValidationError(error.message_dict) from error
        messages = error.messages if isinstance(error, ValidationError) else [str(error)]
        raise serializers.ValidationError(messages) from error


class CaseViewSet(CreateMixin, UpdateMixin, ReadOnlyScopedViewSet):
    """Support cases: drivers' (opened on the public form or by e-mail) and station managers'.
    POST opens a case as the caller (a station manager); PATCH changes status, priority,
    assignee or queue; ``/reply/`` answers (``then`` resolves), ``/followup/`` adds to one's
    own case, ``/messages/`` is the conversation, ``/station-command/`` resets or unlocks the
    attached station with the caller's own right to command it."""

    queryset = Case.objects.exclude(status=CaseStatus.UNVERIFIED).select_related(
        "site", "station", "assignee"
    )
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    view_permission = "support.view"
    manage_permission = "support.answer"
    action_permissions = {
        "create": "support.open",
        "messages": "support.view",
        "reply": "support.answer",
        "followup": "support.open",
        "station_command": "stations.command",
    }
    audit_name = "support_case"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return CaseCreateSerializer
        if action in ("update", "partial_update"):
            return CaseUpdateSerializer
        return None

    def create_service(self, data):
        user = self.request.user
        return _mapped(
            services.case_open,
            requester_kind=RequesterKind.MANAGER,
            requester_email=user.email,
            requester_name=user.full_name,
            requester_user=user,
            language=user.language or "en",
            source=Source.API,
            **data,
        )

    def update_service(self, instance, data):
        return _mapped(services.case_update, case=instance, by=self.request.user, **data)

    @extend_schema(request=None, responses=CaseMessageSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # the whole conversation
    def messages(self, request, pk=None):
        case = self.get_object()
        include_internal = self.actor.scope_for("support.answer").covers_site(case.site_id)
        rows = selectors.case_conversation(case=case, include_internal=include_internal)
        return Response(CaseMessageSerializer(rows, many=True).data)

    @extend_schema(request=ReplySerializer, responses=CaseMessageSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        case = self.get_object()
        data = self._input(ReplySerializer)
        message = _mapped(
            services.case_reply,
            case=case,
            body=data["body"],
            internal=data["internal"],
            author_user=request.user,
            author_kind=AuthorKind.STAFF,
            source=Source.API,
        )
        if data.get("then"):
            _mapped(services.case_update, case=case, by=request.user, status=data["then"])
        self.audit("reply", case)
        return Response(CaseMessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FollowupSerializer, responses=CaseMessageSerializer)
    @action(detail=True, methods=["post"])
    def followup(self, request, pk=None):
        case = self.get_object()
        if case.requester_user_id != request.user.pk:
            raise serializers.ValidationError(["Only the person who opened a case adds to it."])
        data = self._input(FollowupSerializer)
        message = _mapped(
            services.case_reply,
            case=case,
            body=data["body"],
            author_user=request.user,
            author_kind=AuthorKind.REQUESTER,
            source=Source.API,
        )
        self.audit("followup", case)
        return Response(CaseMessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StationCommandSerializer, responses=StationCommandResultSerializer)
    @action(detail=True, methods=["post"], url_path="station-command")
    def station_command(self, request, pk=None):
        # The case as the caller sees it with support; the command service then checks their
        # right to command the station itself.
        case = self.get_object()
        if not self.actor.scope_for("support.view").covers_site(case.site_id):
            raise serializers.ValidationError(["This case is not yours to act on."])
        data = self._input(StationCommandSerializer)
        requester = commands.Requester(
            actor=self.actor, source=AuditSource.API, ip=client_ip(request)
        )
        reply = _mapped(
            services.case_station_command, case=case, action=data["action"], requester=requester
        )
        reply.raise_error()
        return Response(
            {
                "status": reply.status,
                "ok": reply.ok,
                "message": reply.message,
                "response": reply.payload,
            }
        )

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class CannedAnswerViewSet(ScopedModelViewSet):
    """Ready answers staff insert into a reply (tenant-wide)."""

    queryset = CannedAnswer.objects.all()
    serializer_class = CannedAnswerSerializer
    filterset_class = CannedAnswerFilterSet
    view_permission = "support.answer"
    manage_permission = "support.manage"
    audit_name = "support_canned_answer"

    def create_service(self, data):
        return _mapped(services.canned_answer_create, **data)

    def update_service(self, instance, data):
        values = {
            "title": data.get("title", instance.title),
            "body": data.get("body", instance.body),
            "language": data.get("language", instance.language),
        }
        return _mapped(services.canned_answer_update, answer=instance, **values)

    def delete_service(self, instance):
        services.canned_answer_delete(answer=instance)


class SupportSettingsViewSet(CreateMixin, UpdateMixin, ReadOnlyScopedViewSet):
    """The support team's business hours (station managers' SLA clocks), SLA targets and team
    e-mail.  One row: POST saves it (created the first time), PATCH changes it; the list is
    empty while the defaults (05:00-18:00 America/Los_Angeles, Monday to Friday) apply."""

    queryset = SupportSettings.objects.all()
    serializer_class = SupportSettingsSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    view_permission = "support.manage"
    manage_permission = "support.manage"
    audit_name = "support_settings"

    def create_service(self, data):
        return _mapped(services.settings_update, **data)

    def update_service(self, instance, data):
        return _mapped(services.settings_update, **data)
