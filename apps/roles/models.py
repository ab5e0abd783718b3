"""Roles are data: a role is a list of permission codes; an assignment gives a role to a person
on all sites or on chosen sites; an API key carries its own codes and sites."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.permissions import is_known
from apps.core.scoping import RestrictedManager


def validate_permission_codes(codes: list[str]) -> None:
    unknown = [code for code in codes if not is_known(code)]
    if unknown:
        raise ValidationError(
            _("Unknown permissions: %(codes)s"), params={"codes": ", ".join(unknown)}
        )


class Role(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    permissions = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        validators=[validate_permission_codes],
    )
    is_builtin = models.BooleanField(default=False)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        """The name people read: a built-in role's in their language, else the given one."""
        from .choices import BuiltinRole

        if self.is_builtin and self.slug in BuiltinRole.values:
            return str(BuiltinRole(self.slug).label)
        return self.name


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    all_sites = models.BooleanField(default=False)
    sites = models.ManyToManyField("stations.Site", blank=True, related_name="role_assignments")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["user__email", "role__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="one_assignment_per_user_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role}"


class ApiKey(models.Model):
    """A key for integrators: only a SHA-256 of the secret is kept; the key is shown once."""

    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    permissions = ArrayField(
        models.CharField(max_length=64), default=list, validators=[validate_permission_codes]
    )
    all_sites = models.BooleanField(default=False)
    sites = models.ManyToManyField("stations.Site", blank=True, related_name="api_keys")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
