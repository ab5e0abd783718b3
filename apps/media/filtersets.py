import django_filters

from .choices import AssetKind, DeliveryStatus
from .models import MediaAsset, MediaDelivery, MediaSchedule, Playlist, ScreenModel


class ScreenModelFilterSet(django_filters.FilterSet):
    class Meta:
        model = ScreenModel
        fields = ["id", "vendor", "model", "has_screen"]


class MediaAssetFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=AssetKind.choices)
    ordering = django_filters.OrderingFilter(fields=["uploaded_at", "name"])

    class Meta:
        model = MediaAsset
        fields = ["id", "format"]


class PlaylistFilterSet(django_filters.FilterSet):
    class Meta:
        model = Playlist
        fields = ["id", "name"]


class MediaScheduleFilterSet(django_filters.FilterSet):
    active_on = django_filters.DateFilter(method="filter_active_on", label="Active on")

    class Meta:
        model = MediaSchedule
        fields = ["id", "playlist", "sites"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class MediaDeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = MediaDelivery
        fields = ["id", "schedule", "station"]
