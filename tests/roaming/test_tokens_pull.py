"""Tokens pull (OCPI 2.2.1 tokens module, CPO as receiver pulling from the eMSP's SENDER
endpoint): every page followed through the peer's Link headers, then only what changed since
the last complete pull (date_from); a partner that is down leaves the pull point where it was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.roaming import services
from apps.roaming.models import Partner, RemoteToken

from .conftest import ALPHA_HOST


def token(uid: str, updated: dt.datetime, **fields) -> dict:
    return {
        "country_code": "NL",
        "party_id": "EMS",
        "uid": uid,
        "type": "RFID",
        "contract_id": f"NL-EMS-C{uid}",
        "issuer": "Peer eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }


def pulls(peer) -> list[dict]:
    return [
        r
        for r in peer.state()["received"]
        if r["method"] == "GET" and r["path"] == "/ocpi/2.2.1/tokens"
    ]


@pytest.mark.slow
def test_tokens_are_pulled_page_by_page_then_incrementally(live_alpha, peer):
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    tokens = [token(f"PULL{n}", hour_ago + dt.timedelta(minutes=n)) for n in range(5)]
    broken = {**token("BROKEN", hour_ago), "whitelist": "SOMETIMES"}
    peer.control("set", {"tokens": [*tokens, broken]})
    invited = services.partner_invite(name="Peer eMSP")
    registered = peer.control(
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    partner = Partner.objects.get(pk=invited.pk)

    with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True):
        before = timezone.now().replace(microsecond=0)
        assert services.tokens_pull(partner=partner) == 5
        # six tokens, pages of two: three GETs, the first without date_from
        first = pulls(peer)
        assert len(first) == 3 and "date_from" not in first[0]["query"]
        assert [r["query"]["offset"] for r in first] == [["0"], ["2"], ["4"]]
        assert set(RemoteToken.objects.values_list("uid", flat=True)) == {
            f"PULL{n}" for n in range(5)
        }
        partner.refresh_from_db()
        assert partner.tokens_pulled_at >= before
        assert "1 invalid" in partner.last_error  # the broken one, skipped

        # one token blocked, one new: the next pull asks from the last one's start
        tokens[2] = token("PULL2", timezone.now(), valid=False)
        tokens.append(token("PULL9", timezone.now(), whitelist="ALWAYS"))
        peer.control("set", {"tokens": [*tokens, broken]})
        first_pulled = partner.tokens_pulled_at
        assert services.tokens_pull(partner=partner) == 2
        second = pulls(peer)[3:]
        assert len(second) == 1
        assert second[0]["query"]["date_from"] == [first_pulled.strftime("%Y-%m-%dT%H:%M:%SZ")]
        assert RemoteToken.objects.get(uid="PULL2").valid is False
        assert RemoteToken.objects.get(uid="PULL9").whitelist == "ALWAYS"
        assert RemoteToken.objects.count() == 6

        # the partner is down: the pull fails and its point stays where it was
        partner.refresh_from_db()
        pulled_at = partner.tokens_pulled_at
        peer.control("set", {"down": True})
        with pytest.raises(services.PullError):
            services.tokens_pull(partner=partner)
        partner.refresh_from_db()
        assert partner.tokens_pulled_at == pulled_at and "Tokens pull" in partner.last_error
        peer.control("set", {"down": False})
        # a full pull reads everything again
        assert services.tokens_pull(partner=partner, full=True) == 6
        assert "date_from" not in pulls(peer)[-4]["query"]
