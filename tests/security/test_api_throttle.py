"""API rate limits: over the limit the API answers 429 with Retry-After in its error format;
each API key has its own allowance, failed keys count against the address, and one tenant's
counters are not another's."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.db import connection

from apps.roles.services import api_key_create
from tests.api.conftest import api_client


@pytest.fixture
def rates(settings):
    """Small limits, and counters of their own: a client address of the test's own."""
    address = f"192.0.2.{uuid.uuid4().int % 250 + 1}"

    def set_rates(address_rate=None, caller_rate=None):
        settings.API_THROTTLE_RATES = {"address": address_rate, "caller": caller_rate}
        # (keys and people are new rows in every test: their counters start empty)
        cache.delete(f"throttle_address_{address}")
        return address

    return set_rates


def throttled(response) -> None:
    assert response.status_code == 429, response.content[:200]
    assert 1 <= int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "throttled" and "throttled" in error["message"].lower()


def test_a_key_over_its_limit_gets_429_with_retry_after(personas, alpha, rates):
    address = rates(caller_rate="3/min")
    _, key = api_key_create(
        name="busy", created_by=personas.owner, permissions=["*"], all_sites=True
    )
    _, other = api_key_create(
        name="calm", created_by=personas.owner, permissions=["*"], all_sites=True
    )
    client = api_client(alpha, key=key)
    for _ in range(3):
        assert client.get("/api/v1/sites/", REMOTE_ADDR=address).status_code == 200
    throttled(client.get("/api/v1/sites/", REMOTE_ADDR=address))
    # Another key of the same person has its own allowance.
    assert api_client(alpha, key=other).get("/api/v1/sites/").status_code == 200


def test_a_signed_in_person_is_limited_too(personas, alpha, rates):
    address = rates(caller_rate="2/min")
    client = api_client(alpha, user=personas.delegate)
    for _ in range(2):
        assert client.get("/api/v1/me/", REMOTE_ADDR=address).status_code == 200
    throttled(client.get("/api/v1/me/", REMOTE_ADDR=address))


def test_guessing_keys_counts_against_the_address(alpha, rates):
    address = rates(address_rate="5/min")
    guesser = api_client(alpha, key="cg_nothing_guessed")
    for _ in range(5):
        assert guesser.get("/api/v1/sites/", REMOTE_ADDR=address).status_code == 401
    throttled(guesser.get("/api/v1/sites/", REMOTE_ADDR=address))


def test_one_tenants_counters_are_its_own(personas, alpha, beta, rates):
    address = rates(address_rate="2/min")
    for _ in range(2):
        api_client(alpha).get("/api/v1/sites/", REMOTE_ADDR=address)
    throttled(api_client(alpha).get("/api/v1/sites/", REMOTE_ADDR=address))
    connection.set_tenant(beta)
    assert api_client(beta).get("/api/v1/sites/", REMOTE_ADDR=address).status_code == 401
    connection.set_tenant(alpha)


def test_the_default_rates_are_set():
    from config.settings import security

    assert security.API_THROTTLE_RATES == {"address": "1200/min", "caller": "600/min"}
