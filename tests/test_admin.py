"""The Django admin: every page loads, history is read-only, writes go through the services."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from annotate.demo import setup_demo
from annotate.models import (
    Annotation,
    AnnotationVersion,
    Article,
    Assignment,
    Label,
    Membership,
    Project,
    Role,
    Span,
)
from annotate.services.annotations import gold_for

from .factories import make_annotation, make_article, make_member, make_project, make_user

pytestmark = pytest.mark.django_db

ANNOTATE_MODELS = [
    Project,
    Label,
    Membership,
    Article,
    Assignment,
    Annotation,
    AnnotationVersion,
    Span,
]
READ_ONLY = [Annotation, AnnotationVersion, Span]
# The label page's attribute inline, left as it is.
NO_ATTRIBUTES = {"attributes-TOTAL_FORMS": "0", "attributes-INITIAL_FORMS": "0"}


@pytest.fixture
def demo():
    return setup_demo().project


@pytest.fixture
def root(admin_user, client_for):
    return client_for(admin_user)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:annotate_{model._meta.model_name}_{view}", args=args)


def no_inline_styles_or_scripts(html: str) -> bool:
    return ' style="' not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


# --- every page loads ----------------------------------------------------------------------


def test_every_model_is_registered():
    for model in ANNOTATE_MODELS:
        assert model in admin.site._registry


@pytest.mark.parametrize("model", ANNOTATE_MODELS, ids=lambda m: m.__name__)
def test_changelist_loads(demo, root, model):
    response = root.get(url(model, "changelist"))
    assert response.status_code == 200
    assert no_inline_styles_or_scripts(response.content.decode())


@pytest.mark.parametrize("model", ANNOTATE_MODELS, ids=lambda m: m.__name__)
def test_changelist_with_filter_counts_loads(demo, root, model):
    assert root.get(url(model, "changelist"), {"_facets": "True"}).status_code == 200


@pytest.mark.parametrize("model", ANNOTATE_MODELS, ids=lambda m: m.__name__)
def test_change_page_loads(demo, root, model):
    obj = model.objects.order_by("-pk").first()
    response = root.get(url(model, "change", obj.pk))
    assert response.status_code == 200
    assert no_inline_styles_or_scripts(response.content.decode())


@pytest.mark.parametrize("model", [Project, Label, Membership, Article, Assignment])
def test_add_page_loads(demo, root, model):
    assert root.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_history_cannot_be_added_changed_or_deleted(demo, root, model):
    obj = model.objects.order_by("-pk").first()
    assert root.get(url(model, "add")).status_code == 403
    assert root.post(url(model, "change", obj.pk), {}).status_code == 403
    assert root.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
    page = root.get(url(model, "change", obj.pk)).content.decode()
    assert 'name="_save"' not in page


def test_version_list_offers_no_delete_action(demo, root):
    page = root.get(url(AnnotationVersion, "changelist")).content.decode()
    assert "delete_selected" not in page


def test_auth_pages_load(demo, root):
    for name in ("auth_user_changelist", "auth_user_add", "auth_group_changelist"):
        assert root.get(reverse(f"admin:{name}")).status_code == 200


def test_staff_without_permissions_sees_no_annotate_pages(demo, client_for):
    staff = make_user("staffer", is_staff=True)
    response = client_for(staff).get(url(Article, "changelist"))
    assert response.status_code == 403


# --- lists: counts, search, filters, queries -----------------------------------------------


def test_article_list_shows_counts_and_gold_state(demo, root):
    page = root.get(url(Article, "changelist"), {"q": "demo-001"}).content.decode()
    assert "Deir ez-Zor" in page and ">final<" in page
    page = root.get(url(Article, "changelist"), {"_facets": "True"}).content.decode()
    assert "Gold final (1)" in page and "Ready for review (4)" in page


def test_article_search_and_filters(demo, root):
    def ids(**params) -> set[str]:
        response = root.get(url(Article, "changelist"), params)
        assert response.status_code == 200
        return {a.external_id for a in response.context["cl"].result_list}

    assert ids(q="Rotterdam") == {"demo-005"}
    assert ids(status="final") == {"demo-001"}
    assert ids(status="ready") == {"demo-002", "demo-003", "demo-004", "demo-007"}
    assert "demo-006" in ids(status="labelling")
    editor3 = Membership.objects.get(user__username="editor3").user
    assert "demo-008" in ids(editor=editor3.pk)
    assert "demo-001" not in ids(editor=editor3.pk)
    other = make_project("other-news")
    make_article(other, external_id="x-1")
    assert ids(project=other.pk) == {"x-1"}
    assert ids(project=other.pk, status="unassigned") == {"x-1"}


def test_annotation_search_and_filters(demo, root):
    def rows(**params) -> list[Annotation]:
        response = root.get(url(Annotation, "changelist"), params)
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert {a.kind for a in rows(kind="gold")} == {"gold"}
    assert all(a.status == "in_progress" for a in rows(status__exact="in_progress"))
    assert {a.annotator.username for a in rows(q="editor2")} == {"editor2"}
    assert {a.article.external_id for a in rows(q="demo-003")} == {"demo-003"}
    editor1 = Membership.objects.get(user__username="editor1").user
    assert {a.annotator_id for a in rows(annotator__id__exact=editor1.pk)} == {editor1.pk}
    assert len(rows(final__exact="1")) == 1
    casualty = Label.objects.get(project=demo, key="CASUALTY")
    with_casualty = rows(label=casualty.pk)
    assert with_casualty and all(
        a.current_spans().filter(label=casualty).exists() for a in with_casualty
    )
    assert len(with_casualty) < len(rows())


def test_version_filters_by_author_and_date(demo, root):
    reviewer = Membership.objects.get(user__username="reviewer").user
    response = root.get(url(AnnotationVersion, "changelist"), {"author__id__exact": reviewer.pk})
    versions = list(response.context["cl"].result_list)
    assert len(versions) == 2 and {v.author_id for v in versions} == {reviewer.pk}
    today = AnnotationVersion.objects.first().created_at
    response = root.get(
        url(AnnotationVersion, "changelist"),
        {"created_at__year": today.year, "created_at__month": today.month},
    )
    assert response.context["cl"].result_count == AnnotationVersion.objects.count()
    response = root.get(url(AnnotationVersion, "changelist"), {"created_at__year": 1999})
    assert response.context["cl"].result_count == 0


def test_span_filters(demo, root):
    source = Label.objects.get(project=demo, key="SOURCE")
    response = root.get(url(Span, "changelist"), {"label": source.pk, "state": "current"})
    spans = list(response.context["cl"].result_list)
    assert spans and all(s.label_id == source.pk and s.removed_in is None for s in spans)
    response = root.get(url(Span, "changelist"), {"state": "removed"})
    assert all(s.removed_in for s in response.context["cl"].result_list)
    response = root.get(url(Span, "changelist"), {"q": "خالد العبيدي"})
    assert response.context["cl"].result_count >= 2


def test_a_bad_filter_value_is_not_a_server_error(demo, root):
    response = root.get(url(Span, "changelist"), {"label": "not-a-number"})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("model", ANNOTATE_MODELS, ids=lambda m: m.__name__)
def test_changelists_do_not_query_per_row(demo, root, model, django_assert_max_num_queries):
    # A second project as big as the demo: the query count must not grow with the rows.
    project = make_project("bulk")
    editors = [make_member(project, make_user(f"bulk{i}")) for i in range(3)]
    for i in range(30):
        article = make_article(project, external_id=f"bulk-{i}", editors=editors[:2])
        make_annotation(article, editors[i % 2], [(0, 6, "ACTOR"), (15, 21, "LOCATION")])
    with django_assert_max_num_queries(14):
        response = root.get(url(model, "changelist"))
    assert response.status_code == 200


# --- the article page ----------------------------------------------------------------------


def test_article_page_shows_each_annotation_highlighted(demo, root):
    article = Article.objects.get(project=demo, external_id="demo-001")
    page = root.get(url(Article, "change", article.pk)).content.decode()
    assert reverse("label-css", args=[demo.slug]) in page
    assert "css/admin.css" in page
    for who in ("editor1", "editor2", "Gold"):
        assert f">{who}</a>" in page
    assert page.count('class="span lbl-CASUALTY') >= 3
    assert 'data-label="LOCATION"' in page


def test_article_text_is_read_only_once_annotated(demo, root):
    annotated = Article.objects.get(project=demo, external_id="demo-001")
    page = root.get(url(Article, "change", annotated.pk)).content.decode()
    assert 'name="text"' not in page
    fresh = Article.objects.get(project=demo, external_id="demo-010")
    page = root.get(url(Article, "change", fresh.pk)).content.decode()
    assert 'name="text"' in page


def test_editing_an_unannotated_article_canonicalises_its_text(project, editor, root):
    article = make_article(project, "Old text.", editors=[editor])
    data = {
        "external_id": article.external_id,
        "title": "New title",
        "url": "",
        "published_at_0": "",
        "published_at_1": "",
        "text": "Line one\r\nLine two",
        "meta": "{}",
        "assignments-TOTAL_FORMS": "1",
        "assignments-INITIAL_FORMS": "1",
        "assignments-0-id": article.assignments.get().pk,
        "assignments-0-article": article.pk,
        "assignments-0-editor": editor.pk,
    }
    response = root.post(url(Article, "change", article.pk), data)
    assert response.status_code == 302, response.context["errors"]
    article.refresh_from_db()
    assert article.text == "Line one\nLine two" and article.title == "New title"


def add_article_data(project, **extra) -> dict:
    return {
        "project": project.pk,
        "external_id": "added-1",
        "title": "Added by hand",
        "url": "",
        "published_at_0": "",
        "published_at_1": "",
        "text": "Rebels shelled Aleppo.\r\nFour fighters died.",
        "meta": "{}",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        **extra,
    }


def test_adding_an_article_canonicalises_and_assigns_it(project, editor, other_editor, root):
    response = root.post(url(Article, "add"), add_article_data(project))
    assert response.status_code == 302
    article = Article.objects.get(external_id="added-1")
    assert article.text == "Rebels shelled Aleppo.\nFour fighters died."
    assert set(article.assignments.values_list("editor", flat=True)) == {
        editor.pk,
        other_editor.pk,
    }


def test_adding_a_duplicate_external_id_is_a_form_error(project, root):
    make_article(project, external_id="added-1")
    response = root.post(url(Article, "add"), add_article_data(project))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_assigning_a_non_editor_is_refused(project, editor, reviewer, root):
    article = make_article(project)
    response = root.post(url(Assignment, "add"), {"article": article.pk, "editor": reviewer.pk})
    assert response.status_code == 200
    assert "is not an editor of" in response.content.decode()
    assert not Assignment.objects.exists()


def test_user_content_is_escaped(project, editor, root):
    article = make_article(
        project,
        "<script>alert(1)</script> & <b>bold</b>",
        title="<img src=x onerror=alert(1)>",
        editors=[editor],
    )
    make_annotation(article, editor, [(0, 8, "ACTOR")])
    for page_url in (
        url(Article, "change", article.pk),
        url(Article, "changelist"),
        url(Annotation, "changelist"),
        url(Span, "changelist"),
        url(Annotation, "change", Annotation.objects.get().pk),
    ):
        page = root.get(page_url).content.decode()
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
    page = root.get(url(Article, "change", article.pk)).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_annotated_article_cannot_be_deleted_but_a_fresh_one_can(demo, root):
    annotated = Article.objects.get(project=demo, external_id="demo-001")
    page = root.get(url(Article, "delete", annotated.pk)).content.decode()
    assert "Cannot delete article" in page and "annotation version" in page
    response = root.post(url(Article, "delete", annotated.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Article.objects.filter(pk=annotated.pk).exists()
    fresh = make_article(demo, external_id="delete-me")
    response = root.post(url(Article, "delete", fresh.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Article.objects.filter(pk=fresh.pk).exists()


def test_project_with_annotations_cannot_be_deleted(demo, root):
    response = root.post(url(Project, "delete", demo.pk), {"post": "yes"})
    assert "Cannot delete project" in response.content.decode()
    assert Project.objects.filter(pk=demo.pk).exists()


def test_assign_action_fills_articles_up_to_overlap(project, editor, other_editor, root):
    articles = [make_article(project, external_id=f"n{i}") for i in range(3)]
    response = root.post(
        url(Article, "changelist"),
        {"action": "assign_to_editors", "_selected_action": [a.pk for a in articles]},
        follow=True,
    )
    assert "Made 6 assignments." in response.content.decode()
    assert all(a.assignments.count() == 2 for a in articles)


# --- labels and projects -------------------------------------------------------------------


def test_label_colour_is_shown_as_a_swatch(demo, root):
    page = root.get(url(Label, "changelist")).content.decode()
    assert page.count('class="swatch" src="data:image/svg+xml,') >= 4
    assert "%23ea9999" in page


def test_label_key_cannot_change_once_spans_use_it(demo, root):
    label = Label.objects.get(project=demo, key="ACTOR")
    data = {
        "key": "PERSON",
        "name": label.name,
        "color": label.color,
        "hotkey": label.hotkey,
        "order": label.order,
        "description": label.description,
        **NO_ATTRIBUTES,
    }
    response = root.post(url(Label, "change", label.pk), data)
    assert response.status_code == 200 and "cannot change" in response.content.decode()
    response = root.post(url(Label, "change", label.pk), {**data, "key": "ACTOR", "name": "Who"})
    assert response.status_code == 302
    label.refresh_from_db()
    assert label.name == "Who"


def test_label_hotkey_clash_is_a_form_error(project, root):
    label = Label.objects.get(project=project, key="ACTOR")
    data = {"key": "ACTOR", "name": "Actor", "color": "#ffd966", "hotkey": "2", "order": 0}
    response = root.post(
        url(Label, "change", label.pk), {**data, "description": "", **NO_ATTRIBUTES}
    )
    assert response.status_code == 200
    assert "uses this hotkey" in response.content.decode()


def test_project_page_has_label_and_member_inlines_and_guidelines_preview(demo, root):
    page = root.get(url(Project, "change", demo.pk)).content.decode()
    assert 'name="labels-0-key"' in page and 'name="memberships-0-user"' in page
    assert "<h2>ACTOR (1)</h2>" in page


# --- annotations: history, diff, gold actions ----------------------------------------------


def test_annotation_page_shows_history_and_current_spans(demo, root):
    annotation = Annotation.objects.get(
        annotator__username="editor2", article__external_id="demo-001"
    )
    page = root.get(url(Annotation, "change", annotation.pk)).content.decode()
    assert "History" in page and "Current spans" in page
    assert page.count("→ v") >= 3
    assert "Network is the source of the toll" in page
    assert reverse("admin:annotate_annotation_diff", args=[annotation.pk]) in page


def test_diff_view_marks_added_and_removed_spans(demo, root):
    annotation = Annotation.objects.get(
        annotator__username="editor2", article__external_id="demo-001"
    )
    diff_url = reverse("admin:annotate_annotation_diff", args=[annotation.pk])
    response = root.get(diff_url, {"from": 2, "to": 3})
    assert response.status_code == 200
    page = response.content.decode()
    comparison = response.context["comparison"]
    assert [s.label.key for s in comparison.added] == ["SOURCE"]
    assert [s.label.key for s in comparison.removed] == ["ACTOR"]
    assert comparison.relabelled
    assert "diff-added" in page and "diff-removed" in page
    assert reverse("label-css", args=[demo.slug]) in page
    assert no_inline_styles_or_scripts(page)


def test_diff_view_defaults_to_the_latest_change(demo, root):
    annotation = Annotation.objects.get(
        annotator__username="editor1", article__external_id="demo-002"
    )
    response = root.get(reverse("admin:annotate_annotation_diff", args=[annotation.pk]))
    assert (response.context["old"], response.context["new"]) == (2, 3)


def test_diff_view_from_empty_shows_everything_added(demo, root):
    annotation = Annotation.objects.get(
        annotator__username="editor1", article__external_id="demo-003"
    )
    diff_url = reverse("admin:annotate_annotation_diff", args=[annotation.pk])
    comparison = root.get(diff_url, {"from": 0, "to": 2}).context["comparison"]
    assert len(comparison.added) == annotation.current_spans().count()
    assert not comparison.removed


@pytest.mark.parametrize("params", [{"from": "x"}, {"to": 99}, {"from": -1, "to": 1}])
def test_diff_view_rejects_bad_versions(demo, root, params):
    annotation = Annotation.objects.filter(version__gt=0).first()
    response = root.get(reverse("admin:annotate_annotation_diff", args=[annotation.pk]), params)
    assert response.status_code == 400


def test_diff_view_of_missing_annotation_is_404(root):
    assert root.get(reverse("admin:annotate_annotation_diff", args=[999999])).status_code == 404


def test_diff_view_needs_the_admin(demo, client_for):
    annotation = Annotation.objects.filter(version__gt=0).first()
    response = client_for(make_member(demo, make_user("someone"), Role.MANAGER)).get(
        reverse("admin:annotate_annotation_diff", args=[annotation.pk])
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_version_page_shows_the_spans_of_that_version(demo, root):
    annotation = Annotation.objects.get(
        annotator__username="editor1", article__external_id="demo-002"
    )
    first = annotation.versions.get(number=1)
    response = root.get(url(AnnotationVersion, "change", first.pk))
    page = response.content.decode()
    assert "seven people had died" in page
    assert page.count('data-label="CASUALTY"') == 1


def run_action(client, action: str, annotations):
    return client.post(
        url(Annotation, "changelist"),
        {"action": action, "_selected_action": [a.pk for a in annotations]},
        follow=True,
    )


def test_mark_final_action_makes_a_gold_version(project, editor, admin_user, root):
    article = make_article(project, editors=[editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    gold = gold_for(article)
    response = run_action(root, "mark_final", [gold])
    assert "1 gold annotation(s) marked final." in response.content.decode()
    gold.refresh_from_db()
    assert gold.final and gold.version == 1
    version = gold.versions.get()
    assert version.author == admin_user and version.final and version.summary["final"] is True

    response = run_action(root, "reopen", [gold])
    gold.refresh_from_db()
    assert not gold.final and gold.version == 2
    assert gold.versions.get(number=2).note == "Reopened in the admin"


def test_final_action_skips_editor_annotations(demo, root):
    editor_annotation = Annotation.objects.editors().filter(version__gt=0).first()
    before = editor_annotation.version
    response = run_action(root, "mark_final", [editor_annotation])
    assert "only gold annotations can be final" in response.content.decode()
    editor_annotation.refresh_from_db()
    assert editor_annotation.version == before and not editor_annotation.final


def test_final_action_on_final_gold_changes_nothing(demo, root):
    gold = Annotation.objects.gold().get(final=True)
    response = run_action(root, "mark_final", [gold])
    assert "Nothing to do" in response.content.decode()
    assert AnnotationVersion.objects.filter(annotation=gold).count() == gold.version


def test_final_action_respects_project_roles(project, editor, client_for):
    # A staff member with admin rights but no role in the project cannot close its gold.
    staff = make_user("clerk", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(codename="view_annotation"))
    article = make_article(project, editors=[editor])
    gold = gold_for(article)
    response = run_action(client_for(staff), "mark_final", [gold])
    assert "Only reviewers and managers" in response.content.decode()
    gold.refresh_from_db()
    assert not gold.final and gold.version == 0
    make_member(project, staff, Role.REVIEWER)
    run_action(client_for(staff), "mark_final", [gold])
    gold.refresh_from_db()
    assert gold.final


def test_a_new_editor_added_in_the_admin_takes_articles_that_need_editors(project, editor, root):
    article = make_article(project, editors=[editor])
    newcomer = make_user("nina")
    response = root.post(
        url(Membership, "add"), {"project": project.pk, "user": newcomer.pk, "role": Role.EDITOR}
    )
    assert response.status_code == 302
    assert Assignment.objects.filter(article=article, editor=newcomer).exists()
