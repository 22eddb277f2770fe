"""API: authentication, projects, labels and members."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from annotate.models import Assignment, Label, Membership, Project, Role

from .api_support import api, assert_error
from .factories import PASSWORD, make_article, make_user

NEW_PROJECT = {
    "name": "Wire copy",
    "slug": "wire",
    "guidelines": "# Rules\nMark **actors**.",
    "overlap": 3,
    "labels": [
        {"key": "ACTOR", "name": "Actor", "color": "#FFD966", "hotkey": "a"},
        {"key": "PLACE", "name": "Place", "hotkey": "p", "description": "Towns, regions"},
    ],
}


# --- authentication ---------------------------------------------------------------------


def test_no_token_is_401_with_the_error_body(project):
    response = api().get("/api/projects/")
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(project):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(client.get("/api/projects/"), 401)


def test_a_token_in_the_query_string_is_not_accepted(editor):
    token = Token.objects.create(user=editor)
    assert_error(api().get(f"/api/projects/?token={token.key}"), 401)


def test_drf_create_token_command_makes_a_working_token(editor, capsys):
    call_command("drf_create_token", editor.username)
    key = capsys.readouterr().out.split()[2]
    assert Token.objects.get(user=editor).key == key
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/projects/").status_code == 200


def test_session_auth_needs_the_csrf_token_for_writes(manager):
    client = Client(enforce_csrf_checks=True)
    client.login(username=manager.username, password=PASSWORD)
    assert client.get("/api/projects/").status_code == 200
    response = client.post("/api/projects/", NEW_PROJECT, content_type="application/json")
    assert "CSRF" in assert_error(response, 403)["detail"]
    secret = "k" * 32  # what the CSRF cookie of any page would hold
    client.cookies["csrftoken"] = secret
    response = client.post(
        "/api/projects/", NEW_PROJECT, content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert response.status_code == 201, response.content


# --- projects ---------------------------------------------------------------------------


def test_lists_only_the_callers_projects_with_their_role(project, editor, outsider):
    make_article(project)
    data = api(editor).get("/api/projects/").json()
    assert data["count"] == 1
    (item,) = data["results"]
    assert item["slug"] == "demo-news" and item["role"] == "editor" and item["articles"] == 1
    assert [label["key"] for label in item["labels"]] == ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
    assert [p["slug"] for p in api(outsider).get("/api/projects/").json()["results"]] == [
        "elsewhere"
    ]


def test_admins_see_every_project_as_managers(project, outsider, admin_user):
    data = api(admin_user).get("/api/projects/").json()
    assert {p["slug"]: p["role"] for p in data["results"]} == {
        "demo-news": "manager",
        "elsewhere": "manager",
    }


def test_another_projects_detail_is_404(project, outsider):
    assert_error(api(outsider).get("/api/projects/demo-news/"), 404)
    assert_error(api(outsider).get("/api/projects/no-such-project/"), 404)


def test_project_list_queries_do_not_grow_with_projects(
    outsider, admin_user, django_assert_max_num_queries
):
    for n in range(5):
        Project.objects.create(name=f"P{n}", slug=f"p{n}")
    client = api(admin_user)
    # Count and page, then one prefetch each: labels, their attributes, relation types and
    # their from and to labels.
    with django_assert_max_num_queries(8):
        assert client.get("/api/projects/").json()["count"] == 6


def test_a_manager_creates_a_project_with_labels_and_manages_it(manager):
    response = api(manager).post("/api/projects/", NEW_PROJECT, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["slug"] == "wire" and data["role"] == "manager" and data["overlap"] == 3
    assert [(lab["key"], lab["color"], lab["order"]) for lab in data["labels"]] == [
        ("ACTOR", "#ffd966", 0),
        ("PLACE", "#ffd966", 1),
    ]
    project = Project.objects.get(slug="wire")
    assert Membership.objects.get(project=project, user=manager).role == Role.MANAGER


def test_editors_and_reviewers_cannot_create_projects(editor, reviewer):
    for user in (editor, reviewer):
        assert_error(api(user).post("/api/projects/", NEW_PROJECT, format="json"), 403)
    assert not Project.objects.filter(slug="wire").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"labels": [{"key": "actor", "name": "Actor"}]}, "labels"),
        ({"labels": [{"key": "ACTOR", "name": "Actor", "color": "red"}]}, "labels"),
        ({"labels": [{"key": "ACTOR", "name": "Actor", "hotkey": "ab"}]}, "labels"),
        ({"labels": [{"key": "A", "name": "A"}, {"key": "A", "name": "B"}]}, "labels"),
        (
            {
                "labels": [
                    {"key": "A", "name": "A", "hotkey": "x"},
                    {"key": "B", "name": "B", "hotkey": "x"},
                ]
            },
            "labels",
        ),
        ({"labels": []}, "labels"),
        ({"labels": "ACTOR"}, "labels"),
        ({"slug": "demo-news"}, "slug"),
        ({"slug": "no spaces"}, "slug"),
        ({"overlap": 0}, "overlap"),
        ({"overlap": "2"}, "overlap"),
        ({"name": 12}, "name"),
        ({"is_staff": True}, "is_staff"),
        ({"memberships": [{"user": 1}]}, "memberships"),
    ],
)
def test_invalid_projects_are_refused_and_nothing_is_written(manager, change, field):
    response = api(manager).post("/api/projects/", {**NEW_PROJECT, **change}, format="json")
    data = assert_error(response, 400)
    assert field in data["errors"]
    assert not Project.objects.filter(name="Wire copy").exists()
    assert not Label.objects.filter(key="PLACE").exists()


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"text"', b"null", b"[" * 100_000])
def test_malformed_bodies_are_400_not_500(manager, raw):
    response = api(manager).generic("POST", "/api/projects/", raw, content_type="application/json")
    assert_error(response, 400)


def test_unsupported_media_type_is_415(manager):
    response = api(manager).generic("POST", "/api/projects/", b"name=x", content_type="text/plain")
    assert_error(response, 415)


def test_managers_change_settings_but_not_the_slug(project, manager, editor):
    response = api(manager).patch("/api/projects/demo-news/", {"overlap": 3}, format="json")
    assert response.status_code == 200 and response.json()["overlap"] == 3
    assert (
        "slug"
        in assert_error(
            api(manager).patch("/api/projects/demo-news/", {"slug": "x"}, format="json"), 400
        )["errors"]
    )
    assert_error(
        api(editor).patch("/api/projects/demo-news/", {"name": "Mine"}, format="json"), 403
    )
    assert Project.objects.get(pk=project.pk).name != "Mine"


# --- labels -----------------------------------------------------------------------------


def test_managers_add_labels_with_unique_keys_and_hotkeys(project, manager, editor):
    new = {"key": "WEAPON", "name": "Weapon", "hotkey": "5", "color": "#123456"}
    response = api(manager).post("/api/projects/demo-news/labels/", new, format="json")
    assert response.status_code == 201 and response.json()["order"] == 4
    again = api(manager).post("/api/projects/demo-news/labels/", new, format="json")
    assert "WEAPON" in assert_error(again, 400)["detail"]
    clash = {"key": "DATE", "name": "Date", "hotkey": "1"}
    assert_error(api(manager).post("/api/projects/demo-news/labels/", clash, format="json"), 400)
    assert_error(
        api(editor).post("/api/projects/demo-news/labels/", {**new, "key": "X"}, format="json"), 403
    )
    keys = [
        lab["key"] for lab in api(editor).get("/api/projects/demo-news/labels/").json()["results"]
    ]
    assert keys == ["ACTOR", "LOCATION", "CASUALTY", "SOURCE", "WEAPON"]


def test_page_size_is_capped(project, editor):
    Label.objects.bulk_create(
        Label(project=project, key=f"L{n}", name=f"L{n}", order=10 + n) for n in range(520)
    )
    data = api(editor).get("/api/projects/demo-news/labels/?page_size=100000").json()
    assert data["count"] == 524 and len(data["results"]) == 500 and data["next"]
    page = api(editor).get("/api/projects/demo-news/labels/?page_size=2&page=2").json()
    assert [lab["key"] for lab in page["results"]] == ["CASUALTY", "SOURCE"]
    assert_error(api(editor).get("/api/projects/demo-news/labels/?page=999"), 404)


# --- members ----------------------------------------------------------------------------


def test_managers_add_members_and_new_editors_get_articles(project, manager):
    article = make_article(project)
    newcomer = make_user("nina")
    response = api(manager).post(
        "/api/projects/demo-news/members/", {"username": "nina", "role": "editor"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "username": "nina",
        "role": "editor",
        "created_at": response.json()["created_at"],
        "assigned": 1,
    }
    assert Assignment.objects.filter(article=article, editor=newcomer).exists()
    again = api(manager).post(
        "/api/projects/demo-news/members/", {"username": "nina", "role": "reviewer"}, format="json"
    )
    assert again.status_code == 200 and again.json()["role"] == "reviewer"
    assert Membership.objects.get(project=project, user=newcomer).role == Role.REVIEWER


def test_member_changes_are_for_managers_only(project, editor, reviewer):
    make_user("nina")
    for user in (editor, reviewer):
        response = api(user).post(
            "/api/projects/demo-news/members/",
            {"username": "nina", "role": "manager"},
            format="json",
        )
        assert_error(response, 403)
    assert not Membership.objects.filter(user__username="nina").exists()


def test_reviewers_see_members_and_editors_do_not(project, editor, reviewer, manager):
    names = [
        m["username"]
        for m in api(reviewer).get("/api/projects/demo-news/members/").json()["results"]
    ]
    assert names == ["edith", "manon", "rita"]
    assert_error(api(editor).get("/api/projects/demo-news/members/"), 403)


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "ghost", "role": "editor"},
        {"username": "edith", "role": "owner"},
        {"username": "edith"},
        {"username": "edith", "role": "editor", "project": "elsewhere"},
        {"username": "edith", "role": "editor", "is_superuser": True},
    ],
)
def test_invalid_member_requests_are_400(project, manager, editor, payload):
    response = api(manager).post("/api/projects/demo-news/members/", payload, format="json")
    assert_error(response, 400)
    assert Membership.objects.get(user=editor).role == Role.EDITOR


def test_the_last_manager_cannot_leave_or_be_demoted(project, manager, editor):
    demote = {"username": "manon", "role": "editor"}
    assert (
        "manager"
        in assert_error(
            api(manager).post("/api/projects/demo-news/members/", demote, format="json"), 400
        )["detail"]
    )
    assert_error(api(manager).delete("/api/projects/demo-news/members/manon/"), 400)
    assert api(manager).delete("/api/projects/demo-news/members/edith/").status_code == 204
    assert not Membership.objects.filter(user=editor).exists()
    assert_error(api(editor).get("/api/projects/demo-news/"), 404)


def test_unknown_api_urls_are_json_404(editor):
    assert_error(api(editor).get("/api/nothing/here/"), 404)
    assert_error(api().get("/api/"), 404)
