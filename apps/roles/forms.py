"""Forms of the people pages.  Choices are limited to what the granter may manage; the
services check again (apps/roles/delegation.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.permissions import PERMISSIONS
from apps.stations.models import Site

from .models import Role


class _GrantFields(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.all(), label=_("Role"))
    all_sites = forms.BooleanField(required=False, label=_("On all sites"))
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("On these sites"),
    )

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["sites"].queryset = Site.objects.restrict(actor, "people.manage")
        self.fields["role"].queryset = Role.objects.exclude(permissions=[]).order_by("name")
        if not actor.scope_for("people.manage").all_sites:
            del self.fields["all_sites"]

    def clean(self):
        data = super().clean()
        if not data.get("all_sites") and not data.get("sites"):
            raise forms.ValidationError(_("Choose the sites, or all sites."))
        return data


class InviteForm(_GrantFields):
    email = forms.EmailField(label=_("E-mail address"))
    full_name = forms.CharField(max_length=200, required=False, label=_("Full name"))

    field_order = ["email", "full_name", "role", "all_sites", "sites"]


class GrantForm(_GrantFields):
    user = forms.ModelChoiceField(queryset=None, label=_("Person"))

    field_order = ["user", "role", "all_sites", "sites"]

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("email")


class ApiKeyForm(forms.Form):
    """A key for an integrator: which permissions, on which sites, until when."""

    name = forms.CharField(max_length=120, label=_("Name"))
    permissions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label=_("Permissions")
    )
    all_sites = forms.BooleanField(required=False, label=_("On all sites"))
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("On these sites"),
    )
    expires_at = forms.DateTimeField(
        required=False,
        label=_("Expires"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: until revoked."),
    )

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only what the creator holds somewhere (a key never exceeds its creator anyway).
        self.fields["permissions"].choices = [
            (code, f"{code} — {description}")
            for code, description in sorted(PERMISSIONS.items())
            if not actor.scope_for(code).empty
        ]
        self.fields["sites"].queryset = Site.objects.restrict(actor, "sites.view")

    def clean(self):
        data = super().clean()
        if not data.get("all_sites") and not data.get("sites"):
            raise forms.ValidationError(_("Choose the sites, or all sites."))
        return data
