"""Authorization, attacked from outside: every route of the site and the API, for anonymous
callers, members of another project, editors reaching for reviewer and manager work, and
mass assignment, ORM lookups in query strings and privilege escalation in the admin.

The route table below names every URL pattern and who may use it with which method; a test
fails when a pattern is added without an entry, so a new route cannot ship unchecked."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotate.models import Annotation, Article, Label, Membership, Project, Role, Span

from ..api_support import api
from ..factories import PASSWORD, make_user
from .conftest import login

# Who may use a route, per method: the weakest role that is enough.
PUBLIC, LOGIN, MEMBER, EDITOR, REVIEWER, MANAGER = (
    "public",
    "login",
    "member",
    "editor",
    "reviewer",
    "manager",
)
ROUTES: dict[str, dict[str, str]] = {
    # Accounts and home
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    "logout": {"POST": PUBLIC},
    "profile": {"GET": LOGIN},
    "regenerate-token": {"POST": LOGIN},
    "home": {"GET": LOGIN},
    # Labelling
    "label-css": {"GET": MEMBER},
    "project": {"GET": MEMBER},
    "next-article": {"GET": MEMBER},
    "article": {"GET": MEMBER},
    "span-add": {"POST": EDITOR},
    "span-add-every": {"POST": EDITOR},
    "span-detail": {"GET": EDITOR},
    "span-relabel": {"POST": EDITOR},
    "span-delete": {"POST": EDITOR},
    "span-facts": {"GET": EDITOR},
    "span-attributes": {"POST": EDITOR},
    "relation-add": {"POST": EDITOR},
    "relation-delete": {"POST": EDITOR},
    "annotation-undo": {"POST": EDITOR},
    "annotation-submit": {"POST": EDITOR},
    "suggestion-accept": {"POST": EDITOR},
    "suggestion-accept-all": {"POST": EDITOR},
    "suggestion-reject": {"POST": EDITOR},
    "import-articles": {"GET": MANAGER, "POST": MANAGER},
    # Background jobs (the side's job was started by its manager)
    "project-jobs": {"GET": MANAGER},
    "job": {"GET": MANAGER},
    "agreement-recompute": {"POST": MANAGER},
    "releases": {"GET": REVIEWER, "POST": REVIEWER},
    "project-search": {"GET": MEMBER},
    # History
    "annotation-history": {"GET": MEMBER},
    "annotation-diff": {"GET": MEMBER},
    "annotation-restore": {"POST": MEMBER},
    # Review
    "review-queue": {"GET": REVIEWER},
    "adjudicate": {"GET": REVIEWER},
    "review-accept": {"POST": REVIEWER},
    "review-accept-agreed": {"POST": REVIEWER},
    "review-add": {"POST": REVIEWER},
    "review-remove": {"POST": REVIEWER},
    "review-relabel": {"POST": REVIEWER},
    "review-attributes": {"POST": REVIEWER},
    "review-relate": {"POST": REVIEWER},
    "review-accept-relation": {"POST": REVIEWER},
    "review-unrelate": {"POST": REVIEWER},
    "review-final": {"POST": REVIEWER},
    "review-reopen": {"POST": REVIEWER},
    # Agreement
    "agreement": {"GET": REVIEWER},
    "agreement-article": {"GET": REVIEWER},
    "agreement-articles-csv": {"GET": REVIEWER},
    "agreement-pairs-csv": {"GET": REVIEWER},
    # Workflow
    "project-overview": {"GET": MANAGER},
    "article-flag": {"POST": EDITOR},
    "flag-resolve": {"POST": REVIEWER},
    "article-reassign": {"POST": MANAGER},
    "article-comments": {"GET": MEMBER, "POST": MEMBER},
    # Schema (removals after the edits: an unused relation type is really removed)
    "project-schema": {"GET": MANAGER},
    "schema-attribute-add": {"GET": MANAGER, "POST": MANAGER},
    "schema-attribute": {"GET": MANAGER, "POST": MANAGER},
    "schema-attribute-remove": {"GET": MANAGER, "POST": MANAGER},
    "schema-relation-type-add": {"GET": MANAGER, "POST": MANAGER},
    "schema-relation-type": {"GET": MANAGER, "POST": MANAGER},
    "schema-relation-type-remove": {"GET": MANAGER, "POST": MANAGER},
    # API
    "api-schema": {"GET": PUBLIC},
    "api-docs": {"GET": PUBLIC},
    "api-not-found": {"GET": PUBLIC},
    "api-projects": {"GET": LOGIN, "POST": MANAGER},  # managers of any project
    "api-project": {"GET": MEMBER, "PATCH": MANAGER},
    "api-labels": {"GET": MEMBER, "POST": MANAGER},
    "api-members": {"GET": REVIEWER, "POST": MANAGER},
    "api-member": {"DELETE": MANAGER},
    "api-articles": {"GET": MEMBER, "POST": MANAGER},
    "api-import": {"POST": MANAGER},
    "api-article": {"GET": MEMBER},
    "api-suggestions": {"GET": MEMBER},
    "api-search": {"GET": MEMBER},
    "api-annotation": {"GET": MEMBER, "PUT": EDITOR},
    "api-versions": {"GET": MEMBER},
    "api-version": {"GET": MEMBER},
    "api-restore": {"POST": EDITOR},
    "api-annotations": {"GET": REVIEWER},
    "api-editor-annotation": {"GET": REVIEWER},
    "api-editor-versions": {"GET": REVIEWER},
    "api-editor-version": {"GET": REVIEWER},
    "api-gold": {"GET": REVIEWER, "PUT": REVIEWER},
    "api-gold-versions": {"GET": REVIEWER},
    "api-gold-version": {"GET": REVIEWER},
    "api-gold-restore": {"POST": REVIEWER},
    "api-agreement": {"GET": REVIEWER},
    "api-propose-attributes": {"POST": MEMBER},
    "api-predictions": {"POST": MANAGER},
    "api-models": {"GET": REVIEWER},
    "api-export": {"GET": REVIEWER},
    "api-releases": {"GET": REVIEWER, "POST": REVIEWER},
    "api-release": {"GET": REVIEWER},
    "api-release-download": {"GET": REVIEWER},
    "api-agreement-recompute": {"POST": MANAGER},
    "api-jobs": {"GET": MANAGER},
    "api-job": {"GET": MANAGER},
}
OPEN = {PUBLIC, LOGIN}
RANK = {EDITOR: 0, MEMBER: 0, REVIEWER: 1, MANAGER: 2}
GOLD_SPAN_ROUTES = {"review-remove", "review-relabel", "review-attributes"}
LABELS = [{"key": "ACTOR", "name": "Actor", "color": "#ffd966"}]


def patterns(resolver=None, prefix: str = ""):
    """(name, route) of every URL pattern, admin and static files left out."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name, prefix + str(entry.pattern)


