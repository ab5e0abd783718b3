from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from .forms import FindNetworkForm
from .selectors import tenant_by_slug


class LandingView(FormView):
    """The public home page: finds an organisation's portal and sends the person there."""

    template_name = "tenants/landing.html"
    form_class = FindNetworkForm

    def form_valid(self, form):
        tenant = tenant_by_slug(form.cleaned_data["organisation"])
        domain = tenant.get_primary_domain() if tenant else None
        if domain is None:
            form.add_error("organisation", _("No network by that name."))
            return self.form_invalid(form)
        port = self.request.get_port()
        netloc = domain.domain if port in ("80", "443") else f"{domain.domain}:{port}"
        return redirect(f"{self.request.scheme}://{netloc}/accounts/login/")
