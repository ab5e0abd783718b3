"""The decision read from the database: rules of the place loaded per level, the token's groups,
the site's and the tenant-wide holidays, the explanation steps, and the policy's answer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.access import selectors, services
from apps.access.choices import HolidayMode, Level, Refusal, RuleKind
from apps.access.models import AccessRule
from apps.charging.choices import AuthorizationStatus
from apps.charging.services import authorize, token_create
from apps.stations.models import Evse
from apps.stations.services import site_create, station_register

# Tuesday 5 May 2026, 12:00 and 20:00 in Montréal (UTC-4).
NOON = dt.datetime(2026, 5, 5, 16, 0, tzinfo=dt.UTC)
EVENING = dt.datetime(2026, 5, 6, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def place(alpha):
    site = site_create(name="Quai", timezone="America/Montreal")
    station = station_register(identity="ACC-SEL-1", password=None, site=site, evse_count=2)
    other = station_register(identity="ACC-SEL-2", password=None, site=site, evse_count=1)
    staff = services.group_create(name="Staff")
    badge = token_create(uid="BADGE-1")
    guest = token_create(uid="GUEST-1")
    services.group_add_tokens(group=staff, tokens=[badge])
    services.rule_create(name="staff", kind=RuleKind.MEMBERS, site=site, groups=[staff])
    services.rule_create(
        name="evenings",
        kind=RuleKind.PUBLIC,
        site=site,
        windows=[(day, dt.time(18), dt.time(7)) for day in range(5)],
        holidays=HolidayMode.SKIP,
    )
    return site, station, other, badge, guest


def test_site_rules_with_schedule_and_holidays(place):
    site, station, _, badge, guest = place
    assert selectors.access_decision(uid=badge.uid, station=station, moment=NOON).allowed
    noon = selectors.access_decision(uid=guest.uid, station=station, moment=NOON)
    assert not noon.allowed and noon.reason == Refusal.NOT_AT_THIS_TIME
    assert noon.level == Level.SITE
    assert noon.steps[0] == "Local time at the site: Tuesday 2026-05-05 12:00 (America/Montreal)."
    assert selectors.access_decision(uid=guest.uid, station=station, moment=EVENING).allowed
    services.holiday_create(date=dt.date(2026, 5, 5), name="Closed")  # tenant-wide
    assert not selectors.access_decision(uid=guest.uid, station=station, moment=EVENING).allowed


def test_port_rule_only_when_the_port_is_known(place):
    _, station, other, _, guest = place
    services.rule_create(
        name="port 2 public",
        kind=RuleKind.PUBLIC,
        evse=Evse.objects.get(station=station, evse_id=2),
    )
    assert selectors.access_decision(uid=guest.uid, station=station, evse_id=2, moment=NOON).allowed
    assert not selectors.access_decision(
        uid=guest.uid, station=station, evse_id=1, moment=NOON
    ).allowed
    assert not selectors.access_decision(uid=guest.uid, station=station, moment=NOON).allowed
    # another station of the site is untouched by that port's rule
    assert not selectors.access_decision(
        uid=guest.uid, station=other, evse_id=1, moment=NOON
    ).allowed


def test_policy_refuses_with_the_reason_and_leaves_unknown_tokens_to_the_token_table(
    place, monkeypatch
):
    _, station, _, badge, guest = place
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOON)
    assert authorize(uid=badge.uid, station_id=station.pk).status == AuthorizationStatus.ACCEPTED
    assert (
        authorize(uid=guest.uid, station_id=station.pk).status
        == AuthorizationStatus.NOT_AT_THIS_TIME
    )
    assert authorize(uid="NOBODY", station_id=station.pk).status == AuthorizationStatus.INVALID
    monkeypatch.setattr("django.utils.timezone.now", lambda: EVENING)
    assert authorize(uid=guest.uid, station_id=station.pk).status == AuthorizationStatus.ACCEPTED


def test_a_rule_names_exactly_one_place(place):
    site, station, *_ = place
    with pytest.raises(ValidationError):
        services.rule_create(name="two places", kind=RuleKind.PUBLIC, site=site, station=station)
    with pytest.raises(ValidationError):
        services.rule_create(
            name="backwards",
            kind=RuleKind.PUBLIC,
            site=site,
            date_from=dt.date(2026, 5, 2),
            date_to=dt.date(2026, 5, 1),
        )
    with transaction.atomic(), pytest.raises(IntegrityError):
        AccessRule.objects.create(name="nowhere", kind=RuleKind.PUBLIC, scope_site=site)


def test_a_rule_that_locks_everyone_out_needs_confirmation(place):
    _, station, other, badge, _ = place
    with pytest.raises(ValidationError) as refused:
        services.rule_create(name="closed", kind=RuleKind.PRIVATE, station=station)
    assert refused.value.code == "lockout"
    assert not AccessRule.objects.filter(name="closed").exists()  # rolled back
    empty = services.group_create(name="Nobody yet")
    with pytest.raises(ValidationError):
        services.rule_create(name="empty", kind=RuleKind.MEMBERS, station=station, groups=[empty])
    services.rule_create(
        name="closed", kind=RuleKind.PRIVATE, station=station, confirm_lockout=True
    )
    assert not selectors.access_decision(uid=badge.uid, station=station, moment=NOON).allowed
    # A members rule with somebody in its group opens the station again.
    staff = AccessRule.objects.get(name="staff").groups.get()
    services.rule_create(name="staff here", kind=RuleKind.MEMBERS, station=station, groups=[staff])
    assert selectors.access_decision(uid=badge.uid, station=station, moment=NOON).allowed


def test_the_prepared_decision_query_reads_the_current_tenants_tables(place, alpha, beta):
    """The inputs query is a prepared statement: after the connection switches tenant
    (search_path), the same statement must read the other tenant's tables."""
    from django.db import connection

    from apps.stations.models import Station

    _, station, *_ = place
    moment = NOON
    inputs = selectors.decision_inputs(
        uid="BADGE-1", station_id=station.pk, evse_id=1, moment=moment
    )
    assert inputs is not None and inputs.rules and inputs.token_known
    connection.set_tenant(beta)
    try:
        assert not Station.objects.filter(pk=station.pk).exists()
        assert (
            selectors.decision_inputs(
                uid="BADGE-1", station_id=station.pk, evse_id=1, moment=moment
            )
            is None
        )
    finally:
        connection.set_tenant(alpha)
    again = selectors.decision_inputs(
        uid="BADGE-1", station_id=station.pk, evse_id=1, moment=moment
    )
    assert again == inputs
