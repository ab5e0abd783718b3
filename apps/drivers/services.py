"""Writes of the drivers' side: accounts, cards, tips and the finder listings.

Keyword-only and atomic; model invariants checked with ``full_clean()``.  Messages to drivers
go through the notification service by the NOTIFICATION_REQUESTED event and their preferences
by CONTACT_PREFERENCES (``apps.core.events``): this app does not import the notifications app.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging.models import IdToken
from apps.core import events, policies

from . import journal
from .cards import card_code, normalise_code
from .choices import CardStatus, CardVerifiedBy, TipStatus
from .models import Driver, DriverCard, FinderListing, Tip, TipPhoto, TipVote

VERIFY_SALT = "drivers.verify-email"
VERIFY_MAX_AGE = dt.timedelta(days=3)
TAP_WINDOW = dt.timedelta(minutes=15)  # a pending card is verified by a tap this soon after
MAX_CARDS = 5
MAX_CODE_ATTEMPTS = 5
TIPS_PER_DAY = 5  # per driver
TIP_GAP = dt.timedelta(minutes=10)  # between two tips of a driver at the same station
FLAG_SCORE = -3  # a tip voted down this far waits for a moderator
PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTOS_PER_TIP = 3
PHOTO_TYPES = {  # what the first bytes must be: the browser's word is not trusted
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}


class DriverError(Exception):
    """A request the rules refuse (the message is for the driver)."""


# --- Accounts ---------------------------------------------------------------------------------
def verification_token(driver: Driver) -> str:
    return signing.dumps({"d": driver.pk, "e": driver.email}, salt=VERIFY_SALT)


@transaction.atomic
def driver_sign_up(
    *, email: str, password: str, full_name: str = "", language: str = "en", verify_url: str
) -> Driver:
    """A new account, unverified; the e-mail with the verification link (``verify_url``, which
    ends with the token) is requested from the notification service."""
    email = email.strip().lower()
    if Driver.objects.filter(email=email).exists():
        raise DriverError(_("An account with this e-mail address exists already."))
    driver = Driver(email=email, full_name=full_name.strip(), language=language or "en")
    driver.set_password(password)
    driver.full_clean()
    driver.save()
    verification_send(driver=driver, verify_url=verify_url)
    return driver


def verification_send(*, driver: Driver, verify_url: str) -> None:
    token = verification_token(driver)
    events.emit(
        events.NOTIFICATION_REQUESTED,
        recipient={
            "key": driver.contact_key,
            "email": driver.email,
            "phone": "",
            "language": driver.language,
        },
        kind="drivers.verify_email",
        # a new link per request (the token carries its time): each one is sent
        event_key=f"drivers.verify:{driver.pk}:{token[-12:]}",
        context={"link": verify_url.replace("TOKEN", token), "network": connection.tenant.name},
    )


@transaction.atomic
def driver_verify_email(*, token: str) -> Driver:
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as error:
        raise DriverError(_("This link has expired: sign in to get a new one.")) from error
    except signing.BadSignature as error:
        raise DriverError(_("This link is not valid.")) from error
    driver = Driver.objects.select_for_update().filter(pk=data.get("d")).first()
    if driver is None or driver.email != data.get("e"):
        raise DriverError(_("This link is not valid."))
    if driver.email_verified_at is None:
        driver.email_verified_at = timezone.now()
        driver.save(update_fields=["email_verified_at"])
    return driver


def driver_authenticate(*, email: str, password: str) -> Driver | None:
    driver = Driver.objects.filter(email=email.strip().lower()).first()
    if driver is None:
        Driver().set_password(password)  # the same work either way: no timing oracle
        return None
    if not driver.check_password(password):
        return None
    Driver.objects.filter(pk=driver.pk).update(last_login_at=timezone.now())
    return driver


PREFERENCE_FIELDS = ("full_name", "language", "phone", "notify_email", "notify_sms", "notify_push")


@transaction.atomic
def driver_update(*, driver: Driver, **values) -> Driver:
    """Name, language, phone and notification preferences; the notification service is told
    (for the driver's own key and the keys of their verified cards)."""
    for name, value in values.items():
        if name not in PREFERENCE_FIELDS:
            raise TypeError(f"driver_update() got an unexpected field {name!r}")
        setattr(driver, name, value)
    driver.full_clean()
    driver.save()
    preferences_publish(driver=driver)
    return driver


def preferences_publish(*, driver: Driver) -> None:
    uids = DriverCard.objects.filter(driver=driver, status=CardStatus.VERIFIED).values_list(
        "token__uid", flat=True
    )
    events.emit(
        events.CONTACT_PREFERENCES,
        keys=[driver.contact_key, *(f"token:{uid}" for uid in uids)],
        email=driver.email,
        phone=driver.phone,
        language=driver.language,
        email_enabled=driver.notify_email,
        sms_enabled=driver.notify_sms,
        push_enabled=driver.notify_push,
    )


@transaction.atomic
def driver_delete(*, driver: Driver, delete_tips: bool = False) -> None:
    """The account, its cards' links, votes and preferences go; tips stay without an author
    (other drivers rely on them) unless the driver asks for them to go too.  Sessions and
    receipts are the network's records (billing law): they are kept, tied to the card, not to
    this account (docs/drivers.md)."""
    if delete_tips:
        Tip.objects.filter(driver=driver).delete()
    uids = list(driver.cards.values_list("token__uid", flat=True))
    events.emit(
        events.CONTACT_PREFERENCES,
        keys=[driver.contact_key, *(f"token:{uid}" for uid in uids)],
        email="",
        phone="",
        language=driver.language,
        email_enabled=False,
        sms_enabled=False,
        push_enabled=False,
    )
    driver.delete()


# --- Cards ------------------------------------------------------------------------------------
@transaction.atomic
def card_link(*, driver: Driver, uid: str) -> DriverCard:
    """Start linking a card of this network; it must then be verified (code or tap)."""
    uid = uid.strip().upper()
    token = IdToken.objects.filter(uid__iexact=uid, is_active=True).first()
    if token is None:
        raise DriverError(_("No active card of this network has this number."))
    if (
        DriverCard.objects.filter(token=token, status=CardStatus.VERIFIED)
        .exclude(driver=driver)
        .exists()
    ):
        raise DriverError(_("This card is linked to another account."))
    existing = DriverCard.objects.filter(driver=driver, token=token).first()
    if existing is not None:
        return existing
    if driver.cards.count() >= MAX_CARDS:
        raise DriverError(_("An account may link at most %(n)s cards.") % {"n": MAX_CARDS})
    card = DriverCard(driver=driver, token=token, requested_at=timezone.now())
    card.full_clean()
    card.save()
    return card


def card_verify_code(*, card: DriverCard, code: str) -> DriverCard:
    """The code printed on the card (``cards.card_code``); MAX_CODE_ATTEMPTS wrong ones and
    only a tap verifies the card.  A wrong attempt is counted even though it is refused."""
    with transaction.atomic():
        card = DriverCard.objects.select_for_update().select_related("token").get(pk=card.pk)
        if card.status == CardStatus.VERIFIED:
            return card
        if card.code_attempts >= MAX_CODE_ATTEMPTS:
            raise DriverError(
                _("Too many wrong codes: tap the card at a station, or unlink it and start again.")
            )
        expected = card_code(schema_name=connection.schema_name, uid=card.token.uid)
        if normalise_code(code) == expected:
            return _card_verified(card, CardVerifiedBy.CODE)
        DriverCard.objects.filter(pk=card.pk).update(code_attempts=F("code_attempts") + 1)
    raise DriverError(_("This is not the code printed on the card."))


def _card_verified(card: DriverCard, by: str) -> DriverCard:
    if DriverCard.objects.filter(token=card.token, status=CardStatus.VERIFIED).exists():
        raise DriverError(_("This card is linked to another account."))
    card.status = CardStatus.VERIFIED
    card.verified_by = by
    card.verified_at = timezone.now()
    card.save(update_fields=["status", "verified_by", "verified_at"])
    # the other pending requests for this card lose: it is someone else's now
    DriverCard.objects.filter(token=card.token, status=CardStatus.PENDING).delete()
    preferences_publish(driver=card.driver)
    return card


@transaction.atomic
def cards_verify_by_tap(*, uid: str, at: dt.datetime | None = None) -> DriverCard | None:
    """A card was used at a station (a session started with it): the one pending request for
    it made within TAP_WINDOW is verified.  Two drivers waiting for the same card: neither
    (who tapped cannot be told), they must enter the code."""
    at = at or timezone.now()
    pending = list(
        DriverCard.objects.select_for_update()
        .select_related("token", "driver")
        .filter(
            token__uid=uid,
            status=CardStatus.PENDING,
            requested_at__gte=at - TAP_WINDOW,
            requested_at__lte=at,
        )
    )
    if len(pending) != 1:
        return None
    try:
        return _card_verified(pending[0], CardVerifiedBy.TAP)
    except DriverError:
        return None


@transaction.atomic
def card_unlink(*, card: DriverCard) -> None:
    card.delete()


# --- Tips -------------------------------------------------------------------------------------
def _photo_checked(content_type: str, data: bytes) -> str:
    if len(data) > PHOTO_MAX_BYTES:
        raise DriverError(_("A photo may be at most 2 MB."))
    for kind, magics in PHOTO_TYPES.items():
        if any(data.startswith(magic) for magic in magics):
            if kind == "image/webp" and data[8:12] != b"WEBP":
                continue
            return kind
    raise DriverError(_("Photos must be JPEG, PNG or WebP images."))


@transaction.atomic
def tip_create(*, driver: Driver, station, body: str, photos=()) -> Tip:
    """A tip (and up to three photos).  Abuse limits: a verified e-mail, TIPS_PER_DAY per
    driver, one tip per station every TIP_GAP."""
    if not driver.is_verified:
        raise DriverError(_("Confirm your e-mail address before you leave tips."))
    now = timezone.now()
    Driver.objects.select_for_update().filter(pk=driver.pk).first()  # one tip at a time
    mine = Tip.objects.filter(driver=driver)
    if mine.filter(created_at__gte=now - dt.timedelta(days=1)).count() >= TIPS_PER_DAY:
        raise DriverError(_("You have left many tips today: please try again tomorrow."))
    if mine.filter(station=station, created_at__gte=now - TIP_GAP).exists():
        raise DriverError(_("You have just left a tip here."))
    if len(photos) > PHOTOS_PER_TIP:
        raise DriverError(_("At most three photos per tip."))
    checked = [(_photo_checked(kind, data), data) for kind, data in photos]
    tip = Tip(station=station, driver=driver, body=body.strip())
    tip.full_clean()
    tip.save()
    for kind, data in checked:
        TipPhoto.objects.create(tip=tip, content_type=kind, data=data, size=len(data))
    return tip


@transaction.atomic
def tip_vote(*, driver: Driver, tip: Tip, value: int) -> Tip:
    """+1 or -1 (again: changes the vote; 0 withdraws it).  A tip voted down to FLAG_SCORE
    is hidden until a moderator decides."""
    if value not in (-1, 0, 1):
        raise DriverError(_("A vote is +1 or -1."))
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    if tip.driver_id == driver.pk:
        raise DriverError(_("You cannot vote for your own tip."))
    if value == 0:
        TipVote.objects.filter(tip=tip, driver=driver).delete()
    else:
        TipVote.objects.update_or_create(tip=tip, driver=driver, defaults={"value": value})
    tip.score = TipVote.objects.filter(tip=tip).aggregate(s=Sum("value"))["s"] or 0
    fields = ["score"]
    if tip.score <= FLAG_SCORE and tip.status == TipStatus.PUBLISHED and tip.moderated_at is None:
        tip.status = TipStatus.FLAGGED
        fields.append("status")
    tip.save(update_fields=fields)
    return tip


@transaction.atomic
def tip_moderate(*, tip: Tip, status: str, user) -> Tip:
    """A site admin publishes or hides a tip; their decision stands against later votes."""
    if status not in (TipStatus.PUBLISHED, TipStatus.HIDDEN):
        raise DriverError(_("A moderator publishes or hides a tip."))
    tip.status = status
    tip.moderated_at = timezone.now()
    tip.moderated_by = user
    tip.full_clean()
    tip.save(update_fields=["status", "moderated_at", "moderated_by"])
    return tip


@transaction.atomic
def tip_delete(*, tip: Tip) -> None:
    tip.delete()


# --- Finder listings (site admins) -----------------------------------------------------------
@transaction.atomic
def listing_save(*, site, **fields) -> FinderListing:
    listing = FinderListing.objects.filter(site=site).first() or FinderListing(site=site)
    for name, value in fields.items():
        setattr(listing, name, value)
    listing.full_clean()
    listing.save()
    _finder_changed()
    return listing


@transaction.atomic
def listing_delete(*, listing: FinderListing) -> None:
    listing.delete()
    _finder_changed()


def _finder_changed() -> None:
    """Every process's finder snapshot is read again once this commits."""
    schema = connection.schema_name
    transaction.on_commit(lambda: journal.invalidate(schema))


# --- Queues (the waitlist answers through policies; this app never imports it) --------------
def queue_join(*, driver: Driver, station_id: int, card: DriverCard) -> dict:
    """Join the station's queue with one of the driver's verified cards (proved already: the
    place is taken at once).  Returns {"entry_id", "position"}."""
    if card.driver_id != driver.pk or card.status != CardStatus.VERIFIED:
        raise DriverError(_("Verify this card first."))
    answer = policies.ask(
        policies.DRIVER_QUEUE_JOIN,
        station_id=station_id,
        token_uid=card.token.uid,
        email=driver.email,
        language=driver.language,
    )
    if answer is None:
        raise DriverError(_("This station has no queue."))
    if answer.get("error"):
        raise DriverError(answer["error"])
    return answer


def queue_leave(*, driver: Driver, entry_id: int) -> None:
    """Leave a place held by one of the driver's verified cards."""
    uids = list(
        DriverCard.objects.filter(driver=driver, status=CardStatus.VERIFIED).values_list(
            "token__uid", flat=True
        )
    )
    if not uids or not policies.ask(
        policies.DRIVER_QUEUE_LEAVE, entry_id=entry_id, token_uids=uids
    ):
        raise DriverError(_("This place in a queue is not yours, or it is over."))
