"""Reads of video content: what each schedule reached, and a station's deliveries."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import MediaDelivery, MediaSchedule


def delivery_counts(*, schedule_ids) -> dict[int, dict[str, int]]:
    """{schedule id: {status: count, "on_the_way": pending + sent}} in one query."""
    counts: dict[int, dict[str, int]] = {pk: {} for pk in schedule_ids}
    rows = (
        MediaDelivery.objects.filter(schedule_id__in=list(schedule_ids))
        .values_list("schedule_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for schedule_id, status, n in rows:
        counts.setdefault(schedule_id, {})[status] = n
    for row in counts.values():
        row["on_the_way"] = row.get("pending", 0) + row.get("sent", 0)
    return counts


def schedule_deliveries(*, schedule: MediaSchedule, actor, permission: str) -> QuerySet:
    return (
        MediaDelivery.objects.restrict(actor, permission)
        .filter(schedule=schedule)
        .select_related("station", "station__site")
        .order_by("station__identity")
    )
