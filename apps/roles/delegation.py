"""Writes of the people pages: invite a person, grant a role on chosen sites, revoke it.

Nobody grants more than they hold: the granter needs ``people.manage`` on every site of the
grant (all sites for an all-sites grant) and must themselves hold every permission of the role
on those sites.  The checks live here so that every caller (portal, API, shell) gets them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.core.permissions import PERMISSIONS, grants
from apps.core.scoping import Actor, Scope
from apps.stations.models import Site

from .models import Role, RoleAssignment
from .services import role_assign, role_revoke


def _codes_of(role: Role) -> list[str]:
    return [code for code in PERMISSIONS if grants(role.permissions, code)]


def _grant_scope(all_sites: bool, sites: list[Site]) -> Scope:
    if all_sites:
        return Scope(all_sites=True)
    return Scope(site_ids=frozenset(site.pk for site in sites))


def _covers(held: Scope, wanted: Scope) -> bool:
    if held.all_sites:
        return True
    if wanted.all_sites:
        return False
    return wanted.site_ids <= held.site_ids


def grant_check(*, granter: Actor, role: Role, all_sites: bool, sites: list[Site]) -> None:
    """Raise PermissionDenied unless ``granter`` may give ``role`` on these sites."""
    wanted = _grant_scope(all_sites, sites)
    if wanted.empty and role.permissions:
        raise ValidationError(_("Choose the sites, or all sites."))
    if not _covers(granter.scope_for("people.manage"), wanted):
        raise PermissionDenied(_("You may not manage people on these sites."))
    missing = [code for code in _codes_of(role) if not _covers(granter.scope_for(code), wanted)]
    if missing:
        raise PermissionDenied(
            _("You cannot give permissions you do not hold there: %(codes)s")
            % {"codes": ", ".join(missing)}
        )


@transaction.atomic
def role_grant(
    *, granter: Actor, user, role: Role, all_sites: bool = False, sites: Iterable[Site] = ()
) -> RoleAssignment:
    site_list = list(sites)
    grant_check(granter=granter, role=role, all_sites=all_sites, sites=site_list)
    return role_assign(
        user=user,
        role=role,
        all_sites=all_sites,
        sites=site_list,
        granted_by=getattr(granter, "user", None),
    )


@transaction.atomic
def role_assignment_revoke(*, granter: Actor, assignment: RoleAssignment) -> None:
    """Take a role back.  Nobody revokes their own roles (no locking oneself out by mistake)."""
    if getattr(granter, "user", None) == assignment.user:
        raise PermissionDenied(_("You cannot revoke your own role."))
    wanted = _grant_scope(assignment.all_sites, list(assignment.sites.all()))
    if not _covers(granter.scope_for("people.manage"), wanted):
        raise PermissionDenied(_("You may not manage people on these sites."))
    role_revoke(user=assignment.user, role=assignment.role)


@dataclass(frozen=True)
class Invitation:
    user: object
    assignment: RoleAssignment
    created: bool
    emailed: bool


def welcome_path(user) -> str:
    return reverse(
        "roles:welcome",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@transaction.atomic
def person_invite(
    *,
    granter: Actor,
    email: str,
    full_name: str = "",
    role: Role,
    all_sites: bool = False,
    sites: Iterable[Site] = (),
    portal_url: str,
    tenant_name: str = "",
    language: str = "",
) -> Invitation:
    """Create the person (or find them), grant the role and e-mail a link to choose a
    password.  ``portal_url`` is the tenant's address (``https://alpha.example.org``)."""
    site_list = list(sites)
    grant_check(granter=granter, role=role, all_sites=all_sites, sites=site_list)
    normalised = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=normalised).first()
    created = user is None
    if created:
        user = user_create(email=normalised, password=None, full_name=full_name)
    assignment = role_assign(
        user=user,
        role=role,
        all_sites=all_sites,
        sites=site_list,
        granted_by=getattr(granter, "user", None),
    )
    emailed = False
    # A person who never chose a password gets the link (again); others just gain the role.
    if not user.has_usable_password():
        link = portal_url.rstrip("/") + welcome_path(user)
        context = {
            "user": user,
            "link": link,
            "role": role,
            "tenant_name": tenant_name,
            "granter": getattr(granter, "label", ""),
        }
        with translation.override(user.language or language or None):
            subject = render_to_string("roles/email/invite_subject.txt", context).strip()
            body = render_to_string("roles/email/invite_body.txt", context)
        transaction.on_commit(
            lambda: send_mail(subject, body, None, [user.email], fail_silently=False)
        )
        emailed = True
    return Invitation(user=user, assignment=assignment, created=created, emailed=emailed)
