"""A small network in tenant alpha: site A1 (two stations), site A2 (one), plus a session on
each site, so that every page has something to show and something to hide."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.portal.factories import make_session, make_station


@dataclass
class Network:
    a1_station: object
    a1_station_2: object
    a2_station: object
    a1_session: object
    a2_session: object


@pytest.fixture
def network(personas, alpha_sites):
    a1, a2 = alpha_sites
    s1 = make_station(a1, "A1-CHARGER-1", statuses=("Available", "Charging"))
    s2 = make_station(a1, "A1-CHARGER-2", statuses=("Faulted",), vendor="Grizzl-E")
    s3 = make_station(a2, "A2-CHARGER-1", statuses=("Available",), version="2.0.1")
    return Network(
        a1_station=s1,
        a1_station_2=s2,
        a2_station=s3,
        a1_session=make_session(s1, evse_id=2, token="A1-TOKEN", energy_wh=5200),
        a2_session=make_session(s3, token="A2-TOKEN", energy_wh=7100),
    )