def url_for(name: str, side, *, span=None) -> str:
    """The route filled in with the objects of `side`."""
    if name == "api-not-found":
        return f"/api/projects/{side.project.slug}/nothing-here/"
    route = dict(patterns())[name]
    kwargs: dict[str, object] = {}
    if "<slug:slug>" in route:
        kwargs["slug"] = side.project.slug
    if "<int:article_id>" in route:
        kwargs["article_id"] = side.article.pk
    if "<int:span_id>" in route:
        default = side.gold_span if name in GOLD_SPAN_ROUTES else side.editor_span
        kwargs["span_id"] = (span or default).pk
    if "<str:username>" in route:
        kwargs["username"] = side.other_editor.username
    if "<int:number>" in route:
        kwargs["number"] = 1
    if "<str:name>" in route:
        kwargs["name"] = side.release
    if "<str:label_key>" in route:
        kwargs["label_key"] = "CASUALTY"
    if "<int:attribute_id>" in route:
        kwargs["attribute_id"] = side.extra["attribute"].pk
    if "<int:relation_id>" in route:
        kwargs["relation_id"] = side.extra["relation"].pk
    if "<int:job_id>" in route:
        kwargs["job_id"] = side.extra["job"].pk
    if "<int:relation_type_id>" in route:
        kwargs["relation_type_id"] = side.extra["relation_type"].pk
    return reverse(name, kwargs=kwargs)


def call(client: Client, method: str, url: str):
    return getattr(client, method.lower())(url, content_type="application/json")


