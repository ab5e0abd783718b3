"""Self-service password reset: Django's own views, bound to this app's URL names.

People live in their tenant's schema and the request's host picks the schema, so the reset
form only finds people of the network whose address the browser is on, and the link in the
e-mail leads back to that same address.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.urls import reverse_lazy


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        tenant = getattr(connection, "tenant", None)
        self.extra_email_context = {
            # The scheme people use (TLS ends at the proxy, so the request may look plain).
            "protocol": settings.PORTAL_URL_SCHEME,
            "site_name": getattr(tenant, "name", "") or "chargegrid",
        }
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")
