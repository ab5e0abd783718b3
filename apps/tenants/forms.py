from django import forms
from django.utils.translation import gettext_lazy as _


class FindNetworkForm(forms.Form):
    organisation = forms.SlugField(label=_("Your organisation's short name"), max_length=42)
