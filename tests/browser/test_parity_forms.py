"""The parity forms (issue 13) in a real browser, on a desktop and on a phone: a webhook is
added with an inline error on the way and its secret shown once; a tariff is assigned and the
page says where it applies; a port is edited; the payout, tax and billing-settings pages open.
Nothing overflows the page's width at 375 px (wide tables scroll in their own box) and no
script error happens."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors
from tests.live import blocking

pytestmark = pytest.mark.slow

SAVE = "main section.card form button[type=submit]"
# The width of what the page's own content needs, against the width it has.
OVERFLOW = (
    "() => document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth"
)


def _prepare(tag: str):
    from apps.billing import services as billing
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.get(slug="alpha")
    with tenant_context(tenant):
        site = site_create(name=f"Parity site {tag}", timezone="America/Montreal")
        station = station_register(identity=f"PAR-{tag}", password=None, site=site)
        tariff = billing.tariff_create(
            name=f"Parity price {tag}",
            definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.30"}]},
        )
        port = station.evses.get().pk
    return tenant.get_primary_domain().domain, site.pk, station.pk, tariff.pk, port


def _clean_up(tag: str, audit_after: int) -> None:
    """Committed rows would be seen by the tests that run after (exact lists of stations,
    "no webhooks yet"): remove what this test made."""
    from apps.audit.models import AuditEntry
    from apps.billing.models import Tariff, TariffAssignment, TariffVersion
    from apps.stations.models import Site, Station
    from apps.tenants.models import StationIdentity, Tenant
    from apps.webhooks.models import Webhook

    with tenant_context(Tenant.objects.get(slug="alpha")):
        Webhook.objects.filter(name=f"ERP {tag}").delete()
        tariffs = Tariff.objects.filter(name=f"Parity price {tag}")
        TariffAssignment.objects.filter(tariff__in=tariffs).delete()
        TariffVersion.objects.filter(tariff__in=tariffs).delete()
        tariffs.delete()
        Station.objects.filter(identity=f"PAR-{tag}").delete()
        Site.objects.filter(name=f"Parity site {tag}").delete()
        AuditEntry.objects.filter(pk__gt=audit_after).delete()
    StationIdentity.objects.filter(identity=f"PAR-{tag}").delete()


def _last_audit_id() -> int:
    from apps.audit.models import AuditEntry
    from apps.tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug="alpha")):
        last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


@pytest.fixture
def tag(live_db):
    tag = uuid.uuid4().hex[:6].upper()
    audit_after = blocking(_last_audit_id)
    yield tag
    blocking(lambda: _clean_up(tag, audit_after))


def _webhook_secret(name: str) -> str | None:
    from apps.tenants.models import Tenant
    from apps.webhooks.models import Webhook

    def run():
        with tenant_context(Tenant.objects.get(slug="alpha")):
            hook = Webhook.objects.filter(name=name).first()
            return hook.secret if hook else None

    return blocking(run)


@pytest.mark.parametrize("width,height", [(1366, 900), (375, 812)], ids=["desktop", "phone"])
def test_the_parity_forms_work_on_a_desktop_and_a_phone(tag, portal_server, sign_in, width, height):
    host, site_id, station_id, tariff_id, port_id = blocking(lambda: _prepare(tag))
    base = f"http://{host}:{portal_server.port}"
    page = sign_in(host, "owner@alpha.test")
    page.set_viewport_size({"width": width, "height": height})

    # A webhook: a bad address is shown next to its field, then the secret once.
    page.goto(f"{base}/webhooks/new/")
    page.fill("#id_name", f"ERP {tag}")
    page.fill("#id_url", "not an address")
    page.check("input[name=events][value='session.ended']")
    page.click(SAVE)
    assert page.locator("main .field-url .errorlist").count() == 1
    assert _webhook_secret(f"ERP {tag}") is None
    page.fill("#id_url", "https://erp.example.com/hooks")
    page.click(SAVE)
    secret = page.locator("#webhook-secret").inner_text()
    assert secret == _webhook_secret(f"ERP {tag}")
    assert page.evaluate(OVERFLOW) <= 1

    # A tariff for one station: the page then says the station pays it, set for that station.
    page.goto(f"{base}/billing/assignments/new/?tariff={tariff_id}")
    page.select_option("#id_site", str(site_id))
    page.select_option("#id_station", str(station_id))
    page.click(SAVE)
    page.wait_for_url("**/billing/assignments/")
    row = page.locator(f"table.public-prices tr[data-station='{station_id}']")
    assert f"Parity price {tag}" in row.inner_text() and "this station" in row.inner_text()
    assert page.evaluate(OVERFLOW) <= 1

    # A port's ratings: a minimum above the maximum is refused inline.
    page.goto(f"{base}/ports/{port_id}/edit/")
    page.fill("#id_min_current_a", "40")
    page.click(SAVE)
    assert "cannot exceed the maximum" in page.locator("main .errorlist").inner_text()
    page.fill("#id_min_current_a", "8")
    page.click(SAVE)
    page.wait_for_url(f"**/stations/{station_id}/edit/")
    assert "8.0–32.0" in page.locator(f"tr[data-evse='{port_id}']").inner_text()
    assert page.evaluate(OVERFLOW) <= 1

    for path in ("/billing/payouts/", "/billing/taxes/new/", "/billing/settings/", "/webhooks/"):
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert page.evaluate(OVERFLOW) <= 1, path
    assert page_errors(page) == []