def is_api(name: str) -> bool:
    return name.startswith("api-")


def test_every_route_is_in_the_table():
    """A new URL pattern must say who may use it before the suite passes."""
    names = {name for name, _ in patterns()}
    assert None not in names, "every URL pattern needs a name"
    assert names - set(ROUTES) == set(), "routes missing from ROUTES"
    assert set(ROUTES) - names == set(), "ROUTES names routes that no longer exist"


def test_anonymous_callers_are_sent_to_log_in(world):
    wrong = []
    anonymous = Client()
    for name, methods in ROUTES.items():
        for method, access in methods.items():
            if access == PUBLIC:
                continue
            url = url_for(name, world.alpha)
            response = call(anonymous, method, url)
            if is_api(name):
                ok = response.status_code == 401
            else:
                ok = response.status_code == 302 and response["Location"].startswith("/login/")
            if not ok:
                wrong.append((method, url, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("role", ["manager", "reviewer", "editor"])
def test_members_of_another_project_get_404_everywhere(world, role):
    """Alpha's people on beta's project, articles, spans, editors and releases: the answer
    is the one for an id that does not exist, whatever the method."""
    intruder = world.alpha.people[role]
    client = login(intruder)
    wrong = []
    for name, methods in ROUTES.items():
        route = dict(patterns())[name]
        if "<" not in route and name != "api-not-found":
            continue  # names no object: nothing to hide
        url = url_for(name, world.beta)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method in ("PUT", "PATCH", "DELETE") and not is_api(name):
                continue
            status = call(client, method, url).status_code
            # 405 says only that the route has no such method, nothing about the object.
            expected = {404} if method in methods or is_api(name) else {404, 405}
            if status not in expected:
                wrong.append((method, url, status))
    assert wrong == []


def test_unknown_ids_and_other_projects_look_the_same(world):
    client = login(world.alpha.manager)
    beta = client.get(reverse("article", args=[world.beta.article.pk]))
    missing = client.get(reverse("article", args=[10**9]))
    assert beta.status_code == missing.status_code == 404
    beta = api(world.alpha.manager).get(f"/api/articles/{world.beta.article.pk}/")
    missing = api(world.alpha.manager).get(f"/api/articles/{10**9}/")
    assert beta.status_code == missing.status_code == 404
    assert beta.json() == missing.json()


def _positive_role(side, access: str):
    return {MEMBER: side.editor, EDITOR: side.editor, LOGIN: side.editor}.get(
        access, side.manager if access == MANAGER else side.reviewer
    )


def test_the_table_opens_every_route_to_its_role(world):
    """The control for the tests above: with the right role the same URLs do not answer
    401, 403 or 404 (so those tests are not passing on wrong ids)."""
    wrong = []
    # Deleting a member last: it changes who is in the project.
    order = sorted(ROUTES.items(), key=lambda item: "DELETE" in item[1])
    for name, methods in order:
        for method, access in methods.items():
            if access == PUBLIC:
                continue
            user = _positive_role(world.alpha, access)
            url = url_for(name, world.alpha)
            status = call(login(user), method, url).status_code
            if status in (401, 403, 404, 405) or status >= 500:
                wrong.append((user.username, method, url, status))
    assert wrong == []


@pytest.mark.parametrize("role", ["editor", "reviewer"])
def test_roles_below_the_route_get_403(world, role):
    """Members who may not: 403 (they know the project exists), and nothing written."""
    side = world.alpha
    user = side.people[role]
    client = login(user)
    versions = Annotation.objects.gold().get(article=side.article).version
    wrong = []
    for name, methods in ROUTES.items():
        for method, access in methods.items():
            if access not in RANK or RANK[access] <= RANK[role]:
                continue
            url = url_for(name, side)
            status = call(client, method, url).status_code
            if status != 403:
                wrong.append((method, url, status))
    assert wrong == []
    assert Annotation.objects.gold().get(article=side.article).version == versions
    assert Membership.objects.filter(project=side.project).count() == 4


# --- Blind labelling: an editor and another editor's work -----------------------------------


def test_editor_cannot_open_another_editors_span(world):
    side = world.alpha
    client = login(side.editor)
    for name in ("span-detail", "span-relabel", "span-delete", "span-facts", "span-attributes"):
        url = url_for(name, side, span=side.other_span)
        method = "GET" if name in ("span-detail", "span-facts") else "POST"
        response = call(client, method, url)
        assert response.status_code == 404, (name, response.status_code)
    assert side.other_span.removed_in is None
    Span.objects.get(pk=side.other_span.pk, removed_in__isnull=True)


@pytest.mark.parametrize(
    "query",
    ["?annotator=alpha_other", "?gold=1", "?annotator=alpha_other&gold=0"],
)
def test_editor_cannot_read_another_editors_or_the_gold_history(world, query):
    client = login(world.alpha.editor)
    article = world.alpha.article.pk
    for name in ("annotation-history", "annotation-diff"):
        response = client.get(reverse(name, args=[article]) + query + "&from=1&to=1")
        assert response.status_code == 404, (name, query, response.status_code)
    response = client.post(
        reverse("annotation-restore", args=[article]) + query, {"version": 1, "base_version": 1}
    )
    assert response.status_code == 404


def test_editor_pages_never_show_the_other_editors_spans(world):
    side = world.alpha
    client = login(side.editor)
    theirs = f'data-span="{side.other_span.pk}"'
    for url in (
        reverse("article", args=[side.article.pk]),
        reverse("annotation-history", args=[side.article.pk]),
        reverse("project", args=[side.project.slug]),
    ):
        body = client.get(url).content.decode()
        assert theirs not in body, url
        assert "alpha_other" not in body, url


def test_editor_cannot_embed_other_annotations_through_the_api(world):
    side = world.alpha
    client = api(side.editor)
    for include in ("annotations", "gold", "annotation,gold"):
        response = client.get(f"/api/articles/{side.article.pk}/?include={include}")
        assert response.status_code == 403, include
    own = client.get(f"/api/articles/{side.article.pk}/?include=annotation").json()
    assert {s["label"] for s in own["annotation"]["spans"]} == {"ACTOR", "LOCATION"}
    listed = client.get(f"/api/projects/{side.project.slug}/articles/").json()
    assert "gold" not in str(listed).lower() or all(
        "gold_version" not in row for row in listed["results"]
    )


def test_editor_sees_only_articles_assigned_to_them(world):
    side = world.alpha
    hidden = Article.objects.create(project=side.project, external_id="hidden", text="Secret.")
    ids = {
        row["id"]
        for row in api(side.editor)
        .get(f"/api/projects/{side.project.slug}/articles/")
        .json()["results"]
    }
    assert hidden.pk not in ids and side.article.pk in ids
    assert login(side.editor).get(reverse("article", args=[hidden.pk])).status_code == 404


# --- Mass assignment -------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"annotator": "alpha_other"},
        {"final": True},
        {"project": "beta"},
        {"version": 99},
        {"is_staff": True},
        {"article": 1},
        {"status": "submitted"},
    ],
)
def test_api_annotation_put_refuses_fields_it_does_not_own(world, extra):
    side = world.alpha
    before = Annotation.objects.get(article=side.open_article, annotator=side.editor).version
    response = api(side.editor).put(
        f"/api/articles/{side.open_article.pk}/annotation/",
        {"base_version": before, "spans": [], **extra},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert next(iter(extra)) in response.json()["errors"]
    after = Annotation.objects.get(article=side.open_article, annotator=side.editor)
    assert after.version == before


@pytest.mark.parametrize(
    ("url", "forbidden"),
    [
        ("/api/projects/", {"role": "manager"}),
        ("/api/projects/", {"created_at": "2020-01-01T00:00:00Z"}),
        ("/api/projects/", {"articles": 0}),
        ("/api/projects/alpha/labels/", {"order": 0}),
        ("/api/projects/alpha/labels/", {"project": 2}),
        ("/api/projects/alpha/members/", {"created_at": "2020-01-01T00:00:00Z"}),
        ("/api/projects/alpha/members/", {"user": 1}),
        ("/api/projects/alpha/releases/", {"created_by": 1}),
        ("/api/projects/alpha/releases/", {"sha256": "0" * 64}),
    ],
)
def test_api_writes_refuse_fields_that_are_not_writable(world, url, forbidden):
    """Read-only and unknown fields in a body are refused by name, not silently dropped."""
    valid = {
        "/api/projects/": {"name": "X", "slug": "x-new", "labels": LABELS},
        "/api/projects/alpha/labels/": {"key": "NEW", "name": "New"},
        "/api/projects/alpha/members/": {"username": "alpha_other", "role": "reviewer"},
        "/api/projects/alpha/releases/": {"name": "v9"},
    }[url]
    response = api(world.alpha.manager).post(url, {**valid, **forbidden}, format="json")
    assert response.status_code == 400, response.content
    assert set(forbidden) <= set(response.json()["errors"])
    assert not Project.objects.filter(slug="x-new").exists()
    assert not Label.objects.filter(key="NEW").exists()
    assert Membership.objects.get(user=world.alpha.other_editor).role == Role.EDITOR


def test_project_patch_cannot_move_or_rename_the_slug(world):
    response = api(world.alpha.manager).patch(
        "/api/projects/alpha/", {"slug": "beta2", "id": 99}, format="json"
    )
    assert response.status_code == 400
    assert Project.objects.filter(slug="alpha").exists()


def test_html_forms_ignore_fields_that_name_another_user_or_project(world):
    side = world.alpha
    client = login(side.editor)
    annotation = Annotation.objects.get(article=side.open_article, annotator=side.editor)
    theirs = Annotation.objects.get(article=side.open_article, annotator=side.other_editor)
    response = client.post(
        reverse("span-add", args=[side.open_article.pk]),
        {
            "start": str(side.open_article.text.index("officials")),
            "end": str(side.open_article.text.index("officials") + 9),
            "label": "SOURCE",
            "quote": "officials",
            "base_version": str(annotation.version),
            "annotator": str(side.other_editor.pk),
            "annotation": str(theirs.pk),
            "project": str(world.beta.project.pk),
            "final": "1",
            "kind": "gold",
        },
    )
    assert response.status_code == 302, response.content[:300]
    theirs_after = Annotation.objects.get(pk=theirs.pk)
    assert theirs_after.version == theirs.version
    mine = Annotation.objects.get(pk=annotation.pk)
    assert mine.version == annotation.version + 1 and mine.kind == Annotation.Kind.EDITOR
    assert not Annotation.objects.gold().filter(article=side.open_article).exists()


def test_reviewer_form_cannot_accept_a_span_from_another_project(world):
    side = world.alpha
    gold = Annotation.objects.gold().get(article=side.article)
    client = login(side.reviewer)
    client.post(reverse("review-reopen", args=[side.article.pk]), {"base_version": gold.version})
    gold.refresh_from_db()
    response = client.post(
        reverse("review-accept", args=[side.article.pk]),
        {"span": str(world.beta.other_span.pk), "base_version": str(gold.version)},
    )
    assert response.status_code in (400, 404)
    assert not gold.current_spans().filter(source=world.beta.other_span).exists()


# --- Filters and ordering that reach into other models -----------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "ordering=project__memberships__user__password",
        "ordering=-annotations__annotator__password",
        "annotator__username=alpha_other",
        "project__slug=beta",
        "project=2",
        "text__contains=Rebels",
        "status__in=submitted",
        "search=Rebels",
    ],
)
def test_api_article_list_refuses_lookups_and_unknown_filters(world, query):
    response = api(world.alpha.editor).get(f"/api/projects/alpha/articles/?{query}")
    assert response.status_code == 400, (query, response.content[:300])
    assert "password" not in response.content.decode().replace(query, "")


