"""Portal sign-in: wrong passwords in a row lock the e-mail address out from that client
address (even the right password is then refused) until the cool-off has passed; the lockout
lives in the tenant's own schema."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import Client

from tests.conftest import PASSWORD, host_of

LOGIN = "/accounts/login/"
EMAIL = "owner@alpha.test"


def sign_in(tenant, password: str, *, address: str = "203.0.113.7", email: str = EMAIL):
    client = Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": email, "password": password})
    return client, response


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(tenant, times: int, **kwargs) -> None:
    for _ in range(times):
        client, response = sign_in(tenant, "not-the-password", **kwargs)
        assert response.status_code == 200 and not signed_in(client)


def lock_out(tenant, **kwargs) -> None:
    """Wrong passwords up to the limit: the one that reaches it is answered with the lockout."""
    fail(tenant, settings.AXES_FAILURE_LIMIT - 1, **kwargs)
    client, response = sign_in(tenant, "not-the-password", **kwargs)
    assert response.status_code == 429 and not signed_in(client)


def test_the_limit_is_a_few_failures_and_a_cool_off_of_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_wrong_passwords_lock_out_even_the_right_one(alpha):
    fail(alpha, settings.AXES_FAILURE_LIMIT - 1)
    client, response = sign_in(alpha, PASSWORD)  # one short of the limit: still accepted
    assert response.status_code == 302 and signed_in(client)

    # A success resets the count; then the limit in a row locks the address out.
    lock_out(alpha)
    for attempt in range(3):
        client, response = sign_in(alpha, PASSWORD)
        assert response.status_code == 429, attempt
        assert not signed_in(client)
        assert "Sign-in paused" in response.content.decode()

    # The same person from another address, and another person from this one, are not locked.
    client, response = sign_in(alpha, PASSWORD, address="198.51.100.20")
    assert response.status_code == 302 and signed_in(client)
    # The lockout is recorded in the tenant's schema, not in public.
    assert AccessAttempt.objects.filter(username=EMAIL, ip_address="203.0.113.7").exists()
    connection.set_schema_to_public()
    assert not AccessAttempt.objects.filter(username=EMAIL).exists()
    connection.set_tenant(alpha)


def test_the_lockout_ends_after_the_cool_off(alpha):
    lock_out(alpha)
    assert sign_in(alpha, PASSWORD)[1].status_code == 429
    # Just short of the cool-off: still locked.
    almost = settings.AXES_COOLOFF_TIME - settings.AXES_COOLOFF_TIME / 10
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - almost)
    assert sign_in(alpha, PASSWORD)[1].status_code == 429
    # (A failure while locked starts the cool-off again: the refused sign-ins above did not.)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME)
    client, response = sign_in(alpha, PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_one_tenants_lockout_does_not_reach_another_tenant(alpha, beta):
    # The same e-mail address at two networks is two people with two counts.
    lock_out(alpha, email="owner@beta.test")
    assert sign_in(alpha, PASSWORD, email="owner@beta.test")[1].status_code == 429
    client, response = sign_in(beta, PASSWORD, email="owner@beta.test")
    assert response.status_code == 302


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_locked_page_speaks_the_persons_language(alpha, language):
    lock_out(alpha)
    client = Client(HTTP_HOST=host_of(alpha), REMOTE_ADDR="203.0.113.7")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(LOGIN, {"username": EMAIL, "password": PASSWORD})
    assert response.status_code == 429
    page = response.content.decode()
    expected = {"en": "Sign-in paused", "fr": "Connexion suspendue"}[language]
    assert expected in page
