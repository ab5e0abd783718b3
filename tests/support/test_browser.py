"""In Chromium, on a phone-sized screen: a driver opens a case from a station's help page (a
signed link vouches for their e-mail), then a staff member answers it with a canned answer and
resolves it in the portal; the driver sees the answer on their page."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url, watch_errors
from tests.live import blocking

pytestmark = pytest.mark.slow


def _prepare(network):
    from apps.support import links, services

    with tenant_context(network.tenant):
        title = f"Reset {uuid.uuid4().hex[:6]}"
        services.canned_answer_create(title=title, body="We reset the station for you.")
        path = links.sign_open_link(
            email="ana.browser@example.org", station=network.station_a.identity
        )
    return title, path


def _case_state(network, subject):
    from apps.support.models import Case

    with tenant_context(network.tenant):
        case = Case.objects.get(subject=subject)
        return case.status, [(m.author_kind, m.body) for m in case.messages.all()]


def test_a_staff_member_answers_and_resolves_a_drivers_case(
    network, portal_server, sign_in, browser
):
    title, open_path = blocking(lambda: _prepare(network))
    subject = f"Charging stopped {network.tag}"
    phone = browser.new_context(viewport={"width": 375, "height": 740}, locale="en")
    try:
        driver = phone.new_page()
        watch_errors(driver)
        driver.goto(portal_url(network, portal_server, open_path))
        assert network.station_a.name in driver.inner_text("#attached-station")
        driver.select_option("#id_category", "charge_failed")
        driver.fill("#id_subject", subject)
        driver.fill("#id_description", "It stopped after a minute.")
        assert driver.input_value("#id_email") == "ana.browser@example.org"
        driver.click("#open-form button[type=submit]")
        driver.wait_for_selector("#public-status[data-status=new]")
        driver_url = driver.url

        staff = sign_in(network.host, "owner@alpha.test")
        staff.set_viewport_size({"width": 375, "height": 740})
        staff.goto(portal_url(network, portal_server, "/support/"))
        staff.click(f"#case-list a:has-text('{subject}')")
        staff.wait_for_selector("#reply-form")
        staff.select_option("#canned-answer", label=title)
        assert staff.input_value("#id_body") == "We reset the station for you."
        staff.select_option("#id_then", "resolved")
        staff.click("#reply-form button[type=submit]")
        staff.wait_for_selector("#case-status[data-status=resolved]")
        assert "We reset the station for you." in staff.inner_text("#conversation")
        assert page_errors(staff) == []

        status, conversation = blocking(lambda: _case_state(network, subject))
        assert status == "resolved"
        assert ("staff", "We reset the station for you.") in conversation

        driver.goto(driver_url)
        driver.wait_for_selector("#public-status[data-status=resolved]")
        assert "We reset the station for you." in driver.inner_text(".conversation")
        assert page_errors(driver) == []
    finally:
        phone.close()
