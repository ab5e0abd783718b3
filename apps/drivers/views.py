"""Pages of the drivers' side.

Public (no sign-in): the station finder (list and map; the list works without script and
without map tiles) and a station's page with its tips.  Drivers' own pages (their session,
``auth.current_driver``): sign-up, e-mail verification, sign-in, account, cards, sessions and
receipts, preferences, deletion.  Portal pages for site admins: finder listings, tip
moderation, card codes.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import View

from apps.charging.models import IdToken
from apps.core import policies
from apps.core.maps import map_tiles
from apps.core.views import PermissionRequiredMixin, ScopedListView
from apps.stations.choices import ConnectorType
from apps.stations.models import Site, Station

from . import auth, ratelimit, selectors, services
from .cards import card_code
from .choices import CardStatus, TipStatus
from .forms import (
    CardCodeForm,
    CardForm,
    DeleteForm,
    FinderForm,
    FinderListingForm,
    PreferencesForm,
    SignInForm,
    SignUpForm,
    TipForm,
)
from .models import DriverCard, FinderListing, Tip, TipPhoto

LIST_LIMIT = 30
COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
CONNECTOR_NAMES = dict(ConnectorType.choices)


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


SUPPORT_OPEN_SALT = "support.open"  # the support app's contract for signed links (docs/support.md)


def support_link(
    *, station_identity: str = "", session: int | None = None, receipt: str = "", email: str = ""
) -> str | None:
    """Where a driver opens a support case: the support app's ``support:open`` page when it
    is installed (it attaches the station named by its OCPP identity, the session and the
    receipt), else nothing.  With the signed-in driver's ``email``, the link is signed as
    support documents it: the case opens at once, without the confirmation e-mail."""
    try:
        url = reverse("support:open")
    except NoReverseMatch:
        return None
    params: dict[str, str] = {}
    if station_identity:
        params["station"] = station_identity
    if session:
        params["session"] = str(session)
    if receipt:
        params["receipt"] = receipt
    if email:
        params["sig"] = signing.dumps(
            {
                "email": email.lower(),
                "station": station_identity,
                "session": session,
                "receipt": receipt,
            },
            salt=SUPPORT_OPEN_SALT,
        )
    return f"{url}?{urlencode(params)}" if params else url


def directions(lat: float, lon: float) -> dict[str, str]:
    here = f"{lat:.6f},{lon:.6f}"
    return {
        "google": f"https://www.google.com/maps/dir/?api=1&destination={here}",
        "apple": f"https://maps.apple.com/?daddr={here}",
        "geo": f"geo:{here}?q={here}",
    }


def _with_language(response, language: str):
    """The driver's language becomes the browser's (the language cookie LocaleMiddleware
    reads), as choosing it in the top bar does."""
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


def place_origin(near: str, stations: list[dict]) -> tuple[float, float] | None:
    """Typed coordinates, or the middle of the published sites whose name, address or city
    holds the words typed (no outside geocoder: nothing leaves the platform)."""
    match = COORDINATES.match(near or "")
    if match:
        lat, lon = float(match[1]), float(match[2])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
        return None
    words = [w for w in (near or "").lower().split() if w]
    if not words:
        return None
    hits = [
        s
        for s in stations
        if all(w in f"{s['site']} {s['address']} {s['name']}".lower() for w in words)
    ]
    if not hits:
        return None
    return (
        sum(s["lat"] for s in hits) / len(hits),
        sum(s["lon"] for s in hits) / len(hits),
    )


def _port_rows(station: dict) -> list[dict]:
    return [
        {
            "type": CONNECTOR_NAMES.get(kind, kind),
            "code": kind,
            "kw": kw,
            "free": free,
            "total": total,
        }
        for kind, kw, free, total in station["ports"]
    ]


# --- The public finder ------------------------------------------------------------------------
def finder(request):
    form = FinderForm(request.GET or None)
    stations = selectors.finder_stations()
    origin = None
    prefs = selectors.Preferences()
    near_error = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        prefs = selectors.Preferences(
            connector_type=data["connector"],
            min_kw=float(data["min_kw"] or 0),
            free_only=data["free"],
            public_only=data["public"],
        )
        if data["lat"] is not None and data["lon"] is not None:
            origin = (data["lat"], data["lon"])
        elif data["near"]:
            origin = place_origin(data["near"], stations)
            if origin is None:
                near_error = _("No station near this place: try a city or coordinates.")
    ranked = selectors.rank_cached(stations, origin=origin, prefs=prefs, limit=LIST_LIMIT)
    rows = [
        {
            **item.station,
            "port_rows": _port_rows(item.station),
            "distance_km": item.distance_km,
            "minutes": round(item.minutes),
            "price": (item.price or {}).get("summary", ""),
            "directions": directions(item.station["lat"], item.station["lon"]),
        }
        for item in ranked
    ]
    context = {
        "form": form,
        "rows": rows,
        "best": rows[0] if rows and origin is not None else None,
        "origin": origin,
        "near_error": near_error,
        "count": len(stations),
        "tiles": map_tiles(),
        "driver": auth.current_driver(request),
    }
    return render(request, "drivers/finder.html", context)


def finder_data(request):
    """Every published station, compact (the map's markers and the live list)."""
    document = selectors.map_document(selectors.finder_stations())
    response = HttpResponse(document, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def station_page(request, pk: int):
    station = selectors.finder_station(station_id=pk)
    if station is None:
        raise Http404
    driver = auth.current_driver(request)
    tips = list(selectors.station_tips(pk))
    votes = selectors.driver_votes(driver, [tip.pk for tip in tips])
    queue = selectors.queue_lengths([pk]).get(pk, 0)
    context = {
        "station": station,
        "port_rows": _port_rows(station),
        "price": selectors.price_for(pk),
        "queue": queue,
        "join_queue_url": policies.ask(policies.WAITLIST_JOIN_URL, station_id=pk),
        "my_cards": _verified_cards(driver) if driver is not None else [],
        "my_places": [place for place in _places(driver) if pk in place["station_ids"]],
        "directions": directions(station["lat"], station["lon"]),
        "tips": [(tip, votes.get(tip.pk, 0)) for tip in tips],
        "driver": driver,
        "tip_form": TipForm(),
        "support_url": support_link(
            station_identity=Station.objects.filter(pk=pk).values_list("identity", flat=True)[0],
            email=driver.email if driver is not None else "",
        ),
    }
    return render(request, "drivers/station.html", context)


def _verified_cards(driver) -> list[DriverCard]:
    return [card for card in selectors.driver_cards(driver) if card.status == CardStatus.VERIFIED]


def _places(driver) -> list[dict]:
    return selectors.driver_queue_places(driver) if driver is not None else []


@require_POST
def queue_join(request, pk: int):
    """Join the station's queue with one of the driver's verified cards."""
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    if selectors.finder_station(station_id=pk) is None:
        raise Http404
    card = get_object_or_404(
        DriverCard.objects.select_related("token"),
        pk=request.POST.get("card") or 0,
        driver=driver,
        status=CardStatus.VERIFIED,
    )
    try:
        place = services.queue_join(driver=driver, station_id=pk, card=card)
    except services.DriverError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You are in the queue: place %(position)s.") % {"position": place["position"] or "—"},
        )
    return HttpResponseRedirect(reverse("drivers:account") + "#queues")


@require_POST
def queue_leave(request, entry_id: int):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    try:
        services.queue_leave(driver=driver, entry_id=entry_id)
    except services.DriverError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You left the queue."))
    return HttpResponseRedirect(reverse("drivers:account") + "#queues")


def tip_photo(request, pk: int):
    photo = get_object_or_404(
        TipPhoto.objects.select_related("tip"), pk=pk, tip__status=TipStatus.PUBLISHED
    )
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _require_driver(request):
    driver = auth.current_driver(request)
    if driver is None:
        return None, HttpResponseRedirect(
            f"{reverse('drivers:signin')}?{urlencode({'next': request.get_full_path()})}"
        )
    return driver, None


@require_POST
def tip_create(request, pk: int):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    station = get_object_or_404(Station.objects.filter(site__finder_listing__published=True), pk=pk)
    form = TipForm(request.POST, request.FILES)
    back = HttpResponseRedirect(reverse("drivers:station", args=[pk]))
    if not ratelimit.allow("tip", client_address(request), limit=20, window_seconds=3600):
        messages.error(request, _("Too many tips from here: please try again later."))
        return back
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return back
    photos = []
    upload = form.cleaned_data.get("photo")
    if upload is not None:
        if upload.size > services.PHOTO_MAX_BYTES:
            messages.error(request, _("A photo may be at most 2 MB."))
            return back
        photos.append((upload.content_type, upload.read()))
    try:
        services.tip_create(
            driver=driver, station=station, body=form.cleaned_data["body"], photos=photos
        )
    except (services.DriverError, ValidationError) as error:
        messages.error(
            request, error.messages[0] if isinstance(error, ValidationError) else str(error)
        )
    else:
        messages.success(request, _("Thank you: your tip is published."))
    return back


@require_POST
def tip_vote(request, pk: int):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    tip = get_object_or_404(Tip, pk=pk, status=TipStatus.PUBLISHED)
    try:
        services.tip_vote(driver=driver, tip=tip, value=int(request.POST.get("value", "0")))
    except (services.DriverError, ValueError) as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("drivers:station", args=[tip.station_id]))


