from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Site

from .models import MediaAsset, MediaSchedule, Playlist

FORMAT_CHOICES = [("mp4", "MP4"), ("png", "PNG"), ("jpeg", "JPEG")]


class MediaAssetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    file = forms.FileField(label=_("File (MP4, PNG or JPEG)"))
    thumbnail = forms.FileField(label=_("Thumbnail (a video's PNG or JPEG poster)"), required=False)


class ScreenModelForm(forms.Form):
    vendor = forms.CharField(label=_("Vendor"), max_length=50)
    model = forms.CharField(label=_("Model"), max_length=50)
    has_screen = forms.BooleanField(label=_("Has a screen"), required=False, initial=True)
    max_width = forms.IntegerField(label=_("Largest width (pixels)"), min_value=1, initial=1920)
    max_height = forms.IntegerField(label=_("Largest height (pixels)"), min_value=1, initial=1080)
    formats = forms.MultipleChoiceField(
        label=_("Formats it plays"),
        choices=FORMAT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["mp4", "png", "jpeg"],
    )


class PlaylistItemForm(forms.Form):
    asset = forms.ModelChoiceField(label=_("Item"), queryset=MediaAsset.objects.none())
    seconds = forms.IntegerField(
        label=_("Seconds (images; 10 when left empty)"),
        min_value=0,
        max_value=3600,
        required=False,
    )

    def __init__(self, *args, assets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets if assets is not None else MediaAsset.objects.none()


class BasePlaylistItemFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "assets": self.assets}

    def __init__(self, *args, assets=None, **kwargs):
        self.assets = assets
        super().__init__(*args, **kwargs)

    @property
    def empty_form(self):  # the formset's template row (unused: no script) needs the assets
        return self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), assets=None)


PlaylistItemFormSet = forms.formset_factory(
    PlaylistItemForm, formset=BasePlaylistItemFormSet, extra=6, max_num=30
)


class PlaylistForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)


class MediaScheduleForm(forms.ModelForm):
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"), queryset=Site.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = MediaSchedule
        fields = [
            "playlist",
            "sites",
            "starts_on",
            "ends_on",
            "daily_start",
            "daily_end",
            "priority",
            "text",
        ]
        labels = {
            "playlist": _("Playlist"),
            "starts_on": _("First day"),
            "ends_on": _("Last day"),
            "daily_start": _("Every day from (site's local time)"),
            "daily_end": _("Until (site's local time)"),
            "priority": _("Priority (higher wins on the screen)"),
            "text": _("Text shown on OCPP 2.0.1 screens (optional)"),
        }
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "daily_start": forms.TimeInput(attrs={"type": "time"}),
            "daily_end": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args, sites, playlists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = sites
        self.fields["playlist"].queryset = playlists


def playlists_of(actor, permission: str):
    return Playlist.objects.restrict(actor, permission).order_by("name")