@pytest.mark.parametrize(
    "url",
    [
        "/api/projects/?ordering=memberships__user__password",
        "/api/projects/?slug=beta",
        "/api/projects/alpha/labels/?project__slug=beta",
        "/api/projects/alpha/members/?user__password__startswith=md5",
        "/api/projects/alpha/releases/?project=2",
        "/api/articles/{article}/annotations/?annotator__username=beta_editor",
        "/api/articles/{article}/annotation/versions/?author__password=x",
        "/api/projects/alpha/agreement/?editors__password=x",
        "/api/projects/alpha/export/?format=jsonl&project=beta",
    ],
)
def test_every_api_list_refuses_lookup_parameters(world, url):
    url = url.format(article=world.alpha.article.pk)
    response = api(world.alpha.manager).get(url)
    assert response.status_code == 400, (url, response.status_code, response.content[:300])


@pytest.mark.parametrize(
    "query",
    [
        "editor=beta_editor",
        "label=ACTOR&editor__password=x",
        "ordering=annotations__annotator__password",
        "o=-1",
    ],
)
def test_html_lists_do_not_leak_other_projects_through_filters(world, query):
    client = login(world.alpha.reviewer)
    for name in ("review-queue", "agreement", "agreement-articles-csv"):
        response = client.get(reverse(name, args=["alpha"]) + "?" + query)
        assert response.status_code in (200, 400), (name, query, response.status_code)
        body = b"".join(response) if response.streaming else response.content
        body = body.decode()
        assert "beta" not in body.replace("beta_editor", ""), (name, query)
        assert (
            str(world.beta.article.pk) not in {part for part in body.split('"') if part.isdigit()}
            or world.beta.article.pk < 10
        )


