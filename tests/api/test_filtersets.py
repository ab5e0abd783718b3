"""The FilterSets the portal shares with the API: used the portal's way (a Django request with
``request.actor``), their choices are limited to what the person may see."""

from django.test import RequestFactory

from apps.charging.filtersets import ChargingSessionFilterSet
from apps.roles.selectors import UserActor
from apps.stations.filtersets import StationFilterSet
from apps.stations.models import Station


def portal_request(user, query=""):
    request = RequestFactory().get(f"/stations/?{query}")
    request.user = user
    request.actor = UserActor(user)
    return request


def test_choices_are_scoped_to_the_person(personas, inventory, alpha_sites):
    request = portal_request(personas.delegate)
    filterset = StationFilterSet(request.GET, queryset=Station.objects.all(), request=request)
    assert list(filterset.form.fields["site_id"].queryset) == [alpha_sites[0]]
    sessions = ChargingSessionFilterSet(request.GET, queryset=None, request=request)
    assert [s.identity for s in sessions.form.fields["station_id"].queryset] == [
        "A1-ST-1",
        "A1-ST-2",
    ]
    # no request, no choices (never everything)
    assert (
        not StationFilterSet({}, queryset=Station.objects.all())
        .form.fields["site_id"]
        .queryset.exists()
    )


def test_portal_style_filtering(personas, inventory, alpha_sites):
    request = portal_request(
        personas.owner, f"site_id={alpha_sites[1].pk}&online=true&ordering=-identity"
    )
    filterset = StationFilterSet(request.GET, queryset=Station.objects.all(), request=request)
    assert filterset.is_valid(), filterset.errors
    assert [s.identity for s in filterset.qs] == ["A2-ST-2", "A2-ST-1"]
    dated = ChargingSessionFilterSet(
        {"started_after": "2025-03-01", "started_before": "2025-03-01"},
        queryset=inventory.a1.objects["session"].__class__.objects.all(),
        request=request,
    )
    assert dated.qs.count() == 2
    wrong = ChargingSessionFilterSet({"started_after": "yesterday"}, queryset=None, request=request)
    assert not wrong.is_valid() and "started_after" in wrong.errors
