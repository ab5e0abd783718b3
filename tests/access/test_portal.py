"""The access pages: rules with their schedule rows (lock-out confirmed on the form), groups
and their members, holidays, the why-refused tool; scoped to the person's sites; in French."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from apps.access import services
from apps.access.choices import RuleKind
from apps.access.models import AccessGroup, AccessRule, Holiday
from apps.charging.services import token_create
from apps.roles.models import Role
from apps.roles.services import role_assign
from apps.stations.services import site_create, station_register
from tests.factories import UserFactory


@pytest.fixture
def quay(alpha):
    site = site_create(name="Quay", timezone="America/Montreal")
    station = station_register(identity="ACC-PORTAL-1", password=None, site=site, evse_count=2)
    staff = services.group_create(name="Staff")
    services.group_add_tokens(group=staff, tokens=[token_create(uid="STAFF-1")])
    token_create(uid="VISITOR-1")
    return site, station, staff


def test_an_owner_writes_a_staff_and_evenings_site_rule_from_the_form(personas, client_for, quay):
    site, station, staff = quay
    owner = client_for(personas.owner)
    form = owner.get(reverse("access:rule_create"), {"site": site.pk})
    assert form.status_code == 200 and "Weekly schedule" in form.content.decode()
    rows = {"w-TOTAL_FORMS": "3", "w-INITIAL_FORMS": "0"}
    response = owner.post(
        f"{reverse('access:rule_create')}?site={site.pk}",
        {
            "name": "public evenings",
            "kind": "public",
            "holidays": "skip",
            **rows,
            "w-0-days": ["0", "1", "2", "3", "4"],
            "w-0-start": "18:00",
            "w-0-end": "07:00",
            "w-1-days": ["5"],
            "w-1-start": "06:00",
            "w-1-end": "08:00",
        },
    )
    rule = AccessRule.objects.get(name="public evenings")
    assert response.url == reverse("access:rule_detail", args=[rule.pk])
    windows = sorted((w.weekday, w.start, w.end) for w in rule.windows.all())
    assert windows == [(d, dt.time(18), dt.time(7)) for d in range(5)] + [
        (5, dt.time(6), dt.time(8))
    ]
    assert rule.site == site and rule.holidays == "skip"
    services.rule_create(name="staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    detail = owner.get(response.url).content.decode()
    assert "Friday 18:00–07:00" in detail and "staff" in detail
    # the staff rule is in force all week: the evening windows overlap it (shown, not an error)
    assert "“public evenings” and “staff” both apply Monday 18:00–07:00" in detail

    # a half-filled schedule row is refused, with its reason
    bad = owner.post(
        f"{reverse('access:rule_create')}?site={site.pk}",
        {"name": "x", "kind": "public", "holidays": "as_usual", **rows, "w-0-start": "18:00"},
    )
    assert bad.status_code == 200 and "needs days, a start and an end" in bad.content.decode()

    # editing shows the rows grouped by hours, and saving replaces them
    edit = owner.get(reverse("access:rule_edit", args=[rule.pk])).content.decode()
    assert 'value="18:00"' in edit
    owner.post(
        reverse("access:rule_edit", args=[rule.pk]),
        {
            "name": "public nights",
            "kind": "public",
            "holidays": "as_usual",
            **rows,
            "w-0-days": ["6"],
            "w-0-start": "22:00",
            "w-0-end": "06:00",
        },
    )
    rule.refresh_from_db()
    assert rule.name == "public nights" and rule.windows.count() == 1


def test_a_rule_that_locks_everyone_out_asks_for_confirmation(personas, client_for, quay):
    _, station, _ = quay
    owner = client_for(personas.owner)
    url = f"{reverse('access:rule_create')}?station={station.pk}"
    data = {"name": "closed", "kind": "private", "holidays": "as_usual", "w-TOTAL_FORMS": "3"}
    data["w-INITIAL_FORMS"] = "0"
    first = owner.post(url, data)
    assert first.status_code == 200 and not AccessRule.objects.filter(name="closed").exists()
    assert "nobody may charge here any more" in first.content.decode()
    assert 'name="confirm_lockout"' in first.content.decode()
    second = owner.post(url, {**data, "confirm_lockout": "on"})
    assert second.status_code == 302 and AccessRule.objects.filter(name="closed").exists()


def test_groups_and_members_from_the_portal(personas, client_for, quay):
    owner = client_for(personas.owner)
    owner.post(reverse("access:group_create"), {"name": "Night shift"})
    group = AccessGroup.objects.get(name="Night shift")
    members = reverse("access:group_members", args=[group.pk])
    owner.post(members, {"add": "STAFF-1, VISITOR-1"})
    assert set(group.tokens.values_list("uid", flat=True)) == {"STAFF-1", "VISITOR-1"}
    page = owner.post(members, {"add": "NOBODY-7", "remove": "VISITOR-1"}, follow=True)
    assert "NOBODY-7" in page.content.decode()  # named, and nothing changed
    assert group.tokens.count() == 2
    owner.post(members, {"remove": "VISITOR-1"})
    detail = owner.get(reverse("access:group_detail", args=[group.pk])).content.decode()
    assert 'data-member="STAFF-1"' in detail and 'data-member="VISITOR-1"' not in detail
    listing = owner.get(reverse("access:group_list")).content.decode()
    assert "Night shift" in listing


def test_holidays_from_the_portal(personas, client_for, quay):
    site, _, _ = quay
    owner = client_for(personas.owner)
    owner.post(reverse("access:holiday_create"), {"date": "2026-07-01", "name": "Canada Day"})
    owner.post(
        reverse("access:holiday_create"),
        {"date": "2026-06-24", "name": "Saint-Jean", "site": site.pk},
    )
    assert Holiday.objects.get(name="Canada Day").site is None
    assert Holiday.objects.get(name="Saint-Jean").site == site
    page = owner.get(reverse("access:holiday_list")).content.decode()
    assert "Canada Day" in page and "Every site" in page


def test_the_why_refused_tool_reads_the_time_on_the_sites_clock(personas, client_for, quay):
    site, station, staff = quay
    services.rule_create(name="staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    services.rule_create(
        name="evenings",
        kind=RuleKind.PUBLIC,
        site=site,
        windows=[(d, dt.time(18), dt.time(7)) for d in range(5)],
    )
    owner = client_for(personas.owner)
    url = reverse("access:explain")
    # Tuesday 5 May 2026 12:00 in Montréal, whatever the reader's zone
    noon = owner.get(url, {"token": "VISITOR-1", "station": station.pk, "at": "2026-05-05T12:00"})
    html = noon.content.decode()
    assert 'data-answer="NotAtThisTime"' in html and "Refused: not at this time" in html
    assert "Local time at the site: Tuesday 2026-05-05 12:00 (America/Montreal)" in html
    evening = owner.get(
        url, {"token": "VISITOR-1", "station": station.pk, "at": "2026-05-05T19:00"}
    )
    assert 'data-answer="Accepted"' in evening.content.decode()
    unknown = owner.get(url, {"token": "NOBODY", "station": station.pk, "at": "2026-05-05T12:00"})
    assert 'data-answer="Invalid"' in unknown.content.decode()
    assert "<script>" not in html


def test_pages_in_french(personas, client_for, quay):
    site, station, staff = quay
    services.rule_create(name="staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    try:
        rules = client.get(reverse("access:rule_list")).content.decode()
        assert "Règles d’accès" in rules and "Membres des groupes de la règle" in rules
        why = client.get(
            reverse("access:explain"),
            {"token": "VISITOR-1", "station": station.pk, "at": "2026-05-05T12:00"},
        ).content.decode()
        assert "Refusée : pas à cet endroit" in why
        assert "Heure locale du site : mardi 2026-05-05 12:00" in why
    finally:
        translation.activate(settings.LANGUAGE_CODE)


def test_a_person_sees_the_rules_of_their_sites_only(personas, client_for, quay, alpha_sites):
    site, station, staff = quay
    a1 = alpha_sites[0]
    services.rule_create(name="quay staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    services.rule_create(name="garage public", kind=RuleKind.PUBLIC, site=a1)
    role = Role.objects.create(slug="door-keeper", name="Doors", permissions=["access.view"])
    keeper = UserFactory(email="doors@alpha.test")
    role_assign(user=keeper, role=role, sites=[a1], granted_by=personas.owner)
    client = client_for(keeper)
    rules = client.get(reverse("access:rule_list")).content.decode()
    assert "garage public" in rules and "quay staff" not in rules
    quay_rule = AccessRule.objects.get(name="quay staff")
    assert client.get(reverse("access:rule_detail", args=[quay_rule.pk])).status_code == 404
    assert client.get(reverse("access:group_list")).status_code == 403  # groups: every site
    why = client.get(reverse("access:explain"), {"station": station.pk})
    assert why.status_code == 200 and "data-answer" not in why.content.decode()  # not theirs
    assert client.post(reverse("access:rule_delete", args=[quay_rule.pk])).status_code == 403
    outsider = client_for(personas.outsider)
    assert outsider.get(reverse("access:rule_list")).status_code == 403
    assert outsider.get(reverse("access:explain")).status_code == 403


def test_the_station_page_shows_its_access_rules_and_local_list(personas, client_for, quay):
    from apps.access.models import StationLocalList

    site, station, staff = quay
    owner = client_for(personas.owner)
    url = reverse("stations:station_detail", args=[station.pk])
    assert "open to every valid card" in owner.get(url).content.decode()
    services.rule_create(name="staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    StationLocalList.objects.create(
        station=station, version=4, entries={"STAFF-1": {"status": "Accepted"}}, state="in_step"
    )
    html = owner.get(url).content.decode()
    assert "1 rule applies" in html and "Local list v4, 1 card · In step" in html
    assert f"{reverse('access:explain')}?station={station.pk}" in html


def test_sending_the_local_list_from_the_station_page(personas, client_for, quay):
    from apps.access.models import StationLocalList

    site, station, staff = quay
    services.rule_create(name="staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    owner = client_for(personas.owner)
    page = owner.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    sync = reverse("access:station_local_list_sync", args=[station.pk])
    assert f'action="{sync}"' in page
    answer = owner.post(sync, follow=True)
    assert "Local list: Behind (station offline or not answering)." in answer.content.decode()
    assert StationLocalList.objects.get(station=station).state == "behind"
    assert client_for(personas.outsider).post(sync).status_code == 403
