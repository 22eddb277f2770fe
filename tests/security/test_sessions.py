"""Sessions and authentication: CSRF on every session write (the API included), login
throttling with one answer for unknown and known users, `next=` kept on the site, logout by
POST, session keys rotated at login, and API tokens only ever in the Authorization header.

`check --deploy` and the refusal to start without a real SECRET_KEY are tested in
tests/test_settings.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotate import throttle
from annotate.models import Annotation

from ..api_support import api
from ..factories import PASSWORD
from .conftest import login
from .test_authorization import PUBLIC, ROUTES, _positive_role, is_api, url_for
from .test_injection import _pages

WRITES = ("POST", "PUT", "PATCH", "DELETE")


# --- CSRF --------------------------------------------------------------------------------


def test_every_session_write_needs_the_csrf_token(world):
    """Each write route, by a user who may use it, logged in by session but sending no CSRF
    token: 403, whatever the body, and nothing is written."""
    gold_version = Annotation.objects.gold().get(article=world.alpha.article).version
    wrong = []
    for name, methods in ROUTES.items():
        for method, access in methods.items():
            if method not in WRITES or name == "login":
                continue
            user = world.alpha.manager if access == PUBLIC else _positive_role(world.alpha, access)
            client = login(user, enforce_csrf_checks=True)
            url = url_for(name, world.alpha)
            response = getattr(client, method.lower())(
                url, data="{}", content_type="application/json"
            )
            if response.status_code != 403:
                wrong.append((method, url, response.status_code))
            elif is_api(name) and "CSRF" not in response.json()["detail"]:
                wrong.append((method, url, response.json()))
    assert wrong == []
    assert Annotation.objects.gold().get(article=world.alpha.article).version == gold_version


def test_form_posts_without_the_token_are_refused(world):
    client = login(world.alpha.editor, enforce_csrf_checks=True)
    article = world.alpha.open_article
    annotation = Annotation.objects.get(article=article, annotator=world.alpha.editor)
    response = client.post(
        reverse("span-add", args=[article.pk]),
        {"start": "0", "end": "6", "quote": "Rebels", "label": "ACTOR", "base_version": "1"},
    )
    assert response.status_code == 403
    annotation.refresh_from_db()
    assert annotation.version == 1


def test_form_posts_with_the_token_are_accepted(world):
    client = login(world.alpha.editor, enforce_csrf_checks=True)
    article = world.alpha.open_article
    page = client.get(reverse("article", args=[article.pk])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("span-add", args=[article.pk]),
        {
            "start": "0",
            "end": "6",
            "quote": "Rebels",
            "label": "ACTOR",
            "base_version": "1",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    annotation = Annotation.objects.get(article=article, annotator=world.alpha.editor)
    assert annotation.version == 2


def test_api_session_write_needs_the_csrf_header(world):
    side = world.alpha
    client = login(side.editor, enforce_csrf_checks=True)
    url = f"/api/articles/{side.open_article.pk}/annotation/"
    body = {"base_version": 1, "spans": []}
    response = client.put(url, body, content_type="application/json")
    assert response.status_code == 403
    client.get(reverse("home"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.put(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content


def test_api_token_writes_need_no_csrf(world):
    side = world.alpha
    client = api(side.editor)
    client.handler.enforce_csrf_checks = True
    response = client.put(
        f"/api/articles/{side.open_article.pk}/annotation/",
        {"base_version": 1, "spans": []},
        format="json",
    )
    assert response.status_code == 200, response.content


# --- Logging in --------------------------------------------------------------------------


def _fail(client: Client, username: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"),
        {"username": username, "password": "wrong-password"},
        REMOTE_ADDR=address,
    )


def _errors(response) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode())


def test_unknown_and_known_usernames_get_the_same_answer(world):
    client = Client()
    known = _fail(client, world.alpha.editor.username)
    unknown = _fail(client, "nobody-by-this-name")
    assert known.status_code == unknown.status_code == 200
    assert _errors(known) == _errors(unknown) != []


def test_inactive_users_get_the_same_answer_too(world):
    user = world.alpha.other_editor
    user.is_active = False
    user.save()
    client = Client()
    inactive = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    unknown = _fail(client, "nobody-by-this-name")
    assert _errors(inactive) == _errors(unknown) != []
    assert "_auth_user_id" not in client.session


def test_too_many_failures_block_the_username_from_any_address(world):
    user = world.alpha.editor
    for i in range(throttle.LOGIN_ATTEMPTS):
        _fail(Client(), user.username, address=f"10.0.1.{i}")
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": user.username.upper(), "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed attempts" in response.content.decode()


def test_too_many_failures_block_the_address_for_any_username(world):
    for i in range(throttle.LOGIN_ATTEMPTS):
        _fail(Client(), f"guess{i}", address="10.0.0.66")
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": world.alpha.manager.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.66",
    )
    assert "_auth_user_id" not in client.session
    assert "Too many failed attempts" in response.content.decode()
    other = Client()
    other.post(
        reverse("login"),
        {"username": world.alpha.manager.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.67",
    )
    assert "_auth_user_id" in other.session


def test_blocked_message_is_the_same_for_unknown_and_known_usernames(world):
    for name in (world.alpha.editor.username, "nobody-by-this-name"):
        for i in range(throttle.LOGIN_ATTEMPTS):
            _fail(Client(), name, address=f"10.2.{len(name)}.{i}")
    known = _fail(Client(), world.alpha.editor.username, address="10.3.0.1")
    unknown = _fail(Client(), "nobody-by-this-name", address="10.3.0.2")
    assert _errors(known) == _errors(unknown)
    assert "Too many failed attempts" in _errors(known)[0]


def test_the_api_does_not_offer_a_password_login(world):
    """The API takes tokens and sessions only: no endpoint where passwords can be tried
    without the login form's throttle."""
    for method in ("get", "post"):
        response = getattr(Client(), method)(
            "/api/projects/",
            HTTP_AUTHORIZATION="Basic " + "YWxwaGFfZWRpdG9yOnRlc3QtcGFzc3dvcmQtMTIz",
        )
        assert response.status_code == 401


