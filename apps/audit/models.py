"""The audit log: who did what, to what, when and from where (tenant schema)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import ActorKind, AuditSource


class AuditEntry(models.Model):
    """One write or remote command.  Rows are never edited, except that a remote command's
    entry, written when the command is sent, is completed with its outcome
    (``audit_complete``); the actor's label is copied so the entry still reads right after the
    person or key is deleted."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "roles.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(
        max_length=64, help_text=_("What was done, e.g. 'site.update' or 'station.reset'.")
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    succeeded = models.BooleanField(default=True)
    source = models.CharField(max_length=8, choices=AuditSource.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()
    # Entries about a site's things are visible to auditors of that site; the rest (people,
    # tokens, keys) only to auditors of all sites.
    scope_site_path = "site"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["site", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