@require_POST
def tip_delete(request, pk: int):
    """A driver takes back their own tip."""
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    tip = get_object_or_404(Tip, pk=pk, driver=driver)
    station_id = tip.station_id
    services.tip_delete(tip=tip)
    messages.success(request, _("Tip deleted."))
    return HttpResponseRedirect(reverse("drivers:station", args=[station_id]))


# --- Accounts ---------------------------------------------------------------------------------
def _verify_url(request) -> str:
    return request.build_absolute_uri(reverse("drivers:verify", args=["TOKEN"]))


class SignUpView(View):
    def get(self, request):
        form = SignUpForm(initial={"language": translation.get_language()})
        return render(request, "drivers/signup.html", {"form": form})

    def post(self, request):
        form = SignUpForm(request.POST)
        if form.is_valid():
            if not ratelimit.allow("signup", client_address(request), limit=5, window_seconds=3600):
                form.add_error(None, _("Too many sign-ups from here: please try again later."))
            else:
                try:
                    driver = services.driver_sign_up(
                        email=form.cleaned_data["email"],
                        password=form.cleaned_data["password"],
                        full_name=form.cleaned_data["full_name"],
                        language=form.cleaned_data["language"],
                        verify_url=_verify_url(request),
                    )
                except services.DriverError as error:
                    form.add_error("email", str(error))
                else:
                    auth.login(request, driver)
                    response = HttpResponseRedirect(reverse("drivers:account"))
                    return _with_language(response, driver.language)
        return render(request, "drivers/signup.html", {"form": form})