def test_logging_in_rotates_the_session_key(world):
    client = Client()
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("login"), {"username": world.alpha.editor.username, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    assert client.session.session_key != before


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https:evil.example",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        " https://evil.example/",
    ],
)
def test_next_never_leaves_the_site(world, target):
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": world.alpha.editor.username, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    response = Client().post(
        reverse("login") + "?next=" + target,
        {"username": world.alpha.editor.username, "password": PASSWORD},
    )
    assert response["Location"] == reverse("home")


def test_next_on_the_site_is_followed(world):
    target = reverse("project", args=["alpha"])
    response = Client().post(
        reverse("login"),
        {"username": world.alpha.editor.username, "password": PASSWORD, "next": target},
    )
    assert response["Location"] == target


def test_logout_by_get_does_not_log_out(world):
    client = login(world.alpha.editor)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_logout_ends_the_session_for_good(world):
    client = login(world.alpha.editor)
    stolen = client.cookies["sessionid"].value
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    replay = Client()
    replay.cookies["sessionid"] = stolen
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_logout_refuses_an_offsite_next(world):
    client = login(world.alpha.editor)
    response = client.post(reverse("logout") + "?next=https://evil.example/")
    assert "evil.example" not in response.get("Location", "")


def test_session_cookies_are_http_only_and_same_site(world):
    client = Client()
    client.post(reverse("login"), {"username": world.alpha.editor.username, "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["secure"], "production settings send session cookies over HTTPS only"


# --- Tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["token", "auth_token", "access_token", "key", "api_key"])
def test_the_api_never_reads_a_token_from_the_query_string(world, name):
    key = Token.objects.create(user=world.alpha.manager).key
    response = Client().get(f"/api/projects/?{name}={key}")
    assert response.status_code == 401
    response = Client().get(f"/api/projects/alpha/export/?format=jsonl&{name}={key}")
    assert response.status_code == 401


def test_the_api_never_reads_a_token_from_a_form_body(world):
    key = Token.objects.create(user=world.alpha.manager).key
    response = Client().post("/api/projects/alpha/releases/", {"token": key, "name": "v2"})
    assert response.status_code == 401


def test_tokens_never_appear_in_a_rendered_url(world):
    users = {user for user, _ in _pages(world) if user is not None}
    keys = {user.pk: Token.objects.get_or_create(user=user)[0].key for user in users}
    for user, url in _pages(world):
        response = login(user).get(url) if user else Client().get(url)
        urls = re.findall(r'(?:href|src|action|hx-\w+)="([^"]*)"', response.content.decode())
        for key in keys.values():
            assert not any(key in u for u in urls), url
    profile = login(world.alpha.editor).get(reverse("profile")).content.decode()
    assert keys[world.alpha.editor.pk] in profile  # shown to its owner, as text
    assert response.headers.get("Referrer-Policy") == "same-origin"


def test_regenerating_the_token_revokes_the_old_one(world):
    old = Token.objects.create(user=world.alpha.editor).key
    client = login(world.alpha.editor)
    client.post(reverse("regenerate-token"))
    response = Client().get("/api/projects/", HTTP_AUTHORIZATION=f"Token {old}")
    assert response.status_code == 401
