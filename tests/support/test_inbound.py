"""Inbound e-mail: a real Postmark inbound payload (the format anymail parses) posted to the
platform's webhook with its basic auth, threaded into the case in its tenant."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test import Client

from apps.support import links, services
from apps.support.choices import AuthorKind, Source
from apps.support.models import CaseMessage

SECRET = "inbound:s3cret-webhook"


def postmark_payload(*, to: str, sender: str, subject: str, text: str, message_id: str) -> dict:
    """Shaped like Postmark's documented inbound webhook body."""
    return {
        "FromName": "Ana Driver",
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Ana Driver", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": message_id,
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Tue, 14 Jan 2025 09:15:32 -0800",
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{sender}>"},
            {"Name": "Message-ID", "Value": f"<{message_id}@mail.example.org>"},
        ],
        "Attachments": [],
    }


@pytest.fixture
def webhook(settings, alpha):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.SUPPORT_REPLY_DOMAIN = "reply.test"
    client = Client(HTTP_HOST="localhost")  # the platform's public host: one route for all
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()

    def post(payload, *, authorization=auth):
        response = client.post(
            "/support/inbound/postmark/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=authorization,
        )
        connection.set_tenant(alpha)  # the request left the connection on the public schema
        return response

    return post


@pytest.fixture
def case(desk, personas):
    case = services.case_open(
        requester_kind="driver",
        requester_email="ana@example.org",
        subject="Card refused",
        category="card_refused",
        description="My card was refused at the station.",
        source=Source.PUBLIC,
        station=desk.station_a1,
    )
    services.case_reply(
        case=case, body="Which card?", author_user=personas.owner, source=Source.PORTAL
    )
    return case


def test_a_reply_to_the_cases_address_joins_the_conversation_once(webhook, case, alpha):
    address = links.reply_address(case)
    payload = postmark_payload(
        to=address,
        sender="ana@example.org",
        subject=f"Re: [{links.reference(case)}] Card refused",
        text="The blue one, ending 4411.\n\nOn Tue, Jan 14, 2025 Support wrote:\n> Which card?",
        message_id="a8c1040e-1111",
    )
    assert webhook(payload).status_code == 200
    assert webhook(payload).status_code == 200  # the provider retried: kept once
    message = CaseMessage.objects.get(case=case, source=Source.EMAIL)
    assert message.author_kind == AuthorKind.REQUESTER
    assert message.body == "The blue one, ending 4411."


def test_the_subject_reference_is_enough_for_the_requester_or_staff_only(
    webhook, case, personas, alpha
):
    subject = f"Re: [{links.reference(case)}] Card refused"
    stranger = postmark_payload(
        to="support@reply.test",
        sender="mallory@example.net",
        subject=subject,
        text="Close this case please",
        message_id="m-1",
    )
    assert webhook(stranger).status_code == 200
    assert not CaseMessage.objects.filter(case=case, source=Source.EMAIL).exists()
    staff = postmark_payload(
        to="support@reply.test",
        sender=personas.owner.email,
        subject=subject,
        text="We reset your card's access.",
        message_id="m-2",
    )
    assert webhook(staff).status_code == 200
    message = CaseMessage.objects.get(case=case, source=Source.EMAIL)
    assert message.author_kind == AuthorKind.STAFF and message.author_user == personas.owner


def test_a_forged_reply_address_or_no_auth_is_refused(webhook, case, alpha):
    forged = links.reply_address(case).replace(".", ".", 1)
    local, domain = forged.split("@")
    forged = local[:-4] + "0000@" + domain
    payload = postmark_payload(
        to=forged, sender="x@example.net", subject="hi", text="hello", message_id="f-1"
    )
    assert webhook(payload).status_code == 200
    assert not CaseMessage.objects.filter(case=case, source=Source.EMAIL).exists()
    assert webhook(payload, authorization="Basic bm9wZTpub3Bl").status_code == 400


def test_without_a_webhook_secret_inbound_mail_is_off(settings, db):
    settings.ANYMAIL = {}
    response = Client(HTTP_HOST="localhost").post(
        "/support/inbound/postmark/", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
