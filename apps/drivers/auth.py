"""Who the driver is: a signed-in driver is kept in the Django session under its own key,
apart from the portal's person (a station manager may be a driver too, on the same browser).
The stored hash of the password is checked on every request, so a password change or an
account deletion signs out every other browser."""

from __future__ import annotations

from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework import authentication, exceptions, permissions

from .models import Driver

SESSION_KEY = "drivers.driver_id"
HASH_KEY = "drivers.driver_hash"


def _hash(driver: Driver) -> str:
    return salted_hmac("drivers.session", driver.password).hexdigest()


def login(request, driver: Driver) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = driver.pk
    request.session[HASH_KEY] = _hash(driver)


def logout(request) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(HASH_KEY, None)
    request.session.cycle_key()


def current_driver(request) -> Driver | None:
    if hasattr(request, "_driver"):
        return request._driver
    driver = None
    driver_id = request.session.get(SESSION_KEY)
    if driver_id is not None:
        driver = Driver.objects.filter(pk=driver_id).first()
        if driver is not None and not constant_time_compare(
            request.session.get(HASH_KEY, ""), _hash(driver)
        ):
            driver = None
    request._driver = driver
    return driver


class DriverSessionAuthentication(authentication.BaseAuthentication):
    """The driver API: the driver's session, with CSRF checks on writes (as DRF's own
    SessionAuthentication)."""

    def authenticate(self, request):
        driver = current_driver(request._request)
        if driver is None:
            return None
        authentication.SessionAuthentication().enforce_csrf(request)
        return (driver, None)

    def authenticate_header(self, request) -> str:
        return 'Session realm="drivers"'


class IsDriver(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, Driver):
            return True
        if request.user is None or not getattr(request.user, "is_authenticated", False):
            raise exceptions.NotAuthenticated()
        return False
