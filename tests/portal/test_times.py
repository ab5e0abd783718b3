"""Times people read (issue 13): the audit log shows every row in one zone, the site's or
else the tenant's (never UTC beside local times), and its actions in words."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.audit.services import audit_record
from apps.roles.selectors import UserActor


def test_the_audit_log_reads_in_one_zone_and_in_words(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    a1.timezone = "America/Toronto"
    a1.save()
    tenant = connection.tenant
    previous = tenant.timezone
    tenant.timezone = "America/Toronto"  # the tenant's zone (Montréal's)
    try:
        actor = UserActor(personas.owner)
        at = dt.datetime(2026, 7, 1, 16, 30, tzinfo=dt.UTC)  # 12:30 in Montréal (EDT)
        with_site = audit_record(
            actor=actor, action="tariff_assignment.create", source="portal", site=a1
        )
        without = audit_record(actor=actor, action="billing_profile.update", source="portal")
        AuditEntry.objects.filter(pk__in=[with_site.pk, without.pk]).update(occurred_at=at)
        page = client_for(personas.owner).get(reverse("audit:entry_list")).content.decode()
        assert page.count("2026-07-01 12:30:00 EDT") == 2
        assert "16:30:00" not in page
        assert "Tariff assignment created" in page and "Billing profile changed" in page
        assert 'data-action="tariff_assignment.create"' in page
    finally:
        tenant.timezone = previous


def test_builtin_role_names_are_in_the_readers_language(personas, client_for, settings):
    from django.utils import translation

    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(reverse("roles:assignment_list")).content.decode()
    assert "Administrateur de site" in page and "<td>Site admin</td>" not in page
    translation.deactivate()
