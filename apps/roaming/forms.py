from django import forms
from django.utils.translation import gettext_lazy as _


class PartnerAddForm(forms.Form):
    """The wizard's one question: who starts the handshake?"""

    INVITE, REGISTER = "invite", "register"
    how = forms.ChoiceField(
        label=_("How do you connect?"),
        choices=[
            (INVITE, _("They register with us: make a token to give them with our URL")),
            (REGISTER, _("We register with them: they gave us their versions URL and a token")),
        ],
        widget=forms.RadioSelect,
        initial=INVITE,
    )
    name = forms.CharField(label=_("Partner name"), max_length=120)
    versions_url = forms.URLField(label=_("Their versions URL"), max_length=500, required=False)
    token = forms.CharField(label=_("Their token"), max_length=128, required=False)

    def clean(self):
        data = super().clean()
        if data.get("how") == self.REGISTER and not (
            data.get("versions_url") and data.get("token")
        ):
            raise forms.ValidationError(_("Give both their versions URL and their token."))
        return data
