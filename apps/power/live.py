"""Live updates of the site power page: after each rebalance the site's tree (limits,
allocated and drawn per line, each port's limit and reason) goes to the tenant's live group,
the one ``/ws/live/`` browsers listen to, through the core's ``publish_live``; the consumer
forwards ``power_tree`` messages to people holding ``power.view`` on the site."""

from __future__ import annotations

import logging

from django.utils import timezone

from apps.core.live import publish_live
from apps.stations.models import Site

from . import selectors

logger = logging.getLogger(__name__)


def publish_site(site_id: int) -> None:
    """Send the site's live power state (never fails the caller: the page resyncs anyway)."""
    try:
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            return
        message = selectors.site_power_message(site=site)
        message["at"] = timezone.now().isoformat()
        publish_live(message)
    except Exception:
        logger.exception("Could not publish the power state of site %s", site_id)
