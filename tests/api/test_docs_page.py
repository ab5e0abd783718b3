"""Swagger UI is served from our own static files: the docs page must work on a machine with no
internet, so it references nothing outside this site and everything it references exists."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

START_SCRIPT = "/api/v1/docs/?script="


class References(HTMLParser):
    """Every URL the page makes the browser load (scripts, styles, icons, images, frames)."""

    ATTRIBUTES = {"src", "href", "data", "poster", "srcset"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script" and not dict(attrs).get("src")
        self.urls += [value for name, value in attrs if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


def docs_page(api_for, personas) -> References:
    response = api_for(personas.owner).get("/api/v1/docs/")
    assert response.status_code == 200
    page = References()
    page.feed(response.content.decode())
    return page


def test_the_docs_page_loads_swagger_ui_from_our_static_files(api_for, personas):
    page = docs_page(api_for, personas)
    assert page.urls, "the page should load Swagger UI"
    for url in page.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url}: loaded from another site"
        if url == START_SCRIPT:
            continue  # Swagger UI's start-up script, from this page's own address (CSP)
        assert url.startswith(settings.STATIC_URL), f"{url}: not one of our static files"
        path = url.removeprefix(settings.STATIC_URL)
        assert finders.find(path), f"{url}: no such static file"
    loaded = {urlsplit(url).path.removeprefix(settings.STATIC_URL) for url in page.urls}
    assert {
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "vendor/swagger-ui/swagger-ui-standalone-preset.js",
        "vendor/swagger-ui/swagger-ui.css",
    } <= loaded


def test_the_start_up_script_asks_no_other_site(api_for, personas):
    page = docs_page(api_for, personas)
    # No inline script (the Content-Security-Policy allows none): it is loaded from the page's
    # own address.
    assert page.inline_scripts == [] and START_SCRIPT in page.urls
    response = api_for(personas.owner).get(START_SCRIPT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    script = response.content.decode()
    assert "SwaggerUIBundle(" in script
    # Only the schema, on this host; and no online-validator badge.
    assert re.findall(r"https?://", script) == []
    assert '"validatorUrl": null' in script
    assert '"/api/v1/schema/"' in script


def test_the_vendored_files_are_swagger_ui_with_its_licence():
    bundle = finders.find("vendor/swagger-ui/swagger-ui-bundle.js")
    with open(bundle, encoding="utf-8") as handle:
        text = handle.read()
    assert "SwaggerUIBundle" in text
    assert "sourceMappingURL" not in text  # the .map files are not shipped
    for name in ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"):
        assert finders.find(f"vendor/swagger-ui/{name}"), name
