"""SMS behind one narrow interface: ``backend().send(to=..., body=...)``.

Backends: the console (development), an in-memory outbox (tests) and Twilio's Messages API over
plain HTTP (``requests``), which several providers also offer.  A failed send raises
``SmsError``; the notification service retries with back-off."""

from __future__ import annotations

import logging
from typing import Protocol

import requests
from django.utils.module_loading import import_string

from . import conf

logger = logging.getLogger(__name__)


class SmsError(Exception):
    pass


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Send; return the provider's message id."""


class ConsoleSmsBackend:
    def send(self, *, to: str, body: str) -> str:
        logger.info("SMS to %s: %s", to, body)
        print(f"SMS to {to}: {body}")  # noqa: T201 - the console backend's whole point
        return "console"


class LocmemSmsBackend:
    outbox: list[dict[str, str]] = []

    def send(self, *, to: str, body: str) -> str:
        self.outbox.append({"to": to, "body": body})
        return f"locmem-{len(self.outbox)}"


class TwilioSmsBackend:
    """``POST {base}/2010-04-01/Accounts/{account}/Messages.json`` with Basic auth."""

    def __init__(self) -> None:
        self.base = (conf.get("SMS_API_BASE") or "https://api.twilio.com").rstrip("/")
        self.account = conf.get("SMS_ACCOUNT", "")
        self.token = conf.get("SMS_TOKEN", "")
        self.sender = conf.get("SMS_FROM", "")
        self.timeout = float(conf.get("SMS_TIMEOUT", 10))

    def send(self, *, to: str, body: str) -> str:
        if not (self.account and self.token and self.sender):
            raise SmsError("The SMS provider is not configured.")
        url = f"{self.base}/2010-04-01/Accounts/{self.account}/Messages.json"
        try:
            response = requests.post(
                url,
                data={"To": to, "From": self.sender, "Body": body},
                auth=(self.account, self.token),
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise SmsError(f"The SMS provider could not be reached: {error}") from error
        if response.status_code >= 300:
            raise SmsError(
                f"The SMS provider answered {response.status_code}: {response.text[:200]}"
            )
        return str(response.json().get("sid", ""))


def backend() -> SmsBackend:
    path = conf.get("SMS_BACKEND") or "apps.notifications.sms.ConsoleSmsBackend"
    return import_string(path)()
