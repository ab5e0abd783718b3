"""People and roles: who has which role where; invite, grant, revoke; the welcome link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.generic import FormView, View

from apps.audit.services import audit_record_for_request
from apps.core.views import PermissionRequiredMixin, ScopedListView

from .delegation import person_invite, role_assignment_revoke, role_grant
from .forms import ApiKeyForm, GrantForm, InviteForm
from .models import ApiKey, RoleAssignment
from .selectors import role_assignment_list
from .services import api_key_create, api_key_revoke


class RoleAssignmentListView(ScopedListView):
    model = RoleAssignment
    permission = "people.view"
    template_name = "roles/assignment_list.html"

    def get_queryset(self):
        queryset = role_assignment_list(actor=self.request.actor)
        query = self.request.GET.get("q", "").strip()[:100]
        if query:  # from the search box: one person's roles
            queryset = queryset.filter(
                Q(user__email__icontains=query) | Q(user__full_name__icontains=query)
            )
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = not self.request.actor.scope_for("people.manage").empty
        context["may_keys"] = not self.request.actor.scope_for("api_keys.manage").empty
        return context


class _GrantingView(PermissionRequiredMixin, FormView):
    permission = "people.manage"
    success_url = reverse_lazy("roles:assignment_list")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["actor"] = self.request.actor
        return kwargs

    def refuse(self, form, error: Exception):
        form.add_error(
            None, error.messages[0] if isinstance(error, ValidationError) else str(error)
        )
        return self.form_invalid(form)

    def audit(self, *, action: str, assignment: RoleAssignment, data: dict) -> None:
        audit_record_for_request(
            self.request,
            action=action,
            obj=assignment,
            object_repr=f"{assignment.user.email}: {assignment.role.name}",
            changes={
                "role": assignment.role.slug,
                "all_sites": bool(data.get("all_sites")),
                "sites": [site.name for site in data.get("sites") or []],
            },
        )


class PersonInviteView(_GrantingView):
    form_class = InviteForm
    template_name = "roles/invite.html"

    def form_valid(self, form):
        data = form.cleaned_data
        tenant = connection.tenant
        try:
            invitation = person_invite(
                granter=self.request.actor,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                all_sites=bool(data.get("all_sites")),
                sites=data["sites"],
                portal_url=self.request.build_absolute_uri("/"),
                tenant_name=tenant.name,
                language=getattr(tenant, "language", ""),
            )
        except (PermissionDenied, ValidationError) as error:
            return self.refuse(form, error)
        self.audit(action="person.invite", assignment=invitation.assignment, data=data)
        if invitation.emailed:
            messages.success(
                self.request,
                _("%(email)s is invited: a link to choose a password was e-mailed.")
                % {"email": invitation.user.email},
            )
        else:
            messages.success(
                self.request,
                _("%(email)s now has the role %(role)s.")
                % {"email": invitation.user.email, "role": data["role"].name},
            )
        return super().form_valid(form)


class RoleGrantView(_GrantingView):
    form_class = GrantForm
    template_name = "roles/grant.html"

    def get_initial(self):
        initial = super().get_initial()
        if "user" in self.request.GET:
            initial["user"] = self.request.GET["user"]
        return initial

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            assignment = role_grant(
                granter=self.request.actor,
                user=data["user"],
                role=data["role"],
                all_sites=bool(data.get("all_sites")),
                sites=data["sites"],
            )
        except (PermissionDenied, ValidationError) as error:
            return self.refuse(form, error)
        self.audit(action="role.grant", assignment=assignment, data=data)
        messages.success(
            self.request,
            _("%(email)s now has the role %(role)s.")
            % {"email": data["user"].email, "role": data["role"].name},
        )
        return super().form_valid(form)


class RoleRevokeView(PermissionRequiredMixin, View):
    permission = "people.manage"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        assignment = get_object_or_404(
            role_assignment_list(actor=request.actor).select_related("user", "role"), pk=pk
        )
        sites = [site.name for site in assignment.sites.all()]
        try:
            role_assignment_revoke(granter=request.actor, assignment=assignment)
        except PermissionDenied as error:
            messages.error(request, str(error))
            return redirect("roles:assignment_list")
        audit_record_for_request(
            request,
            action="role.revoke",
            object_type="roles.roleassignment",
            object_id=pk,
            object_repr=f"{assignment.user.email}: {assignment.role.name}",
            changes={
                "role": assignment.role.slug,
                "all_sites": assignment.all_sites,
                "sites": sites,
            },
        )
        messages.success(
            request,
            _("%(email)s no longer has the role %(role)s.")
            % {"email": assignment.user.email, "role": assignment.role.name},
        )
        return redirect("roles:assignment_list")


class WelcomeView(auth_views.PasswordResetConfirmView):
    """The invitation link: the person chooses a password, then signs in."""

    template_name = "roles/welcome.html"
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, _("Your password is set. You can sign in now."))
        return super().form_valid(form)


# --- API keys ---------------------------------------------------------------------------------
class ApiKeyListView(ScopedListView):
    model = ApiKey
    permission = "api_keys.manage"
    template_name = "roles/api_key_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("created_by").prefetch_related("sites")


class ApiKeyCreateView(PermissionRequiredMixin, FormView):
    """Create a key; the page that answers shows its secret, once."""

    permission = "api_keys.manage"
    form_class = ApiKeyForm
    template_name = "roles/api_key_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["actor"] = self.request.actor
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        key, raw = api_key_create(
            name=data["name"],
            created_by=self.request.user,
            permissions=data["permissions"],
            all_sites=bool(data["all_sites"]),
            sites=data["sites"],
            expires_at=data["expires_at"],
        )
        audit_record_for_request(
            self.request,
            action="api_key.create",
            obj=key,
            changes={
                "permissions": key.permissions,
                "all_sites": key.all_sites,
                "sites": [site.name for site in data["sites"]],
            },
        )
        response = render(self.request, "roles/api_key_created.html", {"key": key, "raw": raw})
        response["Cache-Control"] = "no-store"  # the secret must not stay in any cache
        return response


class ApiKeyRevokeView(PermissionRequiredMixin, View):
    permission = "api_keys.manage"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        key = get_object_or_404(ApiKey.objects.restrict(request.actor, self.permission), pk=pk)
        api_key_revoke(key=key)
        audit_record_for_request(request, action="api_key.revoke", obj=key)
        messages.success(request, _("The key %(name)s is revoked.") % {"name": key.name})
        return redirect("roles:api_key_list")
