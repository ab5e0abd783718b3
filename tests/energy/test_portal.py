"""The demand-response page: events with their effect on the site, opting out from the portal
(audited, the limit lifted), in English and in French; people without energy.view see none."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.energy import services
from apps.energy.choices import Opt
from apps.energy.models import DemandResponseEvent
from apps.energy.openadr import EventMessage
from tests.energy.conftest import in_force


@pytest.fixture
def event(garage):
    ven = services.ven_create(
        site=garage.site,
        node=garage.supply,
        name="Hydro DR",
        vtn_url="https://vtn.test/",
        ven_name="garage",
        level_2_percent=Decimal("40"),
    )
    now = timezone.now()
    message = EventMessage(
        event_id="peak-1",
        modification_number=0,
        status="active",
        priority=0,
        signal_name="simple",
        signal_type="level",
        value=Decimal("2"),
        starts_at=now,
        duration=timedelta(hours=2),
        ramp_up=timedelta(0),
        recovery=timedelta(0),
        start_after=timedelta(0),
        response_required=True,
    )
    services.events_apply(ven=ven, messages=[message], now=now)
    return DemandResponseEvent.objects.get(ven=ven)


def test_the_site_admin_sees_the_effect_and_opts_out(personas, client_for, event):
    client = client_for(personas.owner)
    page = client.get(reverse("energy:event_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-event="{event.pk}"' in html
    assert "100 A" in html and "40 A" in html and "Level 2" in html and "Opt out" in html

    response = client.post(reverse("energy:event_opt", args=[event.pk]), {"opt": Opt.OUT})

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.opt == Opt.OUT
    assert not in_force(event.reference)
    assert AuditEntry.objects.filter(action="energy_event.opt", object_id=str(event.pk)).exists()
    assert "Take part" in client.get(reverse("energy:event_list")).content.decode()


def test_people_without_energy_view_see_nothing(personas, client_for, event):
    assert client_for(personas.delegate).get(reverse("energy:event_list")).status_code == 403
    assert client_for(personas.outsider).get(reverse("energy:event_list")).status_code == 403
    response = client_for(personas.delegate).post(
        reverse("energy:event_opt", args=[event.pk]), {"opt": Opt.OUT}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.opt == Opt.IN


def test_the_page_in_french(personas, client_for, event):
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse("energy:event_list")).content.decode()
    assert "Effacement de consommation" in html
    assert "Se retirer" in html and "Niveau 2" in html


def test_the_site_page_and_the_navigation_link_to_demand_response(
    personas, alpha_sites, client_for
):
    from tests.core.test_panels import person

    site = alpha_sites[0]
    url = reverse("stations:site_detail", args=[site.pk])
    events = reverse("energy:event_list")
    link = f"{events}?site_id={site.pk}"
    owner_page = client_for(personas.owner).get(url).content.decode()
    assert link in owner_page
    assert f'href="{events}"' in owner_page  # the navigation entry
    looker = client_for(person([site], "sites.view", "stations.view")).get(url)
    assert events not in looker.content.decode()
    energy_viewer = client_for(person([site], "sites.view", "energy.view")).get(url)
    assert link in energy_viewer.content.decode()


def _event_at(ven, event_id: str, starts_at, hours: int = 2):
    message = EventMessage(
        event_id=event_id,
        modification_number=0,
        status="active",
        priority=0,
        signal_name="simple",
        signal_type="level",
        value=Decimal("2"),
        starts_at=starts_at,
        duration=timedelta(hours=hours),
        ramp_up=timedelta(0),
        recovery=timedelta(0),
        start_after=timedelta(0),
        response_required=True,
    )
    services.events_apply(ven=ven, messages=[message], now=timezone.now())
    return DemandResponseEvent.objects.get(ven=ven, event_id=event_id)


def test_energy_shifted_against_the_hour_before(garage, event):
    from apps.energy.selectors import energy_shifted_wh
    from apps.power.models import NodeInterval
    from apps.power.planning import quarter_of

    quarter = timedelta(minutes=15)
    start = quarter_of(timezone.now()) - 2 * quarter
    earlier = _event_at(event.ven, "peak-0", start)
    drawn = {-4: 8_000, -3: 6_000, -2: 10_000, -1: 8_000, 0: 2_000, 1: 5_000}
    for index, watts in drawn.items():
        NodeInterval.objects.create(
            node=garage.supply, start=start + index * quarter, samples=4, drawn_w_sum=4 * watts
        )
    # Baseline 8,000 W; (8,000 - 2,000) + (8,000 - 5,000) W over a quarter hour each.
    shifted = energy_shifted_wh([earlier, event])
    # The other event started just now: no interval of its own yet, nothing shifted so far.
    assert shifted == {earlier.pk: 2_250, event.pk: 0}


def test_the_event_list_costs_the_same_queries_for_more_events(personas, client_for, event):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.owner)
    url = reverse("energy:event_list")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    now = timezone.now()
    for n in range(3):
        _event_at(event.ven, f"more-{n}", now - timedelta(minutes=n))
    with CaptureQueriesContext(connection) as four:
        html = client.get(url).content.decode()
    assert html.count("data-event=") == 4
    assert len(four.captured_queries) == len(one.captured_queries)
