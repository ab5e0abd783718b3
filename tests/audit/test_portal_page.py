"""The audit log page: site admins read and filter who did what; others get nothing."""

from apps.audit.models import AuditEntry


def entry(action, site=None, succeeded=True, actor="owner@alpha.test"):
    return AuditEntry.objects.create(
        actor_kind="user",
        actor_label=actor,
        action=action,
        object_type="stations.station",
        object_id="1",
        object_repr="CP-1",
        source="portal",
        site=site,
        succeeded=succeeded,
    )


def test_site_admin_reads_and_filters_the_audit_log(personas, client_for, alpha_sites):
    a1, a2 = alpha_sites
    entry("station.reset", site=a1)
    entry("station.unlock", site=a2, succeeded=False, actor="tech@installer.test")
    client = client_for(personas.owner)
    page = client.get("/audit/").content.decode()
    assert "station.reset" in page and "station.unlock" in page
    page = client.get("/audit/", {"action": "station.unlock"}).content.decode()
    assert "station.unlock" in page and "station.reset" not in page
    page = client.get("/audit/", {"actor": "installer"}).content.decode()
    assert "tech@installer.test" in page and "station.reset" not in page
    french = client_for(personas.owner)
    french.cookies["django_language"] = "fr"
    page = french.get("/audit/").content.decode()
    assert "Journal d’audit" in page and "Résultat" in page and "Échoué" in page


def test_people_without_audit_view_get_nothing(personas, client_for, beta):
    entry("site.update")
    assert client_for(personas.delegate).get("/audit/").status_code == 403
    assert client_for(personas.outsider).get("/audit/").status_code == 403
    assert client_for(None).get("/audit/").status_code == 302
    other = client_for(personas.other_tenant_user, tenant=beta)
    other.defaults["HTTP_HOST"] = "alpha.localhost"
    assert other.get("/audit/").status_code == 302
