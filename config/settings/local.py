"""Development on one machine: the README's run command."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
PORTAL_URL_SCHEME = env.str("PORTAL_URL_SCHEME", default="http")
