"""Self-service password reset: the e-mail arrives (in the person's language) with a link to
this network's own address, the link sets a new password once, and nobody learns whether an
address has an account."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from apps.accounts.models import User
from tests.conftest import PASSWORD, host_of

RESET = "/accounts/password-reset/"
NEW_PASSWORD = "a-new-long-passphrase-42"


def client_of(tenant, language: str = "en") -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def reset_link(message) -> str:
    match = re.search(r"(\S+)://(\S+?)(/accounts/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(0)


def test_the_sign_in_page_offers_the_reset(alpha):
    page = client_of(alpha).get("/accounts/login/").content.decode()
    assert f'href="{RESET}"' in page and "Forgot your password?" in page


def test_the_email_link_sets_a_new_password_once(alpha):
    client = client_of(alpha)
    response = client.post(RESET, {"email": "Owner@Alpha.test"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@alpha.test"]
    assert message.subject == "Choose a new password for Alpha"
    link = reset_link(message)
    # The link leads to this network's own address, with the portal's scheme.
    assert link.startswith(f"{settings.PORTAL_URL_SCHEME}://{host_of(alpha)}/")

    path = link.split(host_of(alpha), 1)[1]
    form = client.get(path, follow=True)  # Django swaps the token for a session marker
    assert form.status_code == 200 and 'id="set-password-form"' in form.content.decode()
    form_url = form.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/done/"

    owner = User.objects.get(email="owner@alpha.test")
    assert owner.check_password(NEW_PASSWORD) and not owner.check_password(PASSWORD)
    fresh = Client(HTTP_HOST=host_of(alpha))
    signed = fresh.post("/accounts/login/", {"username": owner.email, "password": NEW_PASSWORD})
    assert signed.status_code == 302 and "_auth_user_id" in fresh.session

    # The link works once.
    again = client_of(alpha).get(path, follow=True).content.decode()
    assert "This link is not valid" in again


def test_an_unknown_address_gets_the_same_answer_and_no_email(alpha):
    response = client_of(alpha).post(RESET, {"email": "nobody@alpha.test"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_a_person_of_another_network_is_not_found_here(alpha, beta):
    # owner@beta.test lives in beta's schema: asking on alpha's address sends nothing.
    client_of(alpha).post(RESET, {"email": "owner@beta.test"})
    assert mail.outbox == []
    client_of(beta).post(RESET, {"email": "owner@beta.test"})
    assert len(mail.outbox) == 1 and host_of(beta) in reset_link(mail.outbox[0])


def test_a_link_of_one_network_does_not_work_on_another(alpha, beta):
    client_of(alpha).post(RESET, {"email": "owner@alpha.test"})
    path = reset_link(mail.outbox[0]).split(host_of(alpha), 1)[1]
    page = client_of(beta).get(path, follow=True).content.decode()
    assert "This link is not valid" in page


@pytest.mark.parametrize(
    "language,texts",
    [
        ("en", ["Forgot your password?", "Send the link", "Choose a new password for Alpha"]),
        ("fr", ["Mot de passe oublié ?", "Envoyer le lien", "Choisir un nouveau mot de passe"]),
    ],
)
def test_the_pages_and_the_email_speak_the_persons_language(alpha, language, texts):
    client = client_of(alpha, language)
    form_text, button, subject = texts
    page = client.get(RESET).content.decode()
    assert form_text in page and button in page
    client.post(RESET, {"email": "owner@alpha.test"})
    assert subject in mail.outbox[0].subject
