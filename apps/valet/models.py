"""What the valet staff did about a finished session's car: who it is assigned to, when the
driver was asked to move it, when it was moved."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.scoping import RestrictedManager


class CarMove(models.Model):
    session = models.OneToOneField(
        "charging.ChargingSession", on_delete=models.CASCADE, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    driver_notified_at = models.DateTimeField(null=True, blank=True)
    moved_at = models.DateTimeField(null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "session__station__site"

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Car of session {self.session_id}"
