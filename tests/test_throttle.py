"""One password throttle for every route that checks a password, counted in the database.

Each route is driven through the test client: LOGIN_ATTEMPTS wrong passwords, then the right
one is refused too. The counters are rows (annotate.models.ThrottleCounter) written by one
atomic upsert per attempt, so they hold across workers and servers; the parallel tests in
tests/test_throttle_concurrency.py show a burst cannot outrun them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.views import ObtainAuthToken

from annotate import throttle
from annotate.models import ThrottleCounter

from .factories import PASSWORD, make_user

LIMIT = throttle.LOGIN_ATTEMPTS
WRONG = "wrong-password"


@pytest.fixture
def staff(db):
    return make_user("stella", is_staff=True, is_superuser=True)


@pytest.fixture
def checks(monkeypatch):
    """How many times a password was really checked by Django's backend."""
    counted = {"n": 0}
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        counted["n"] += 1
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return counted


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _post_login(url: str, username: str, password: str, address: str) -> Client:
    client = Client()
    client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)
    return client


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_each_login_page_refuses_the_right_password_after_too_many_wrong(staff, url, checks):
    for i in range(LIMIT):
        assert not _logged_in(_post_login(url, staff.username, WRONG, f"10.1.0.{i}"))
    client = Client()
    response = client.post(
        url, {"username": staff.username, "password": PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert not _logged_in(client)
    assert throttle.THROTTLED_MESSAGE in response.content.decode()
    assert checks["n"] == LIMIT


def test_the_login_pages_share_one_count(staff):
    """Wrong passwords on the app's login page use up the admin's too, and the reverse."""
    for i in range(LIMIT // 2):
        _post_login("/login/", staff.username, WRONG, f"10.2.0.{i}")
    for i in range(LIMIT - LIMIT // 2):
        _post_login("/admin/login/", staff.username, WRONG, f"10.2.1.{i}")
    assert not _logged_in(_post_login("/login/", staff.username, PASSWORD, "10.2.2.1"))
    assert not _logged_in(_post_login("/admin/login/", staff.username, PASSWORD, "10.2.2.2"))


def test_authenticate_without_a_request_is_throttled_too(staff, checks):
    """Any other caller of authenticate() (a package's login, a shell) counts by username."""
    for _ in range(LIMIT):
        assert authenticate(username=staff.username, password=WRONG) is None
    assert authenticate(username=staff.username, password=PASSWORD) is None
    assert checks["n"] == LIMIT


def test_the_admin_password_change_checks_the_old_password_through_the_throttle(staff):
    client = Client()
    client.force_login(staff)
    url = reverse("admin:password_change")
    new = "a-brand-new-passphrase-42"
    for _ in range(LIMIT):
        response = client.post(
            url, {"old_password": WRONG, "new_password1": new, "new_password2": new}
        )
        assert response.status_code == 200  # the form again, with its error
    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert throttle.THROTTLED_MESSAGE in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
    # ... and the same count blocks the login pages for that user.
    assert not _logged_in(_post_login("/login/", staff.username, PASSWORD, "10.3.0.1"))


def test_the_admin_password_change_still_works(staff):
    client = Client()
    client.force_login(staff)
    new = "a-brand-new-passphrase-42"
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(new)


def _routes(resolver: URLResolver, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append((route, pattern.callback))
    return found


def _takes_a_password(route: str, callback) -> bool:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    password_views = (auth_views.LoginView, auth_views.PasswordChangeView, ObtainAuthToken)
    if isinstance(view, type) and issubclass(view, password_views):
        return True
    return ("login" in route or "password" in route) and "done" not in route


def test_every_route_that_takes_a_password_is_one_tested_here():
    """A new login, password or token-for-password route (a package's, DRF's browsable API
    login, obtain_auth_token) fails this test until a test above drives it."""
    tested = {"login/", "admin/login/", "admin/password_change/"}
    taking = {
        route for route, callback in _routes(get_resolver()) if _takes_a_password(route, callback)
    }
    # The admin's "set a user's password" form takes no old password: nothing to guess.
    taking.discard("admin/auth/user/<id>/password/")
    assert taking == tested


def test_a_right_password_does_not_use_up_the_limit(staff):
    for _ in range(LIMIT * 2):
        assert authenticate(username=staff.username, password=PASSWORD) == staff
    assert throttle.count("login-user", staff.username) == 0


def test_usernames_count_in_any_letter_case(staff):
    for i in range(LIMIT):
        name = staff.username.upper() if i % 2 else staff.username
        _post_login("/login/", name, WRONG, f"10.4.0.{i}")
    assert throttle.count("login-user", staff.username) == LIMIT


def test_counts_are_consecutive_and_start_again_after_the_window(db):
    assert [throttle.hit("test", "x") for _ in range(3)] == [1, 2, 3]
    ThrottleCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert throttle.count("test", "x") == 0
    assert throttle.hit("test", "x") == 1
    assert ThrottleCounter.objects.get().expires_at > timezone.now()


def test_expired_counters_are_purged_when_a_new_window_begins(db):
    throttle.hit("test", "old")
    ThrottleCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    throttle.hit("test", "new")
    assert ThrottleCounter.objects.count() == 1


def test_the_counters_hold_no_username_or_address_in_clear(staff):
    _post_login("/login/", staff.username, WRONG, "192.0.2.77")
    keys = list(ThrottleCounter.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert not any(staff.username in key or "192.0.2.77" in key for key in keys)
