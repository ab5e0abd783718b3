from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from apps.charging.models import IdToken
from tests.api.conftest import make_session, make_station
from tests.browser.conftest import (  # noqa: F401  (the browser suite's fixtures, for test_browser)
    browser,
    live_db,
    network,
    portal_server,
    sign_in,
)


@dataclass
class Desk:
    station_a1: object
    station_a2: object
    session_a1: object


@pytest.fixture
def desk(personas, alpha_sites):
    token = IdToken.objects.create(uid="SUPPORT-TOKEN-1")
    a1 = make_station(alpha_sites[0], "SUP-A1", online=False)
    a2 = make_station(alpha_sites[1], "SUP-A2", online=False)
    session = make_session(a1, uid=token.uid, token=token)
    return Desk(station_a1=a1, station_a2=a2, session_a1=session)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
