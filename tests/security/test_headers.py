"""Every page carries a Content-Security-Policy that allows no inline script, and the pages
themselves hold none (the browser test, tests/browser/test_csp.py, checks that they still
work under it)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import host_of


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


PAGES = [
    ("/accounts/login/", False),
    ("/accounts/password-reset/", False),
    ("/dashboard/", True),
    ("/dashboard/map/", True),
    ("/power/sites/{site}/", True),
    ("/people/", True),
    ("/api/v1/docs/", True),
]


@pytest.mark.parametrize("path,signed_in", PAGES)
def test_pages_carry_a_strict_policy(personas, alpha_sites, client_for, path, signed_in):
    path = path.format(site=alpha_sites[0].pk)
    response = client_for(personas.owner if signed_in else None).get(path)
    assert response.status_code == 200, path
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    script = csp["script-src"]
    assert "'self'" in script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    page = response.content.decode()
    # No inline script (JSON data blocks are not run) and no inline event handler.
    inline = r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>"
    assert not re.search(inline, page), path
    assert not re.search(r"\son[a-z]+=", page), path
    # A <style> element carries this response's nonce.
    nonces = [value for value in csp["style-src"] if value.startswith("'nonce-")]
    for tag in re.findall(r"<style[^>]*>", page):
        assert nonces and f'nonce="{nonces[0][7:-1]}"' in tag, (path, tag)


def test_the_map_tiles_are_allowed_as_images(personas, client_for, settings):
    response = client_for(personas.owner).get("/dashboard/")
    assert "https://tile.openstreetmap.org" in policy(response)["img-src"]


def test_the_public_landing_page_carries_it_too(client, alpha):
    from django.conf import settings as conf

    response = client.get("/", HTTP_HOST=conf.BASE_DOMAIN)
    assert "Content-Security-Policy" in response, host_of(alpha)
