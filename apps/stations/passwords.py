"""One rule for station passwords (security profiles 1 and 2, HTTP Basic), everywhere.

OCPP 2.0.1 (SecurityCtrlr.BasicAuthPassword, passwordString) allows 16-40 characters; OCPP
1.6's security whitepaper keeps the password in AuthorizationKey, 16-20 bytes written as
32-40 hexadecimal characters.  A password chargegrid accepts, from the API, the portal, the
``register_station`` command or its own rotation, is 16-40 printable ASCII characters; the
ones chargegrid generates are 40 hexadecimal characters (20 random bytes), valid for both:
a 1.6 station is sent that text as its AuthorizationKey and presents the same text.

Legacy 1.6 stations whose firmware holds a shorter password are not refused at the
handshake: a hash already in the registry keeps working, and a station registering itself
(trust on first use, kept Pending) is registered with the password it sent.  Nobody can set
a new short password; rotating it (``station_password_rotate``) replaces it with a
compliant one.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PASSWORD_MIN_LENGTH = 16
PASSWORD_MAX_LENGTH = 40
GENERATED_BYTES = 20  # 40 hex characters: 2.0.1's maximum, 1.6's 20-byte AuthorizationKey


def validate_station_password(password: str) -> None:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise ValidationError(
            _("A station password has %(min)d to %(max)d characters.")
            % {"min": PASSWORD_MIN_LENGTH, "max": PASSWORD_MAX_LENGTH},
            code="password_length",
        )
    if not all("!" <= character <= "~" for character in password):
        raise ValidationError(
            _("A station password is printable ASCII without spaces."), code="password_chars"
        )


def generate_station_password() -> str:
    return secrets.token_hex(GENERATED_BYTES)
