"""English and French: every message of the catalogue is translated, the compiled catalogue
matches it, and the portal speaks French to a French-speaking person."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr / msgstr[n]."""
    entries, entry, field = [], {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, field = {}, None
        elif line.startswith("#"):
            if line.startswith("#~"):
                entry["obsolete"] = True
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return [e for e in entries if e.get("msgid") and not e.get("obsolete")]


def test_every_message_is_translated_to_french():
    entries = read_po(LOCALE / "django.po")
    assert len(entries) > 300
    untranslated = [
        e["msgid"]
        for e in entries
        if not (e.get("msgstr") or (e.get("msgstr[0]") and e.get("msgstr[1]")))
    ]
    assert not untranslated, f"Not translated: {untranslated[:20]}"


def test_the_compiled_catalogue_is_up_to_date():
    with open(LOCALE / "django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for entry in read_po(LOCALE / "django.po"):
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            got = catalogue.pgettext(entry["msgctxt"], msgid)
            want = entry["msgstr"]
        elif "msgid_plural" in entry:
            got = catalogue.ngettext(msgid, entry["msgid_plural"], 1)
            want = entry["msgstr[0]"]
        else:
            got, want = catalogue.gettext(msgid), entry["msgstr"]
        if got != want:
            stale.append(msgid)
    assert not stale, f"Run compilemessages: {stale[:10]}"


@pytest.mark.parametrize(
    "name,args,french",
    [
        ("dashboard:home", [], ["Tableau de bord", "sessions en cours", "Alertes récentes"]),
        ("dashboard:map", [], ["Carte", "Terminée, véhicule à déplacer"]),
        ("stations:station_list", [], ["Bornes", "Fabricant", "Filtrer"]),
        ("monitoring:alert_list", [], ["Alertes", "Déclenchée"]),
        ("charging:session_list", [], ["Sessions de recharge", "Exporter en CSV"]),
        ("roles:assignment_list", [], ["Personnes et rôles", "Inviter une personne"]),
    ],
)
def test_the_portal_speaks_french(network, personas, client_for, name, args, french):
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse(name, args=args)).content.decode()
    for text in french:
        assert text in html, text


def test_station_page_in_french(network, personas, client_for):
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse("stations:station_detail", args=[network.a1_station.pk]))
    html = html.content.decode()
    for text in ("Commande à distance", "Déverrouiller le connecteur", "Disponible"):
        assert text in html, text
    assert "&quot;Disponible&quot;" in html or '"Disponible"' in html  # the live labels too