# --- The Django admin ----------------------------------------------------------------------


@pytest.fixture
def staff(world):
    """A staff user who may view and change users, and nothing more."""
    user = make_user("staffer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", codename__in=["view_user", "change_user"]
        )
    )
    client = Client()
    assert client.login(username="staffer", password=PASSWORD)
    return user, client


def _user_form(client: Client, user, **changes) -> dict:
    """The admin change form of `user`, submitted with `changes`."""
    url = reverse("admin:auth_user_change", args=[user.pk])
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2024-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    data.update(changes)
    return client.post(url, {k: v for k, v in data.items() if v != ""})


def test_staff_cannot_make_themselves_superuser(staff):
    user, client = staff
    superuser_perm = Permission.objects.get(codename="delete_user")
    _user_form(
        client,
        user,
        first_name="Changed",
        is_superuser="on",
        user_permissions=str(superuser_perm.pk),
    )
    user.refresh_from_db()
    assert user.first_name == "Changed"  # the form went through; only privileges were not
    assert not user.is_superuser
    assert not user.user_permissions.filter(pk=superuser_perm.pk).exists()
    assert not user.has_perm("auth.delete_user")


def test_staff_cannot_join_groups_or_grant_staff_to_others(staff, world):
    from django.contrib.auth.models import Group

    user, client = staff
    group = Group.objects.create(name="admins")
    group.permissions.add(*Permission.objects.all())
    _user_form(client, user, groups=str(group.pk))
    user.refresh_from_db()
    assert not user.groups.exists()
    editor = world.alpha.editor
    _user_form(client, editor, is_staff="on", is_superuser="on")
    editor.refresh_from_db()
    assert not editor.is_staff and not editor.is_superuser


