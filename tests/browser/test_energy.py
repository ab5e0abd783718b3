"""The demand-response pages in a real browser (energy, issue 18): a site admin sets up a VEN
with its certificate and key uploaded, at 1360 px and 375 px, without script errors (CSP) and
without its content sticking out sideways on a phone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url
from tests.live import blocking

pytestmark = pytest.mark.slow

# What sticks out of the page's content on the right (the table scrolls inside its own box;
# the top bar is the base template's, not this page's).
STICKING_OUT = """() => [...document.querySelectorAll('main *')]
  .filter(e => !e.closest('.dr-scroll') || e.classList.contains('dr-scroll'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '.' + e.className)"""


def _garage(network):
    from django.utils import timezone

    from apps.energy import services
    from apps.energy.openadr import EventMessage
    from apps.power import services as power
    from apps.power.choices import NodeKind

    with tenant_context(network.tenant):
        supply = power.power_node_create(
            site=network.site_a,
            name=f"Supply {network.tag}",
            kind=NodeKind.SUPPLY,
            rating_a=Decimal("100"),
            continuous_factor=Decimal("1.00"),
        )
        other = power.power_node_create(
            site=network.site_b,
            name=f"Supply B {network.tag}",
            kind=NodeKind.SUPPLY,
            rating_a=Decimal("25"),
            continuous_factor=Decimal("1.00"),
        )
        ven = services.ven_create(
            site=network.site_a,
            node=supply,
            member_nodes=[other],
            name=f"Hydro {network.tag}",
            vtn_url="https://vtn.test/OpenADR2/Simple/2.0b",
            ven_name=f"browser-{network.tag}",
            level_2_percent=Decimal("40"),
        )
        now = timezone.now()
        message = EventMessage(
            event_id=f"peak-{network.tag}",
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
        return ven


def test_a_site_admin_sets_up_a_ven_on_a_laptop_and_a_phone(
    network, portal_server, sign_in, tmp_path
):
    from tests.energy.conftest import make_certificates

    ven = blocking(lambda: _garage(network))
    folder = make_certificates(tmp_path)
    page = sign_in(network.host, "owner@alpha.test")
    events = portal_url(network, portal_server, "/energy/events/")

    for width in (1360, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(events)
        assert page.locator(f'[data-ven="{ven.pk}"]').count() == 1
        assert page.locator(".dr-node").count() == 4  # two sites, before and during
        assert page.evaluate(STICKING_OUT) == [], width
        page.goto(portal_url(network, portal_server, f"/energy/vens/{ven.pk}/"))
        assert page.evaluate(STICKING_OUT) == [], width

    # On the phone: upload the certificate, key and CA, save.
    page.set_input_files("#id_client_cert_file", str(folder / "ven.pem"))
    page.set_input_files("#id_client_key_file", str(folder / "ven.key"))
    page.set_input_files("#id_vtn_ca_file", str(folder / "ca.pem"))
    page.click(".ven-form button[type=submit]")
    page.wait_for_selector("[data-fingerprint]")
    assert "VEN saved." in page.content()
    assert "PRIVATE KEY" not in page.content()
    assert page.evaluate(STICKING_OUT) == []
    assert page_errors(page) == []
