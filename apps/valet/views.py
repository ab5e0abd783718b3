"""The valet board: one page per site, its rows re-read live (``static/valet/board.js``) when
the site's ports or sessions change, and one view per action."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from apps.charging.models import ChargingSession
from apps.core.views import PermissionRequiredMixin

from . import selectors, services


class BoardHomeView(PermissionRequiredMixin, TemplateView):
    permission = "valet.view"
    template_name = "valet/home.html"

    def get(self, request, *args, **kwargs):
        sites = list(selectors.board_sites(request.actor))
        if len(sites) == 1:
            return redirect("valet:board", site_id=sites[0].pk)
        return self.render_to_response({"sites": sites})


class BoardView(PermissionRequiredMixin, TemplateView):
    permission = "valet.view"
    template_name = "valet/board.html"

    def get_context_data(self, **kwargs):
        site = get_object_or_404(selectors.board_sites(self.request.actor), pk=kwargs["site_id"])
        staff = get_user_model().objects.filter(is_active=True).order_by("email")
        rows = selectors.board_rows(actor=self.request.actor, site_id=site.pk)
        return {
            **super().get_context_data(**kwargs),
            "site": site,
            "rows": rows,
            "next_fee_change": selectors.next_fee_change(rows),
            "may_act": self.may("valet.act", site.pk),
            "staff": [user for user in staff if services.user_may_act_site(user, site.pk)],
        }


class BoardRowsView(BoardView):
    """The rows alone, for the page's live refresh."""

    template_name = "valet/_rows.html"


class _SessionAction(PermissionRequiredMixin, View):
    permission = "valet.act"

    def post(self, request, pk: int):
        session = get_object_or_404(
            ChargingSession.objects.restrict(request.actor, "valet.act").select_related(
                "station", "evse"
            ),
            pk=pk,
        )
        try:
            self.act(request, session)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(reverse("valet:board", args=[session.station.site_id]))


class CarMovedView(_SessionAction):
    def act(self, request, session):
        services.car_moved(actor=request.actor, session=session, user=request.user)
        messages.success(request, _("Marked as moved."))


class CarAssignView(_SessionAction):
    def act(self, request, session):
        user_id = request.POST.get("user") or None
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        services.car_assign(actor=request.actor, session=session, user=user)
        messages.success(request, _("Reassigned."))


class DriverNotifyView(_SessionAction):
    def act(self, request, session):
        services.driver_ask_to_move(actor=request.actor, session=session)
        messages.success(request, _("The driver was asked to move their car."))
