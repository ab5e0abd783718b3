from apps.api.viewsets import ReadOnlyScopedViewSet

from ..filtersets import AuditEntryFilterSet
from ..models import AuditEntry
from .serializers import AuditEntrySerializer


class AuditEntryViewSet(ReadOnlyScopedViewSet):
    """Who did what, when and from where: every write and remote command, portal and API."""

    queryset = AuditEntry.objects.select_related("site")
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    view_permission = "audit.view"
