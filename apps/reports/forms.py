from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Site

from . import capacity
from .choices import GroupBy
from .models import GhgSettings, ReportSettings
from .selectors import CapacityInputs

MAX_DAYS = 3 * 366


class ReportForm(forms.Form):
    """The report's period (site-local days, the end excluded), grouping and site."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until (excluded)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    group_by = forms.ChoiceField(label=_("By"), choices=GroupBy.choices, required=False)
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites")
    )

    def __init__(self, *args, sites=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate() + dt.timedelta(days=1)
        start = data.get("start") or end - dt.timedelta(days=30)
        if start >= end:
            raise forms.ValidationError(_("The end must be after the start."))
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("At most three years at a time."))
        data.update(start=start, end=end, group_by=data.get("group_by") or GroupBy.SITE)
        return data


def _kw(label, *, required=False, initial=None, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        initial=initial,
        min_value=Decimal("0"),
        max_value=Decimal("100000"),
        decimal_places=2,
        help_text=help_text,
    )


class CapacityForm(forms.Form):
    """The capacity planner's question: a site, the history to simulate on, its panel and the
    ports thought of (powers in kW)."""

    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    start = forms.DateField(
        label=_("History from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until (excluded)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    limit_kw = _kw(
        _("Panel or circuit limit (kW)"),
        help_text=_("Empty: the existing ports' combined power."),
    )
    other_kw = _kw(_("Other loads on it (kW)"), initial=Decimal("0"))
    port_kw = _kw(_("Power of a new port (kW)"), initial=Decimal("7.4"))
    min_kw = _kw(
        _("Least power a session keeps (kW)"),
        initial=Decimal("1.38"),
        help_text=_("6 A: 1.38 kW on one 230 V phase, 4.14 kW on three."),
    )
    wanted_ports = forms.IntegerField(
        label=_("Ports to add"), required=False, min_value=0, max_value=capacity.MAX_EXTRA
    )
    tolerance = forms.DecimalField(
        label=_("Busy quarters allowed to make a driver wait (%)"),
        required=False,
        initial=Decimal("5"),
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        decimal_places=1,
    )

    def __init__(self, *args, sites=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate() + dt.timedelta(days=1)
        start = data.get("start") or end - dt.timedelta(days=90)
        if start >= end:
            raise forms.ValidationError(_("The end must be after the start."))
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("At most three years at a time."))
        if data.get("min_kw") == 0:
            self.add_error("min_kw", _("A session needs some power."))
        data.update(start=start, end=end)
        return data

    def inputs(self) -> CapacityInputs:
        return capacity_inputs(self.cleaned_data)


def _w(value, default: int) -> int:
    return default if value is None else int(value * 1000)


def capacity_inputs(data: dict) -> CapacityInputs:
    """The planner's inputs (W) from a form's or a serializer's cleaned data (kW)."""
    defaults = CapacityInputs()
    limit = data.get("limit_kw")
    return CapacityInputs(
        limit_w=None if limit is None else int(limit * 1000),
        other_load_w=_w(data.get("other_kw"), defaults.other_load_w),
        port_w=_w(data.get("port_kw"), defaults.port_w),
        min_w=_w(data.get("min_kw"), defaults.min_w) or defaults.min_w,
        tolerance_percent=data.get("tolerance")
        if data.get("tolerance") is not None
        else defaults.tolerance_percent,
        wanted_ports=data.get("wanted_ports") or 0,
    )


class ReportSettingsForm(forms.ModelForm):
    """The uptime definition and the raw retention (``ReportSettings``)."""

    class Meta:
        model = ReportSettings
        fields = ["uptime_unavailable", "uptime_offline", "raw_retention_days"]
        help_texts = {
            "raw_retention_days": _(
                "At least 7. Older raw readings are deleted nightly once a rollup holds them; "
                "the 15-minute rollups are kept for years."
            ),
        }


class GhgSettingsForm(forms.ModelForm):
    """The greenhouse gas factors (``GhgSettings``); a site's own grid factor is the admin's."""

    class Meta:
        model = GhgSettings
        fields = ["baseline_g_per_km", "ev_kwh_per_km", "grid_g_per_kwh"]

    def clean(self):
        data = super().clean()
        if data.get("ev_kwh_per_km") == 0:
            self.add_error("ev_kwh_per_km", _("An electric vehicle uses some energy."))
        return data
