from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Station

from .choices import PhaseRotation, Wiring
from .models import PowerNode
from .services import NODE_FIELDS


class LimitForm(forms.Form):
    """A temporary limit on a node, from the portal."""

    limit_a = forms.DecimalField(
        label=_("Amps per line"), required=False, min_value=0, max_digits=7, decimal_places=1
    )
    limit_kw = forms.DecimalField(
        label=_("kW"), required=False, min_value=0, max_digits=10, decimal_places=3
    )
    hours = forms.DecimalField(
        label=_("For (hours)"),
        min_value=Decimal("0.25"),
        max_value=Decimal("168"),
        initial=Decimal("1"),
        max_digits=5,
        decimal_places=2,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def clean(self):
        data = super().clean()
        if data.get("limit_a") is None and data.get("limit_kw") is None:
            raise forms.ValidationError(_("Give a limit in amps, in kW, or both."))
        return data


class PlannerForm(forms.Form):
    port_kw = forms.DecimalField(
        label=_("Power of a new port (kW)"),
        min_value=Decimal("1"),
        max_value=Decimal("350"),
        initial=Decimal("7.4"),
        max_digits=6,
        decimal_places=1,
    )
    phases = forms.TypedChoiceField(
        label=_("Phases"), choices=[(1, "1"), (3, "3")], coerce=int, initial=3
    )


class NodeForm(forms.ModelForm):
    """A node of the tree: its place (parent: moving it), kind, lines and limits."""

    class Meta:
        model = PowerNode
        fields = list(NODE_FIELDS)
        labels = {
            "kind": _("Kind"),
            "parent": _("Fed from"),
            "rating_a": _("Breaker rating (A per line)"),
            "continuous_factor": _("Continuous-load factor"),
        }

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.site = site
        parents = PowerNode.objects.filter(site=site).order_by("name")
        if self.instance.pk:
            parents = parents.exclude(pk__in=_subtree_ids(self.instance))
        self.fields["parent"].queryset = parents
        self.fields["parent"].required = False


def _subtree_ids(node) -> set[int]:
    """A node and everything under it (a node cannot move under its own subtree)."""
    parent = dict(PowerNode.objects.filter(site_id=node.site_id).values_list("pk", "parent_id"))
    found = {node.pk}
    changed = True
    while changed:
        changed = False
        for pk, up in parent.items():
            if up in found and pk not in found:
                found.add(pk)
                changed = True
    return found


class StationNodeForm(forms.Form):
    """Hang a station of the site on a node (with its breaker, for power selection)."""

    station = forms.ModelChoiceField(label=_("Station"), queryset=None)
    node = forms.ModelChoiceField(label=_("Node"), queryset=None, required=False)
    breaker_rating_a = forms.DecimalField(
        label=_("Station breaker (A)"),
        required=False,
        min_value=Decimal("1"),
        max_digits=6,
        decimal_places=1,
    )

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = Station.objects.filter(site=site).order_by("identity")
        self.fields["node"].queryset = PowerNode.objects.filter(site=site).order_by("name")


class EvseWiringForm(forms.Form):
    """How a port is wired: three-phase, single-phase or line to line, and its rotation."""

    wiring = forms.ChoiceField(label=_("Wiring"))
    rotation = forms.ChoiceField(label=_("Phase rotation"))
    volts = forms.IntegerField(label=_("Voltage per phase (V)"), min_value=100, max_value=480)
    idle_current_a = forms.DecimalField(
        label=_("Idle default (A)"),
        min_value=Decimal("0"),
        max_value=Decimal("80"),
        max_digits=4,
        decimal_places=1,
        initial=Decimal("0"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wiring"].choices = Wiring.choices
        self.fields["rotation"].choices = PhaseRotation.choices
