from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .choices import DRIVER_CATEGORIES, CaseCategory, CasePriority, CaseStatus, StationAction
from .models import WEEKDAYS, CannedAnswer, SupportSettings


def _attachment_field() -> forms.FileField:
    """One file per message (checked by the service: type by its first bytes, size)."""
    return forms.FileField(
        label=_("Attach a file (photo or PDF, at most 5 MB)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}
        ),
    )


class DriverCaseForm(forms.Form):
    """The public form (no sign-in)."""

    category = forms.ChoiceField(
        label=_("What happened?"),
        choices=[(value, CaseCategory(value).label) for value in DRIVER_CATEGORIES],
    )
    subject = forms.CharField(label=_("In a few words"), max_length=200)
    description = forms.CharField(
        label=_("Tell us more"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    name = forms.CharField(label=_("Your name (optional)"), max_length=120, required=False)
    email = forms.EmailField(label=_("Your e-mail"))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    attachment = _attachment_field()
    # A trap for robots: people never see it (hidden by the stylesheet), robots fill it in.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("Leave this empty."))
        return ""


class ManagerCaseForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=CaseCategory.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=CasePriority.choices, initial=CasePriority.NORMAL
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    station = forms.ModelChoiceField(label=_("Station"), queryset=None, required=False)
    attachment = _attachment_field()

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Answer"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    internal = forms.BooleanField(label=_("Internal note (not sent)"), required=False)
    attachment = _attachment_field()
    then = forms.ChoiceField(
        label=_("Then"),
        required=False,
        choices=[
            ("", _("Keep the status")),
            (CaseStatus.WAITING, _("Wait for the requester")),
            (CaseStatus.RESOLVED, _("Resolve")),
        ],
    )


class DriverReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachment = _attachment_field()


class CaseUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in CaseStatus.choices if c[0] != CaseStatus.UNVERIFIED]
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices)
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), queryset=None, required=False, empty_label=_("Nobody")
    )
    escalated = forms.BooleanField(label=_("Escalated to platform support"), required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        from apps.accounts.models import User

        self.fields["assignee"].queryset = User.objects.filter(pk__in=[u.pk for u in staff])


class StationActionForm(forms.Form):
    action = forms.ChoiceField(choices=StationAction.choices)


class CannedAnswerForm(forms.ModelForm):
    class Meta:
        model = CannedAnswer
        fields = ["title", "body", "language"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}


class SupportSettingsForm(forms.ModelForm):
    business_days = forms.TypedMultipleChoiceField(
        label=_("Business days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SupportSettings
        fields = [
            "business_opens",
            "business_closes",
            "business_timezone",
            "business_days",
            "first_response_minutes",
            "resolution_minutes",
            "team_email",
        ]
        widgets = {
            "business_opens": forms.TimeInput(attrs={"type": "time"}),
            "business_closes": forms.TimeInput(attrs={"type": "time"}),
        }
