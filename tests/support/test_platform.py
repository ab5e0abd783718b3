"""The platform operator's support desk on the public host: cases of every tenant, for
public-schema staff only; answers go through each tenant's own services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from apps.accounts.models import User
from apps.notifications.models import Notification
from apps.support import services
from apps.support.choices import AuthorKind, CaseStatus, Source

PUBLIC_HOST = "localhost"


def manager_case(subject: str, user, **extra):
    return services.case_open(
        requester_kind="manager",
        requester_email=user.email,
        requester_user=user,
        subject=subject,
        category="configuration",
        description="Please help.",
        source=Source.PORTAL,
        **extra,
    )


@pytest.fixture
def operators(alpha):
    """Two people of the public schema: an operator (staff) and someone who is not."""
    connection.set_schema_to_public()
    staff = User.objects.create_user("desk@platform.test", "pw", is_staff=True)
    plain = User.objects.create_user("plain@platform.test", "pw")
    connection.set_tenant(alpha)
    return staff, plain


def public_client(user=None) -> Client:
    client = Client(HTTP_HOST=PUBLIC_HOST)
    if user is not None:
        connection.set_schema_to_public()
        client.force_login(user)
    return client


def test_the_desk_lists_platform_cases_of_every_tenant(alpha, beta, personas, operators):
    in_alpha = manager_case("Alpha needs help", personas.owner)
    alpha_own = manager_case("Alpha's own queue", personas.owner, queue="tenant")
    connection.set_tenant(beta)
    in_beta = manager_case("Beta needs help", User.objects.get(email="owner@beta.test"))
    staff, plain = operators

    desk = public_client(staff)
    page = desk.get("/platform/support/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-case="alpha:{in_alpha.pk}"' in html and f'data-case="beta:{in_beta.pk}"' in html
    assert "Alpha&#x27;s own queue" not in html and "Alpha's own queue" not in html
    everyone = desk.get("/platform/support/", {"queue": ""}).content.decode()
    assert f'data-case="alpha:{alpha_own.pk}"' in everyone

    # Not platform staff, nobody, a tenant's host: nothing.
    assert public_client(plain).get("/platform/support/").status_code == 302
    assert public_client().get("/platform/support/").status_code == 302
    assert public_client().get(f"/platform/support/alpha/{in_alpha.pk}/").status_code == 302
    alpha_host = Client(HTTP_HOST=alpha.get_primary_domain().domain)
    assert alpha_host.get("/platform/support/").status_code == 404
    assert desk.get("/platform/support/nosuch/1/").status_code == 404
    assert desk.get("/platform/support/alpha/999999/").status_code == 404


def test_the_desk_answers_in_the_tenants_schema(alpha, personas, operators):
    case = manager_case("Alpha needs help", personas.owner)
    staff, _ = operators
    desk = public_client(staff)
    detail = desk.get(f"/platform/support/alpha/{case.pk}/")
    assert detail.status_code == 200 and "Please help." in detail.content.decode()
    response = desk.post(
        f"/platform/support/alpha/{case.pk}/reply/",
        {"body": "Add the port in Stations > Ports.", "then": "resolved"},
    )
    assert response.status_code == 302
    connection.set_tenant(alpha)
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.first_responded_at is not None
    answer = case.messages.get(author_kind=AuthorKind.PLATFORM)
    assert answer.author_label == "desk@platform.test (platform support)"
    assert answer.author_user_id is None and answer.source == Source.PLATFORM
    assert Notification.objects.filter(kind="support.message").exists()  # e-mailed
    # the status line names the operator too
    assert case.messages.filter(
        author_kind=AuthorKind.SYSTEM, author_label__contains="platform support"
    ).exists()
    desk.post(f"/platform/support/alpha/{case.pk}/update/", {"status": "open", "queue": "tenant"})
    connection.set_tenant(alpha)
    case.refresh_from_db()
    assert (case.status, case.queue) == ("open", "tenant")
    # a plain public user cannot answer
    plain = public_client(operators[1])
    assert plain.post(f"/platform/support/alpha/{case.pk}/reply/", {"body": "x"}).status_code == 302
    connection.set_tenant(alpha)
    assert case.messages.filter(body="x").count() == 0
