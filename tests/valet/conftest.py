"""The valet persona: the built-in valet role on site A1 only."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def valet(personas, alpha_sites):
    from apps.roles.services import role_assign, role_by_slug

    user = UserFactory(email="valet@alpha.test")
    role_assign(
        user=user, role=role_by_slug("valet"), sites=[alpha_sites[0]], granted_by=personas.owner
    )
    return user