def verify(request, token: str):
    try:
        driver = services.driver_verify_email(token=token)
    except services.DriverError as error:
        return render(request, "drivers/verify.html", {"error": str(error)}, status=400)
    messages.success(request, _("Your e-mail address is confirmed."))
    if auth.current_driver(request) is None:
        return HttpResponseRedirect(reverse("drivers:signin"))
    return _with_language(HttpResponseRedirect(reverse("drivers:account")), driver.language)


@require_POST
def verify_resend(request):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    if driver.is_verified:
        return HttpResponseRedirect(reverse("drivers:account"))
    if ratelimit.allow("verify", str(driver.pk), limit=3, window_seconds=3600):
        services.verification_send(driver=driver, verify_url=_verify_url(request))
        messages.success(request, _("We have sent you a new link."))
    else:
        messages.error(request, _("We have sent several links already: please check your e-mail."))
    return HttpResponseRedirect(reverse("drivers:account"))


class SignInView(View):
    def get(self, request):
        return render(request, "drivers/signin.html", {"form": SignInForm()})

    def post(self, request):
        form = SignInForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"].lower()
            who = f"{email}|{client_address(request)}"
            if not ratelimit.allow("signin", who, limit=10, window_seconds=900):
                form.add_error(None, _("Too many attempts: please wait a few minutes."))
            else:
                driver = services.driver_authenticate(
                    email=email, password=form.cleaned_data["password"]
                )
                if driver is None:
                    form.add_error(None, _("E-mail address or password is wrong."))
                else:
                    auth.login(request, driver)
                    target = request.GET.get("next", "")
                    if not target.startswith("/drivers/") or target.startswith("//"):
                        target = reverse("drivers:account")
                    return _with_language(HttpResponseRedirect(target), driver.language)
        return render(request, "drivers/signin.html", {"form": form})


@require_POST
def signout(request):
    auth.logout(request)
    return HttpResponseRedirect(reverse("drivers:finder"))