def test_staff_cannot_set_a_superusers_password(staff, world):
    _, client = staff
    url = reverse("admin:auth_user_password_change", args=[world.admin.pk])
    hijack = "Hijacked-pass-123"
    response = client.post(url, {"password1": hijack, "password2": hijack})
    assert response.status_code == 403
    world.admin.refresh_from_db()
    assert not world.admin.check_password(hijack)


def test_staff_cannot_edit_a_superuser_at_all(staff, world):
    _, client = staff
    _user_form(client, world.admin, email="attacker@evil.example", is_active="")
    world.admin.refresh_from_db()
    assert world.admin.email != "attacker@evil.example"
    assert world.admin.is_active


def test_staff_without_project_permissions_see_no_project_data(staff, world):
    _, client = staff
    for model in ("article", "annotation", "span", "project", "label"):
        response = client.get(reverse(f"admin:annotate_{model}_changelist"))
        assert response.status_code == 403, model
    response = client.get(reverse("admin:annotate_article_change", args=[world.beta.article.pk]))
    assert response.status_code in (302, 403)


def test_usernames_cannot_hold_markup():
    from django.core.exceptions import ValidationError

    validator = get_user_model().username_validator
    for name in ("<script>alert(1)</script>", 'a"b', "a b", "x<y"):
        with pytest.raises(ValidationError):
            validator(name)


def test_non_staff_members_cannot_reach_the_admin(world):
    client = login(world.alpha.manager)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Label.objects.filter(project=world.alpha.project).count() == 4
