"""Station tags: short lowercase slugs an operator puts on stations ("garage-b", "fleet",
"pilot-2027") to pick them as a group (list filters, bulk actions, firmware campaigns).

One normal form everywhere: trimmed, lowercased, each a slug of 1 to ``TAG_MAX_LENGTH``
characters (letters, digits, ``-`` and ``_``), no duplicates, sorted, at most ``MAX_TAGS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

TAG_MAX_LENGTH = 32
MAX_TAGS = 20
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def validate_tag(value: str) -> None:
    if len(value) > TAG_MAX_LENGTH or not TAG_PATTERN.match(value):
        raise ValidationError(
            _(
                "“%(tag)s” is not a tag: use up to %(max)s lowercase letters, digits, "
                "hyphens or underscores."
            ),
            code="invalid_tag",
            params={"tag": value, "max": TAG_MAX_LENGTH},
        )


def normalize_tags(values: Iterable[str] | str) -> list[str]:
    """Tags in their normal form; a string is split on commas and spaces. Raises
    ``ValidationError`` (one message per bad tag) when a tag is not a slug."""
    if isinstance(values, str):
        values = re.split(r"[,\s]+", values)
    tags = sorted({value.strip().lower() for value in values if value and value.strip()})
    errors = []
    for tag in tags:
        try:
            validate_tag(tag)
        except ValidationError as error:
            errors.extend(error.messages)
    if len(tags) > MAX_TAGS:
        errors.append(_("At most %(max)s tags.") % {"max": MAX_TAGS})
    if errors:
        raise ValidationError(errors)
    return tags