def account(request):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    sessions = list(selectors.driver_sessions(driver)[:20])
    receipts = selectors.receipts_for(s.pk for s in sessions)
    context = {
        "driver": driver,
        "cards": selectors.driver_cards(driver),
        "places": _places(driver),
        "sessions": [(s, receipts.get(s.pk)) for s in sessions],
        "totals": selectors.driver_totals(driver),
        "card_form": CardForm(),
        "code_form": CardCodeForm(),
        "tap_minutes": int(services.TAP_WINDOW.total_seconds() // 60),
    }
    return render(request, "drivers/account.html", context)


def session_detail(request, pk: int):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    session = selectors.driver_session(driver, pk)
    if session is None:
        raise Http404
    receipt = selectors.receipts_for([pk]).get(pk)
    context = {
        "driver": driver,
        "session": session,
        "receipt": receipt,
        "support_url": support_link(
            station_identity=session.station.identity,
            session=pk,
            receipt=(receipt or {}).get("receipt_number", ""),
            email=driver.email,
        ),
    }
    return render(request, "drivers/session.html", context)


def session_receipt_pdf(request, pk: int):
    """The session's receipt as a PDF file (download)."""
    from django.utils import formats
    from django.utils.timezone import localtime

    from .receipts import receipt_pdf

    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    session = selectors.driver_session(driver, pk)
    receipt = selectors.receipts_for([pk]).get(pk) if session is not None else None
    if receipt is None:
        raise Http404
    site = session.station.site
    zone = ZoneInfo(site.timezone if site else "UTC")
    started = formats.date_format(localtime(session.started_at, zone), "DATETIME_FORMAT")
    currency = receipt["currency"]
    lines = [
        (_("Number"), receipt["receipt_number"]),
        (_("Station"), session.station.name or session.station.identity),
        (_("Site"), site.name if site else ""),
        (_("Started"), started),
        (_("Energy"), f"{session.energy_wh / 1000:.3f} kWh"),
        (_("Tariff"), receipt["tariff"] or "—"),
        (_("Before tax"), f"{receipt['total_excl_tax']} {currency}"),
        (_("Tax"), f"{receipt['tax_total']} {currency}"),
        (_("Total"), f"{receipt['total']} {currency}"),
    ]
    document = receipt_pdf(
        title=f"{connection.tenant.name} · {_('Receipt')}", lines=lines, footer=driver.email
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt["receipt_number"]}.pdf"'
    return response


@require_POST
def card_add(request):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    form = CardForm(request.POST)
    if form.is_valid():
        try:
            services.card_link(driver=driver, uid=form.cleaned_data["uid"])
        except services.DriverError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Card added: now verify it."))
    return HttpResponseRedirect(reverse("drivers:account"))


@require_POST
def card_verify(request, pk: int):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    card = get_object_or_404(DriverCard, pk=pk, driver=driver)
    form = CardCodeForm(request.POST)
    if form.is_valid():
        try:
            services.card_verify_code(card=card, code=form.cleaned_data["code"])
        except services.DriverError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Card verified."))
    return HttpResponseRedirect(reverse("drivers:account"))


@require_POST
def card_remove(request, pk: int):
    driver, redirect = _require_driver(request)
    if redirect:
        return redirect
    card = get_object_or_404(DriverCard, pk=pk, driver=driver)
    services.card_unlink(card=card)
    messages.success(request, _("Card removed from your account."))
    return HttpResponseRedirect(reverse("drivers:account"))


class PreferencesView(View):
    def get(self, request):
        driver, redirect = _require_driver(request)
        if redirect:
            return redirect
        return render(
            request, "drivers/preferences.html", {"form": PreferencesForm(instance=driver)}
        )

    def post(self, request):
        driver, redirect = _require_driver(request)
        if redirect:
            return redirect
        form = PreferencesForm(request.POST, instance=driver)
        if form.is_valid():
            services.driver_update(
                driver=driver, **{f: form.cleaned_data[f] for f in services.PREFERENCE_FIELDS}
            )
            messages.success(request, _("Preferences saved."))
            response = HttpResponseRedirect(reverse("drivers:account"))
            return _with_language(response, driver.language)
        return render(request, "drivers/preferences.html", {"form": form})


class DeleteAccountView(View):
    def get(self, request):
        driver, redirect = _require_driver(request)
        if redirect:
            return redirect
        return render(request, "drivers/delete.html", {"form": DeleteForm()})

    def post(self, request):
        driver, redirect = _require_driver(request)
        if redirect:
            return redirect
        form = DeleteForm(request.POST)
        if form.is_valid():
            if driver.check_password(form.cleaned_data["password"]):
                services.driver_delete(driver=driver, delete_tips=form.cleaned_data["delete_tips"])
                auth.logout(request)
                messages.success(request, _("Your account is deleted."))
                return HttpResponseRedirect(reverse("drivers:finder"))
            form.add_error("password", _("This is not your password."))
        return render(request, "drivers/delete.html", {"form": form})


# --- Portal: site admins ----------------------------------------------------------------------
class ListingListView(ScopedListView):
    model = FinderListing
    permission = "drivers.view"
    template_name = "drivers/listing_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = not self.request.actor.scope_for("drivers.manage").empty
        context["finder_url"] = reverse("drivers:finder")
        return context


class ListingFormView(PermissionRequiredMixin, View):
    permission = "drivers.manage"

    def _listing(self, request, pk):
        if pk is None:
            return None
        return get_object_or_404(
            FinderListing.objects.restrict(request.actor, self.permission), pk=pk
        )

    def _form(self, request, listing, data=None):
        form = FinderListingForm(data, instance=listing)
        sites = Site.objects.restrict(request.actor, self.permission)
        if listing is None:
            sites = sites.filter(finder_listing__isnull=True)
        form.fields["site"].queryset = sites.order_by("name")
        if listing is not None:
            form.fields["site"].disabled = True
        return form

    def get(self, request, pk=None):
        listing = self._listing(request, pk)
        form = self._form(request, listing)
        return render(request, "drivers/listing_form.html", {"form": form, "listing": listing})

    def post(self, request, pk=None):
        listing = self._listing(request, pk)
        form = self._form(request, listing, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            site = data.pop("site") if listing is None else listing.site
            services.listing_save(site=site, **data)
            messages.success(request, _("Listing saved."))
            return HttpResponseRedirect(reverse("drivers:listing_list"))
        return render(request, "drivers/listing_form.html", {"form": form, "listing": listing})


class ListingDeleteView(PermissionRequiredMixin, View):
    permission = "drivers.manage"

    def post(self, request, pk):
        listing = get_object_or_404(
            FinderListing.objects.restrict(request.actor, self.permission), pk=pk
        )
        services.listing_delete(listing=listing)
        messages.success(request, _("The site is no longer in the finder."))
        return HttpResponseRedirect(reverse("drivers:listing_list"))


class TipListView(ScopedListView):
    model = Tip
    permission = "drivers.view"
    template_name = "drivers/tip_list.html"

    def get_queryset(self):
        queryset = super().get_queryset().select_related("station__site", "driver")
        status = self.request.GET.get("status", "")
        if status in TipStatus.values:
            queryset = queryset.filter(status=status)
        return queryset.prefetch_related("photos").order_by("-created_at")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = TipStatus.choices
        context["status"] = self.request.GET.get("status", "")
        context["may_manage"] = not self.request.actor.scope_for("drivers.manage").empty
        return context


class TipModerateView(PermissionRequiredMixin, View):
    permission = "drivers.manage"

    def post(self, request, pk):
        tip = get_object_or_404(Tip.objects.restrict(request.actor, self.permission), pk=pk)
        action = request.POST.get("action")
        if action == "delete":
            services.tip_delete(tip=tip)
            messages.success(request, _("Tip deleted."))
        else:
            try:
                services.tip_moderate(tip=tip, status=action, user=request.user)
            except services.DriverError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Tip moderated."))
        return HttpResponseRedirect(reverse("drivers:tip_list"))


class TipPhotoModeratorView(PermissionRequiredMixin, View):
    """A moderator sees the photos of hidden and flagged tips too."""

    permission = "drivers.view"

    def get(self, request, pk):
        photo = get_object_or_404(TipPhoto.objects.restrict(request.actor, self.permission), pk=pk)
        response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response


class CardCodesView(PermissionRequiredMixin, View):
    """The codes to print on the network's cards (the driver's proof of holding one)."""

    permission = "tokens.view"

    def get(self, request):
        query = request.GET.get("q", "").strip()
        tokens = IdToken.objects.filter(is_active=True).order_by("uid")
        if query:
            tokens = tokens.filter(Q(uid__icontains=query) | Q(label__icontains=query))
        rows = [
            (token, card_code(schema_name=connection.schema_name, uid=token.uid))
            for token in tokens[:200]
        ]
        linked = set(
            DriverCard.objects.filter(status=CardStatus.VERIFIED).values_list("token_id", flat=True)
        )
        return render(
            request,
            "drivers/card_codes.html",
            {"rows": rows, "linked": linked, "q": query, "now": timezone.now()},
        )
