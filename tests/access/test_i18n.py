"""The access app's French catalogue (apps/access/locale): complete and compiled."""

from __future__ import annotations

import gettext
from pathlib import Path

from django.conf import settings

from tests.portal.test_i18n import read_po

LOCALE = Path(settings.BASE_DIR) / "apps" / "access" / "locale" / "fr" / "LC_MESSAGES"


def test_every_access_message_is_translated_and_compiled():
    entries = read_po(LOCALE / "django.po")
    assert len(entries) > 100
    with open(LOCALE / "django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for entry in entries:
        if "msgid_plural" in entry:
            assert entry["msgstr[0]"] and entry["msgstr[1]"], entry["msgid"]
            assert (
                catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
            )
        else:
            assert entry["msgstr"], entry["msgid"]
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]
