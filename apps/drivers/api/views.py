"""Two APIs.

``/api/v1/drivers/...`` (staff, in the API's isolation table): finder listings and the
moderation of tips, scoped by site like every staff endpoint.

``/drivers/api/v1/...`` (drivers): a driver's own data only (``auth.DriverSessionAuthentication``;
every query starts from ``request.user``, the driver), and the public finder's stations.  Not
in the staff OpenAPI document (``schema = None``); its own isolation table is in
tests/api/test_isolation_table.py (DRIVER_TABLE).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet
from apps.stations.models import Station

from .. import selectors, services
from ..auth import DriverSessionAuthentication, IsDriver
from ..models import DriverCard, FinderListing, Tip
from .serializers import (
    CardCodeSerializer,
    CardLinkSerializer,
    DriverCardSerializer,
    DriverMeSerializer,
    DriverTipCreateSerializer,
    FinderListingSerializer,
    FinderListingUpdateSerializer,
    TipModerateSerializer,
    TipSerializer,
    TipVoteSerializer,
)


def _mapped(service, **kwargs):
    try:
        return service(**kwargs)
    except (ValidationError, services.DriverError) as error:
        messages = error.messages if isinstance(error, ValidationError) else [str(error)]
        raise serializers.ValidationError(messages) from error


# --- Staff ------------------------------------------------------------------------------------
class FinderListingViewSet(ScopedModelViewSet):
    """A site in the public finder: published or not, access (public / members), hours."""

    queryset = FinderListing.objects.select_related("site")
    serializer_class = FinderListingSerializer
    view_permission = "drivers.view"
    manage_permission = "drivers.manage"
    audit_name = "finder_listing"

    @classmethod
    def input_serializer_for(cls, action):
        if action in ("update", "partial_update"):
            return FinderListingUpdateSerializer
        if action == "create":
            return FinderListingSerializer
        return None

    def create_service(self, data):
        site = data.pop("site")
        if not self.actor.scope_for("drivers.manage").covers_site(site.pk):
            raise serializers.ValidationError({"site": ["Not one of your sites."]})
        if FinderListing.objects.filter(site=site).exists():
            raise serializers.ValidationError({"site": ["This site is listed already."]})
        return _mapped(services.listing_save, site=site, **data)

    def update_service(self, instance, data):
        return _mapped(services.listing_save, site=instance.site, **data)

    def delete_service(self, instance):
        services.listing_delete(listing=instance)


class TipViewSet(ReadOnlyScopedViewSet):
    """Drivers' tips at the caller's sites, for moderation."""

    queryset = Tip.objects.select_related("station").prefetch_related("photos")
    serializer_class = TipSerializer
    view_permission = "drivers.view"
    action_permissions = {"moderate": "drivers.manage"}

    @extend_schema(request=TipModerateSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def moderate(self, request, pk=None):
        tip = self.get_object()
        serializer = TipModerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tip = _mapped(
            services.tip_moderate,
            tip=tip,
            status=serializer.validated_data["status"],
            user=request.user,
        )
        self.audit("tip.moderate", tip, changes={"status": tip.status})
        return Response(TipSerializer(tip).data)


# --- Drivers ----------------------------------------------------------------------------------
class DriverThrottle(SimpleRateThrottle):
    """Per driver (their own counter, apart from the staff's)."""

    scope = "driver"
    rate = "600/hour"

    def get_cache_key(self, request, view):
        user = request.user
        ident = f"driver:{user.pk}" if getattr(user, "pk", None) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class DriverAPIView(APIView):
    schema = None  # not in the staff API's OpenAPI document
    authentication_classes = [DriverSessionAuthentication]
    permission_classes = [IsDriver]
    throttle_classes = [DriverThrottle]


class MeView(DriverAPIView):
    def get(self, request):
        return Response(DriverMeSerializer(request.user).data)

    def patch(self, request):
        serializer = DriverMeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        driver = _mapped(services.driver_update, driver=request.user, **serializer.validated_data)
        return Response(DriverMeSerializer(driver).data)


class CardListView(DriverAPIView):
    def get(self, request):
        cards = selectors.driver_cards(request.user)
        return Response(DriverCardSerializer(cards, many=True).data)

    def post(self, request):
        serializer = CardLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        card = _mapped(
            services.card_link, driver=request.user, uid=serializer.validated_data["uid"]
        )
        return Response(DriverCardSerializer(card).data, status=status.HTTP_201_CREATED)


class CardDetailView(DriverAPIView):
    def _card(self, request, pk):
        return get_object_or_404(
            DriverCard.objects.select_related("token"), pk=pk, driver=request.user
        )

    def get(self, request, pk):
        return Response(DriverCardSerializer(self._card(request, pk)).data)

    def delete(self, request, pk):
        services.card_unlink(card=self._card(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CardVerifyView(CardDetailView):
    http_method_names = ["post", "options"]

    def post(self, request, pk):
        card = self._card(request, pk)
        serializer = CardCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        card = _mapped(services.card_verify_code, card=card, code=serializer.validated_data["code"])
        return Response(DriverCardSerializer(card).data)


def _session_row(session, receipt) -> dict:
    return {
        "id": session.pk,
        "station": session.station.name or session.station.identity,
        "site": session.station.site.name if session.station.site else "",
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "status": session.status,
        "energy_wh": session.energy_wh,
        "receipt": receipt,
    }


class SessionListView(DriverAPIView):
    def get(self, request):
        sessions = list(selectors.driver_sessions(request.user)[:200])
        receipts = selectors.receipts_for(s.pk for s in sessions)
        return Response(
            {
                "totals": selectors.driver_totals(request.user),
                "results": [_session_row(s, receipts.get(s.pk)) for s in sessions],
            }
        )


class SessionDetailView(DriverAPIView):
    def get(self, request, pk):
        session = selectors.driver_session(request.user, pk)
        if session is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        receipt = selectors.receipts_for([pk]).get(pk)
        return Response(_session_row(session, receipt))


class TipCreateView(DriverAPIView):
    def post(self, request):
        serializer = DriverTipCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        station = Station.objects.filter(
            site__finder_listing__published=True, pk=serializer.validated_data["station"]
        ).first()
        if station is None:
            raise serializers.ValidationError({"station": ["No such station in the finder."]})
        tip = _mapped(
            services.tip_create,
            driver=request.user,
            station=station,
            body=serializer.validated_data["body"],
        )
        return Response({"id": tip.pk, "status": tip.status}, status=status.HTTP_201_CREATED)


class TipVoteView(DriverAPIView):
    def post(self, request, pk):
        tip = get_object_or_404(Tip, pk=pk, status="published")
        serializer = TipVoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tip = _mapped(
            services.tip_vote,
            driver=request.user,
            tip=tip,
            value=serializer.validated_data["value"],
        )
        return Response({"id": tip.pk, "score": tip.score, "status": tip.status})


class FinderStationsView(APIView):
    """The public finder's stations (no sign-in): availability per connector type and power."""

    schema = None
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"stations": selectors.finder_stations()})
