"""Imports of cards and groups from CSV and XLSX: every bad row reported with its line, nothing
imported unless asked to keep the good rows, a dry run, existing cards kept as they are; the
API and the portal page."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.access import imports
from apps.access.models import AccessGroup
from apps.charging.models import IdToken
from apps.charging.services import token_create
from tests.api.conftest import api_client

CSV = (
    b"Token,Groups,Label,Expires,Parent\n"
    b"CARD-1,Staff;Night shift,Ann,2027-12-31,FLEET-A\n"
    b",Staff,no id,,\n"  # line 3: no token
    b"CARD-2,Staff,Bob,31/12/2027,\n"  # line 4: not a date
    b"CARD-1,Staff,again,,\n"  # line 5: twice
    b"\n"
    b"OLD-1,Night shift,renamed,,\n"
)


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(alpha):
    report = imports.tokens_import(content=CSV, filename="cards.csv")
    assert not report.imported and report.good == 2
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "token"),
        (4, "expires"),
        (5, "token"),
    ]
    assert "line 2" in report.errors[2].message
    assert not IdToken.objects.filter(uid="CARD-1").exists()
    assert not AccessGroup.objects.exists()


def test_the_good_rows_are_kept_when_asked(alpha):
    old = token_create(uid="OLD-1", label="Olga")
    dry = imports.tokens_import(content=CSV, filename="cards.csv", keep_good=True, dry_run=True)
    assert not dry.imported and not IdToken.objects.filter(uid="CARD-1").exists()
    report = imports.tokens_import(content=CSV, filename="cards.csv", keep_good=True)
    assert report.imported and report.tokens_created == 1 and report.groups_created == 2
    assert report.memberships_added == 3
    card = IdToken.objects.get(uid="CARD-1")
    assert card.label == "Ann" and card.parent_uid == "FLEET-A"
    assert card.expires_at == dt.datetime(2027, 12, 31, tzinfo=dt.UTC)
    assert sorted(card.access_groups.values_list("name", flat=True)) == ["Night shift", "Staff"]
    old.refresh_from_db()
    assert old.label == "Olga"  # an existing card keeps its own fields
    assert list(old.access_groups.values_list("name", flat=True)) == ["Night shift"]
    again = imports.tokens_import(content=CSV, filename="cards.csv", keep_good=True)
    assert again.tokens_created == 0 and again.memberships_added == 0  # idempotent


def _xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_thousands_of_rows_from_xlsx_through_the_api(alpha, personas):
    rows = [["token", "groups"]] + [[f"FLEET-{n:05d}", f"Depot {n % 10}"] for n in range(3000)]
    rows.append(["", "Depot 1"])  # line 3002
    content = _xlsx(rows)
    owner = api_client(alpha, user=personas.owner)

    def post(**fields):
        upload = SimpleUploadedFile("cards.xlsx", content)
        return owner.post("/api/v1/access/groups/import/", {"file": upload, **fields})

    refused = post()
    assert refused.status_code == 200, refused.content
    assert refused.json()["imported"] is False
    assert refused.json()["errors"] == [{"line": 3002, "field": "token", "message": "No token."}]
    started = time.perf_counter()
    kept = post(keep_good="true").json()
    elapsed = time.perf_counter() - started
    assert kept["imported"] and kept["tokens_created"] == 3000 and kept["groups_created"] == 10
    assert AccessGroup.objects.get(name="Depot 3").tokens.count() == 300
    assert elapsed < 60, elapsed
    bad = owner.post(
        "/api/v1/access/groups/import/",
        {"file": SimpleUploadedFile("x.csv", b"name\nfoo\n")},
    )
    assert bad.status_code == 400 and "file" in bad.json()["error"]["details"]


def test_importing_needs_the_token_permission_on_every_site(alpha, personas, alpha_sites):
    from apps.roles.models import Role
    from apps.roles.services import role_assign
    from tests.factories import UserFactory

    role = Role.objects.create(slug="groups-only", name="Groups", permissions=["access.manage"])
    keeper = UserFactory(email="groups@alpha.test")
    role_assign(user=keeper, role=role, all_sites=True, granted_by=personas.owner)
    answer = api_client(alpha, user=keeper).post(
        "/api/v1/access/groups/import/", {"file": SimpleUploadedFile("c.csv", CSV)}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("keep_good", [False, True])
def test_the_portal_import_page(personas, client_for, keep_good):
    owner = client_for(personas.owner)
    assert owner.get(reverse("access:group_import")).status_code == 200
    data = {"file": SimpleUploadedFile("cards.csv", CSV)}
    if keep_good:
        data["keep_good"] = "on"
    html = owner.post(reverse("access:group_import"), data).content.decode()
    assert 'data-line="4"' in html and "is not a date" in html
    assert (f'data-imported="{int(keep_good)}"') in html
    assert IdToken.objects.filter(uid="CARD-1").exists() is keep_good
