"""The electrical tree editor in a real browser (Debian's Chromium through Playwright) against a
real server process: a site admin builds a panel and a circuit, places a station on the
circuit, changes a limit, is told about a negative one (and nothing is saved), and watches
the tree follow a charging station live, without a reload."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.simulator.physics import Vehicle
from apps.simulator.station import SimulatedStation, StationConfig
from tests.browser.conftest import page_errors
from tests.conftest import PASSWORD
from tests.live import blocking

pytestmark = pytest.mark.slow

SAVE = "main section.card form button[type=submit]"  # the node form's (not the header's)


@dataclass
class Yard:
    tenant: object
    host: str
    site: object
    station: object
    password: str
    token: str
    admin_email: str


@pytest.fixture
def yard(live_db):
    """A site without a tree, one station on it (never connected), a token, and a site admin
    of that site only."""
    tag = uuid.uuid4().hex[:6].upper()

    def create() -> Yard:
        from apps.accounts.services import user_create
        from apps.charging.services import token_create
        from apps.roles.services import role_assign, role_by_slug
        from apps.stations.services import site_create, station_register
        from apps.tenants.models import Tenant

        tenant = Tenant.objects.get(slug="alpha")
        password = f"pw-{tag.lower()}-0123456789"
        with tenant_context(tenant):
            site = site_create(name=f"Tree editor {tag}", timezone="America/Montreal")
            station = station_register(identity=f"PE-{tag}", password=password, site=site)
            token = f"PETAG{tag}"
            token_create(uid=token)
            email = f"site-admin-{tag.lower()}@alpha.test"
            admin = user_create(email=email, password=PASSWORD)
            role_assign(user=admin, role=role_by_slug("site-admin"), sites=[site])
        return Yard(
            tenant, tenant.get_primary_domain().domain, site, station, password, token, email
        )

    return blocking(create)


def in_tenant(yard: Yard, fn):
    """ORM work of the test (in a worker thread: the sync Playwright API runs a loop here)."""

    def run():
        with tenant_context(yard.tenant):
            return fn()

    return blocking(run)


def nodes_of(yard: Yard) -> dict[str, tuple]:
    from apps.power.models import PowerNode

    return in_tenant(
        yard,
        lambda: {
            node.name: (node.kind, node.parent.name if node.parent else None, node.rating_a)
            for node in PowerNode.objects.filter(site=yard.site).select_related("parent")
        },
    )


def node_pk(yard: Yard, name: str) -> int:
    from apps.power.models import PowerNode

    return in_tenant(yard, lambda: PowerNode.objects.get(site=yard.site, name=name).pk)


def number(page, selector: str) -> float | None:
    text = page.locator(selector).inner_text().replace("A", "").strip()
    try:
        return float(text)
    except ValueError:
        return None


def wait_number(page, selector: str, value: float, timeout: float = 20_000) -> None:
    page.wait_for_function(
        """([selector, value]) => {
            const cell = document.querySelector(selector);
            return cell !== null && parseFloat(cell.textContent) === value;
        }""",
        arg=[selector, value],
        timeout=timeout,
    )


def test_a_site_admin_builds_the_tree_and_watches_it_live(yard, portal_server, sign_in, loop):
    base = f"http://{yard.host}:{portal_server.port}"
    page = sign_in(yard.host, yard.admin_email)
    page.goto(f"{base}/sites/{yard.site.pk}/")
    page.click(f".subnav a[href$='/power/sites/{yard.site.pk}/']")
    page.wait_for_url(f"**/power/sites/{yard.site.pk}/")
    assert page.locator("#power-tree .power-node").count() == 0

    # A panel: 100 A breaker, at the default continuous factor (0.80): 80 A per line.
    page.fill("#add-node #id_name", "Main panel")
    page.select_option("#add-node #id_kind", "panel")
    page.fill("#add-node #id_rating_a", "100")
    page.click("#add-node button[type=submit]")
    page.wait_for_url(f"**/power/sites/{yard.site.pk}/")
    panel = node_pk(yard, "Main panel")
    assert page.locator(f'[data-node="{panel}"] .node-limit').inner_text().strip() == "80.0 A"

    # A circuit under it, from the panel's own link (the parent comes chosen): 40 A -> 32 A.
    page.click(f'[data-node="{panel}"] .node-actions a[href*="?parent={panel}"]')
    page.wait_for_url("**/nodes/add/?parent=*")
    assert page.locator("#id_parent").input_value() == str(panel)
    page.fill("#id_name", "Circuit 1")
    page.select_option("#id_kind", "circuit")
    page.fill("#id_rating_a", "40")
    page.click(SAVE)
    page.wait_for_url(f"**/power/sites/{yard.site.pk}/")
    circuit = node_pk(yard, "Circuit 1")
    nested = f'[data-node="{panel}"] ul.power-tree [data-node="{circuit}"]'
    assert page.locator(f"{nested} .node-limit").inner_text().strip() == "32.0 A"
    assert nodes_of(yard) == {
        "Main panel": ("panel", None, Decimal("100.0")),
        "Circuit 1": ("circuit", "Main panel", Decimal("40.0")),
    }

    # The station goes on the circuit: its port appears in the circuit's table.
    page.select_option("#place-station #id_station", label=yard.station.identity)
    page.select_option("#place-station #id_node", label="Circuit 1")
    page.click("#place-station button[type=submit]")
    page.wait_for_url(f"**/power/sites/{yard.site.pk}/")
    evse = in_tenant(yard, lambda: yard.station.evses.get(evse_id=1).pk)
    port = f'{nested} table.power-evses tr[data-evse="{evse}"]'
    assert page.locator(port).count() == 1
    assert page.locator(f"{port} [data-field=limit]").inner_text().strip() == "—"
    for line in (1, 2, 3):
        assert (
            number(page, f'[data-lines="{circuit}"] [data-field=allocated][data-line="{line}"]')
            == 0
        )

    # The circuit's breaker becomes 25 A: 20 A per line.
    page.click(f'{nested} .node-actions a[href$="/nodes/{circuit}/edit/"]')
    page.wait_for_url(f"**/nodes/{circuit}/edit/")
    assert page.locator("#id_rating_a").input_value() == "40.0"
    page.fill("#id_rating_a", "25")
    page.click(SAVE)
    page.wait_for_url(f"**/power/sites/{yard.site.pk}/")
    assert page.locator(f"{nested} .node-limit").inner_text().strip() == "20.0 A"

    # A negative rating: the form says what is wrong next to the field; nothing is saved.
    page.goto(f"{base}/power/nodes/{circuit}/edit/")
    page.fill("#id_rating_a", "-10")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click(SAVE)
    assert answer.value.status == 400
    assert page.locator(".errorlist").all_inner_texts() == [
        "Ensure this value is greater than or equal to 0."
    ]
    assert page.locator("#id_rating_a_error").count() == 1  # the rating's own error
    assert page.locator("#id_rating_a").input_value() == "-10"
    # ... nor when adding a node.
    page.goto(f"{base}/power/sites/{yard.site.pk}/nodes/add/?parent={panel}")
    page.fill("#id_name", "Circuit 2")
    page.select_option("#id_kind", "circuit")
    page.fill("#id_limit_kw", "-3")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click(SAVE)
    assert answer.value.status == 400
    assert page.locator("#id_limit_kw_error").inner_text() == (
        "Ensure this value is greater than or equal to 0."
    )
    assert nodes_of(yard) == {
        "Main panel": ("panel", None, Decimal("100.0")),
        "Circuit 1": ("circuit", "Main panel", Decimal("25.0")),
    }
    page.goto(f"{base}/power/sites/{yard.site.pk}/")
    assert page.locator(f"{nested} .node-limit").inner_text().strip() == "20.0 A"

    # Live: a vehicle starts charging on the station; each rebalance (the test plays the
    # Celery worker) reaches the open page, which updates in place.
    page.wait_for_selector("#live-indicator.live", timeout=15_000)
    page.evaluate("window.__sameDocument = true")
    station = SimulatedStation(
        StationConfig(
            identity=yard.station.identity,
            url=f"ws://127.0.0.1:{portal_server.port}/ocpp/",
            password=yard.password,
            version="1.6",
        )
    )
    try:
        assert loop.run(station.connect()) == "Accepted"
        loop.run(station.plug_in(1, Vehicle(soc=30, max_current_a=32.0)))
        loop.run(station.start_session(1, yard.token))
        rebalance_with_session(yard)
        wait_number(page, f"{port} [data-field=limit]", 20)
        for line in (1, 2, 3):
            wait_number(
                page, f'[data-lines="{circuit}"] [data-field=allocated][data-line="{line}"]', 20
            )
            wait_number(
                page, f'[data-lines="{panel}"] [data-field=allocated][data-line="{line}"]', 20
            )
        loop.run(station.wait_until(lambda: station.limit(1) == 20.0, timeout=15))

        # The station reports the vehicle drawing its 20 A on each line.
        loop.run(station.send_meter_values(1))
        in_tenant(yard, lambda: wait_draw(yard))
        rebalance(yard)
        wait_number(page, f"{port} [data-field=drawn]", 20)
        for line in (1, 2, 3):
            wait_number(
                page, f'[data-lines="{circuit}"] [data-field=drawn][data-line="{line}"]', 20
            )
        assert page.evaluate("window.__sameDocument") is True
        assert page.evaluate("document.getElementById('power-tree').dataset.updatedAt") != ""
        assert page_errors(page) == []
    finally:
        try:
            loop.run(station.close(), timeout=10)
        except Exception:  # a station that already dropped its socket
            pass


def rebalance_with_session(yard: Yard) -> None:
    """What the worker does on session.started: the session comes under management, and the
    site is rebalanced (the profile goes to the station through the core's command service)."""
    from apps.charging.models import ChargingSession
    from apps.power import services

    def run():
        session = ChargingSession.objects.get(station=yard.station, status="active")
        services.session_power_start(session_id=session.pk)
        services.site_rebalance(site_id=yard.site.pk)

    in_tenant(yard, run)


def rebalance(yard: Yard) -> None:
    from apps.power import services

    in_tenant(yard, lambda: services.site_rebalance(site_id=yard.site.pk))


def wait_draw(yard: Yard, timeout: float = 20) -> None:
    """Until the server has recorded the vehicle's draw from its meter values."""
    import time

    from apps.power.models import SessionPower

    deadline = time.monotonic() + timeout
    while not SessionPower.objects.filter(
        session__station=yard.station, draw_a__isnull=False
    ).exists():
        if time.monotonic() > deadline:
            raise AssertionError("the draw was not recorded")
        time.sleep(0.1)
