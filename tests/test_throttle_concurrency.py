"""A burst of parallel wrong passwords cannot outrun the throttle: each attempt takes its
number from one atomic upsert before any password is checked, so at most LOGIN_ATTEMPTS
passwords are checked, however many requests arrive at once, on one server or several.

Real threads with their own database connections (transaction=True), through the login
page; on PostgreSQL the threads race on one row's lock, on SQLite on the write lock.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connections
from django.test import Client

from annotate import throttle

from .factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

BURST = 60


@pytest.fixture
def checks(monkeypatch):
    lock = threading.Lock()
    counted = {"n": 0}
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        with lock:
            counted["n"] += 1
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return counted


def burst(attempts: list[tuple[str, str]]) -> list[object]:
    """One wrong password for each (username, address), all at once, one thread each;
    whether each logged in (or the error it raised)."""
    barrier = threading.Barrier(len(attempts))
    results: list[object] = [None] * len(attempts)

    def attempt(i: int) -> None:
        client = Client()
        username, address = attempts[i]
        try:
            barrier.wait(timeout=30)
            client.post(
                "/login/", {"username": username, "password": f"wrong-{i}"}, REMOTE_ADDR=address
            )
            results[i] = "_auth_user_id" in client.session
        except Exception as error:  # noqa: BLE001 - asserted by the test
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(attempts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an attempt hung"
    return results


def _right_password_is_refused(username: str, address: str) -> bool:
    client = Client()
    client.post("/login/", {"username": username, "password": PASSWORD}, REMOTE_ADDR=address)
    return "_auth_user_id" not in client.session


def test_a_burst_from_many_addresses_checks_at_most_the_limit_for_one_user(checks):
    user = make_user("burstee")
    results = burst([(user.username, f"10.7.0.{i}") for i in range(BURST)])
    assert results == [False] * BURST
    assert checks["n"] <= throttle.LOGIN_ATTEMPTS
    assert throttle.count("login-user", user.username) == BURST
    assert _right_password_is_refused(user.username, "10.8.0.1")


def test_a_burst_from_one_address_checks_at_most_the_limit(checks):
    users = [make_user(f"spray{i}") for i in range(BURST)]
    results = burst([(u.username, "10.9.0.1") for u in users])
    assert results == [False] * BURST
    assert checks["n"] <= throttle.LOGIN_ATTEMPTS
    assert _right_password_is_refused(users[-1].username, "10.9.0.1")
