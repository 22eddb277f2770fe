"""The review queue and the adjudication page, through the test client."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from annotate.models import Annotation, AnnotationVersion, ArticleAgreement, Role, Span
from annotate.services.annotations import gold_for

from .factories import make_annotation, make_article, make_member, make_project, make_user

TEXT = "Rebels shelled Aleppo on Monday, the ministry said."
REBELS, ALEPPO, MINISTRY = (0, 6), (15, 21), (33, 45)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def article(project, editor, other_editor):
    article = make_article(
        project, TEXT, title="Shelling in Aleppo", editors=[editor, other_editor]
    )
    make_annotation(
        article,
        editor,
        [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION"), (*MINISTRY, "SOURCE")],
        submit=True,
    )
    make_annotation(article, other_editor, [(*REBELS, "ACTOR"), (*ALEPPO, "ACTOR")], submit=True)
    return article


@pytest.fixture
def rita(client_for, reviewer):
    return client_for(reviewer)


def editor_span(article, editor, start, end, label):
    return Span.objects.get(
        annotation__article=article,
        annotation__annotator=editor,
        start=start,
        end=end,
        label__key=label,
        removed_in__isnull=True,
    )


def gold_keys(article):
    return {(s.start, s.end, s.label.key) for s in gold_for(article).current_spans()}


def gold_versions(article):
    return AnnotationVersion.objects.filter(annotation__article=article, annotation__kind="gold")


def url(name, article, *args):
    return reverse(name, args=[article.pk, *args])


def post(client, name, article, data, *args, hx=False, base=None):
    gold = Annotation.objects.gold().filter(article=article).first()
    fields = {"base_version": gold.version if gold else 0, "request_key": str(uuid.uuid4())}
    if base is not None:
        fields["base_version"] = base
    fields.update(data)
    return client.post(url(name, article, *args), fields, **(HX if hx else {}))


def assert_fragment(response, element_id):
    body = response.content.decode()
    assert "<html" not in body and f'id="{element_id}"' in body
    if response.request["REQUEST_METHOD"] == "GET":
        assert "HX-Request" in response.headers["Vary"]


def assert_no_inline_code(body):
    assert 'style="' not in body and "<script>" not in body and "onclick" not in body


# --- the queue ---


def test_queue_lists_articles_ready_for_review(article, rita):
    response = rita.get(reverse("review-queue", args=["demo-news"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Shelling in Aleppo" in body and url("adjudicate", article) in body
    score = ArticleAgreement.objects.get(article=article, unit="token").score
    assert f"{score:.2f}</a></td>" in body
    assert_no_inline_code(body)


def test_queue_htmx_returns_the_table_only(article, rita):
    response = rita.get(reverse("review-queue", args=["demo-news"]), {"status": "all"}, **HX)
    assert response.status_code == 200
    assert_fragment(response, "queue")
    assert "Shelling in Aleppo" in response.content.decode()


def test_queue_filters_narrow_the_list(project, article, rita, editor):
    other = make_article(project, TEXT, title="Quiet day", editors=[editor])
    make_annotation(other, editor, [(*REBELS, "ACTOR")], submit=True)
    queue = reverse("review-queue", args=["demo-news"])
    body = rita.get(queue, {"label": "SOURCE"}).content.decode()
    assert "Shelling in Aleppo" in body and "Quiet day" not in body
    body = rita.get(queue, {"editor": "otto"}).content.decode()
    assert "Shelling in Aleppo" in body and "Quiet day" not in body
    body = rita.get(queue, {"status": "final"}).content.decode()
    assert "No article matches" in body


def test_queue_refuses_unknown_filter_values(article, rita):
    response = rita.get(reverse("review-queue", args=["demo-news"]), {"status": "done"})
    assert response.status_code == 400
    assert "cannot be used" in response.content.decode()


def test_queue_is_for_reviewers_and_managers(
    article, client_for, editor, manager, outsider, admin_user
):
    queue = reverse("review-queue", args=["demo-news"])
    assert client_for(editor).get(queue).status_code == 403
    assert client_for(outsider).get(queue).status_code == 404
    assert client_for(manager).get(queue).status_code == 200
    assert client_for(admin_user).get(queue).status_code == 200


def test_queue_queries_do_not_grow_with_articles(
    project, editor, other_editor, rita, django_assert_max_num_queries
):
    for n in range(30):
        a = make_article(project, TEXT, title=f"Article {n}", editors=[editor, other_editor])
        make_annotation(a, editor, [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")], submit=True)
        make_annotation(a, other_editor, [(*REBELS, "ACTOR")], submit=True)
    with django_assert_max_num_queries(13):
        response = rita.get(reverse("review-queue", args=["demo-news"]))
    assert response.content.decode().count("Article ") >= 30


def test_queue_paginates(project, editor, rita):
    for n in range(55):
        a = make_article(project, TEXT, title=f"Article {n}", editors=[editor])
        make_annotation(a, editor, [], submit=True)
    body = rita.get(reverse("review-queue", args=["demo-news"])).content.decode()
    assert "Page 1 of 2" in body and "page=2" in body


# --- the adjudication page ---


def test_adjudication_page_shows_every_candidate_and_the_gold(article, rita):
    response = rita.get(url("adjudicate", article))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-span="c0-6-ACTOR"' in body and "agree-all" in body
    assert "conflict-label" in body  # Aleppo: LOCATION for edith, ACTOR for otto
    assert 'data-text-pane="gold"' in body and 'name="base_version" value="0"' in body
    assert url("review-accept-agreed", article) in body
    assert_no_inline_code(body)


def test_adjudication_htmx_returns_the_workspace(article, rita):
    response = rita.get(url("adjudicate", article), **HX)
    assert response.status_code == 200
    assert_fragment(response, "workspace")


def test_a_layer_shows_one_editors_spans(article, rita):
    body = rita.get(url("adjudicate", article), {"layer": "otto"}).content.decode()
    pane = body.split('data-text-pane="editors"')[1].split("</div>")[0]
    assert 'data-span="c15-21-ACTOR"' in pane and 'data-span="c33-45-SOURCE"' not in pane


def test_article_text_is_escaped(project, editor, rita):
    article = make_article(project, "<script>alert(1)</script> Rebels", editors=[editor])
    make_annotation(article, editor, [(26, 32, "ACTOR")], submit=True)
    body = rita.get(url("adjudicate", article)).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body


def test_unsubmitted_editors_are_named_not_shown(project, editor, other_editor, rita):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(*ALEPPO, "LOCATION")])
    body = rita.get(url("adjudicate", article)).content.decode()
    assert 'otto <span class="muted">(in progress)</span>' in body
    assert 'data-span="c15-21-LOCATION"' not in body


def test_viewing_the_page_writes_nothing(article, rita):
    rita.get(url("adjudicate", article))
    assert not Annotation.objects.gold().exists()


WRITES = [
    ("review-accept", ()),
    ("review-accept-agreed", ()),
    ("review-add", ()),
    ("review-final", ()),
    ("review-reopen", ()),
]


@pytest.mark.parametrize("name, args", [("adjudicate", ()), *WRITES])
def test_editors_are_forbidden_and_outsiders_see_nothing(
    article, client_for, editor, outsider, name, args
):
    target = url(name, article, *args)
    method = "get" if name == "adjudicate" else "post"
    assert getattr(client_for(editor), method)(target).status_code == 403
    assert getattr(client_for(outsider), method)(target).status_code == 404
    assert not gold_versions(article).exists()


def test_editors_cannot_remove_or_relabel_gold_spans(article, client_for, editor, reviewer, rita):
    post(
        rita, "review-accept", article, {"span": editor_span(article, editor, *REBELS, "ACTOR").pk}
    )
    span = gold_for(article).current_spans().get()
    client = client_for(editor)
    assert (
        client.post(url("review-remove", article, span.pk), {"base_version": 1}).status_code == 403
    )
    relabel = url("review-relabel", article, span.pk)
    assert client.post(relabel, {"base_version": 1, "label": "SOURCE"}).status_code == 403
    assert gold_keys(article) == {(*REBELS, "ACTOR")}


def test_managers_and_admins_may_adjudicate(article, client_for, manager, admin_user):
    assert client_for(manager).get(url("adjudicate", article)).status_code == 200
    assert client_for(admin_user).get(url("adjudicate", article)).status_code == 200


def test_reviewers_of_another_project_see_nothing(article, client_for):
    elsewhere = make_project("elsewhere-2")
    stranger = make_member(elsewhere, make_user("sam"), Role.REVIEWER)
    assert client_for(stranger).get(url("adjudicate", article)).status_code == 404


# --- accepting ---


def test_accept_a_span_with_a_plain_form(article, editor, rita):
    chosen = editor_span(article, editor, *MINISTRY, "SOURCE")
    response = post(rita, "review-accept", article, {"span": chosen.pk, "note": "quoted source"})
    assert response.status_code == 303 and response["Location"] == url("adjudicate", article)
    (gold_span,) = gold_for(article).current_spans()
    assert gold_span.source_id == chosen.pk
    version = gold_versions(article).get()
    assert version.note == "quoted source" and version.summary["from"] == {"edith": 1, "otto": 1}
    assert "Span accepted" in rita.get(response["Location"]).content.decode()


def test_accept_a_span_with_htmx(article, editor, rita):
    chosen = editor_span(article, editor, *REBELS, "ACTOR")
    response = post(rita, "review-accept", article, {"span": chosen.pk}, hx=True)
    assert response.status_code == 200
    assert_fragment(response, "workspace")
    body = response.content.decode()
    assert "Span accepted" in body and "✓ in gold" in body
    assert 'name="base_version" value="1"' in body
    assert gold_keys(article) == {(*REBELS, "ACTOR")}


def test_a_plain_form_keeps_the_layer(article, editor, rita):
    chosen = editor_span(article, editor, *REBELS, "ACTOR")
    response = post(rita, "review-accept", article, {"span": chosen.pk, "layer": "edith"})
    assert response["Location"] == url("adjudicate", article) + "?layer=edith"


@pytest.mark.parametrize("hx", [False, True])
@pytest.mark.parametrize("data", [{"span": "abc"}, {"span": ""}, {"span": "999999"}])
def test_bad_span_is_refused_and_nothing_saved(article, rita, data, hx):
    response = post(rita, "review-accept", article, data, hx=hx)
    assert response.status_code == 400
    assert response["X-Error-Message"]
    assert not gold_versions(article).exists()


def test_missing_base_version_is_refused(article, editor, rita):
    chosen = editor_span(article, editor, *REBELS, "ACTOR")
    response = rita.post(url("review-accept", article), {"span": chosen.pk})
    assert response.status_code == 400 and "gold version" in response.content.decode()
    assert not gold_versions(article).exists()


@pytest.mark.parametrize("hx", [False, True])
def test_stale_base_version_is_a_conflict_showing_the_current_gold(
    article, editor, client_for, manager, rita, hx
):
    post(
        client_for(manager),
        "review-accept",
        article,
        {"span": editor_span(article, editor, *REBELS, "ACTOR").pk},
    )
    chosen = editor_span(article, editor, *MINISTRY, "SOURCE")
    response = post(
        rita, "review-accept", article, {"span": chosen.pk, "note": "keep me"}, base=0, hx=hx
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Reload" in body and 'name="base_version" value="1"' in body
    assert "keep me" in body  # the reviewer's note survives
    assert gold_keys(article) == {(*REBELS, "ACTOR")}


def test_double_click_makes_one_version(article, editor, rita):
    chosen = editor_span(article, editor, *REBELS, "ACTOR")
    fields = {"span": chosen.pk, "base_version": 0, "request_key": str(uuid.uuid4())}
    first = rita.post(url("review-accept", article), fields, **HX)
    second = rita.post(url("review-accept", article), fields, **HX)
    assert first.status_code == second.status_code == 200
    assert "Already done" in second.content.decode()
    assert gold_versions(article).count() == 1


def test_two_buttons_of_one_page_are_two_requests(article, editor, rita):
    key = str(uuid.uuid4())
    a = editor_span(article, editor, *REBELS, "ACTOR").pk
    b = editor_span(article, editor, *MINISTRY, "SOURCE").pk
    rita.post(url("review-accept", article), {"span": a, "base_version": 0, "request_key": key})
    rita.post(url("review-accept", article), {"span": b, "base_version": 1, "request_key": key})
    assert gold_keys(article) == {(*REBELS, "ACTOR"), (*MINISTRY, "SOURCE")}


@pytest.mark.parametrize("hx", [False, True])
def test_accept_agreed(article, rita, hx):
    response = post(rita, "review-accept-agreed", article, {"min_editors": 2}, hx=hx)
    assert response.status_code == (200 if hx else 303)
    assert gold_keys(article) == {(*REBELS, "ACTOR")}
    if hx:
        assert_fragment(response, "workspace")
        assert "Accepted 1 span marked by at least 2" in response.content.decode()


def test_accept_agreed_by_one_leaves_the_tie_to_the_reviewer(article, rita):
    response = post(rita, "review-accept-agreed", article, {"min_editors": 1}, hx=True)
    assert "2 in conflict left for you" in response.content.decode()
    assert gold_keys(article) == {(*REBELS, "ACTOR"), (*MINISTRY, "SOURCE")}


@pytest.mark.parametrize("k", ["0", "3", "two", ""])
def test_accept_agreed_refuses_a_bad_number(article, rita, k):
    response = post(rita, "review-accept-agreed", article, {"min_editors": k}, hx=True)
    assert response.status_code == 400
    assert not gold_versions(article).exists()


# --- editing the gold directly ---


@pytest.mark.parametrize("hx", [False, True])
def test_add_a_span_from_a_selection(project, editor, rita, hx):
    text = "🙂 Rebels shelled Aleppo."  # the emoji is two UTF-16 units, one code point
    article = make_article(project, text, editors=[editor])
    make_annotation(article, editor, [(2, 8, "ACTOR")], submit=True)
    # The browser selected "ebels shell" in UTF-16 units 4..15; snapped to whole words.
    data = {"start": 4, "end": 15, "quote": "ebels shell", "label": "ACTOR"}
    response = post(rita, "review-add", article, data, hx=hx)
    assert response.status_code == (200 if hx else 303)
    (span,) = gold_for(article).current_spans()
    assert (span.start, span.end, span.text) == (2, 16, "Rebels shelled")
    assert span.source_id is None


def test_add_a_span_an_editor_also_marked_records_the_source(article, editor, rita):
    data = {"start": 33, "end": 45, "quote": "the ministry", "label": "SOURCE"}
    post(rita, "review-add", article, data)
    span = gold_for(article).current_spans().get()
    assert span.source_id == editor_span(article, editor, *MINISTRY, "SOURCE").pk


@pytest.mark.parametrize(
    "data",
    [
        {"start": 33, "end": 45, "quote": "something else", "label": "SOURCE"},
        {"start": 33, "end": 999, "quote": "the ministry", "label": "SOURCE"},
        {"start": 45, "end": 33, "quote": "", "label": "SOURCE"},
        {"start": "x", "end": 45, "quote": "the ministry", "label": "SOURCE"},
        {"start": 33, "end": 45, "quote": "the ministry", "label": "WEAPON"},
    ],
)
def test_a_bad_selection_is_refused_and_nothing_saved(article, rita, data):
    response = post(rita, "review-add", article, data, hx=True)
    assert response.status_code == 400
    assert not gold_versions(article).exists()


@pytest.fixture
def accepted(article, editor, rita):
    post(
        rita,
        "review-accept",
        article,
        {"span": editor_span(article, editor, *ALEPPO, "LOCATION").pk},
    )
    return gold_for(article).current_spans().get()


@pytest.mark.parametrize("hx", [False, True])
def test_remove_a_gold_span(article, accepted, rita, hx):
    response = post(rita, "review-remove", article, {}, accepted.pk, hx=hx)
    assert response.status_code == (200 if hx else 303)
    assert gold_keys(article) == set()
    assert gold_for(article).spans_at(1).get().pk == accepted.pk  # history kept


@pytest.mark.parametrize("hx", [False, True])
def test_relabel_a_gold_span(article, accepted, other_editor, rita, hx):
    data = {f"relabel-{accepted.pk}": "ACTOR"}
    response = post(rita, "review-relabel", article, data, accepted.pk, hx=hx)
    assert response.status_code == (200 if hx else 303)
    span = gold_for(article).current_spans().get()
    assert span.label.key == "ACTOR"
    assert span.source_id == editor_span(article, other_editor, *ALEPPO, "ACTOR").pk


def test_relabel_to_an_unknown_label_is_refused(article, accepted, rita):
    response = post(
        rita, "review-relabel", article, {f"relabel-{accepted.pk}": "WEAPON"}, accepted.pk
    )
    assert response.status_code == 400 and "not a label" in response.content.decode()
    assert gold_keys(article) == {(*ALEPPO, "LOCATION")}


def test_removing_a_span_that_is_not_in_the_gold_is_refused(article, accepted, rita):
    response = post(rita, "review-remove", article, {}, 999999, hx=True)
    assert response.status_code == 400
    assert gold_keys(article) == {(*ALEPPO, "LOCATION")}


# --- final and reopen ---


@pytest.mark.parametrize("hx", [False, True])
def test_mark_final_then_reopen(article, accepted, editor, rita, hx):
    response = post(rita, "review-final", article, {"note": "checked twice"}, hx=hx)
    assert response.status_code == (200 if hx else 303)
    gold = gold_for(article)
    assert gold.final and gold.version == 2
    page = rita.get(url("adjudicate", article)).content.decode()
    assert url("review-reopen", article) in page and url("review-final", article) not in page
    assert "disabled" in page

    response = post(rita, "review-reopen", article, {"note": "one more source"}, hx=hx)
    gold.refresh_from_db()
    assert not gold.final and gold.version == 3
    assert [v.note for v in gold.versions.all()] == ["", "checked twice", "one more source"]


def test_final_gold_refuses_accepting_until_reopened(article, accepted, editor, rita):
    post(rita, "review-final", article, {})
    chosen = editor_span(article, editor, *REBELS, "ACTOR")
    response = post(rita, "review-accept", article, {"span": chosen.pk}, hx=True)
    assert response.status_code == 409 and "reopen" in response.content.decode()
    assert gold_keys(article) == {(*ALEPPO, "LOCATION")}


def test_final_articles_leave_the_open_queue(article, accepted, rita):
    post(rita, "review-final", article, {})
    queue = reverse("review-queue", args=["demo-news"])
    assert "Shelling in Aleppo" not in rita.get(queue).content.decode()
    final = rita.get(queue, {"status": "final"}).content.decode()
    assert "Shelling in Aleppo" in final and "review-final" in final


def test_adjudication_queries_do_not_grow_with_spans(
    project, editor, other_editor, rita, django_assert_max_num_queries
):
    words = " ".join(f"word{n}" for n in range(200))
    article = make_article(project, words, editors=[editor, other_editor])
    spans = [(m.start(), m.end(), "ACTOR") for m in re.finditer(r"word\d+", words)]
    make_annotation(article, editor, spans[:150], submit=True)
    make_annotation(article, other_editor, spans[50:], submit=True)
    post(rita, "review-accept-agreed", article, {"min_editors": 2})
    assert gold_for(article).current_spans().count() == 100
    with django_assert_max_num_queries(15):
        response = rita.get(url("adjudicate", article))
    assert response.content.decode().count("✓ in gold") == 100


def test_page_warns_when_an_editor_changed_after_the_last_decision(
    article, editor, other_editor, rita
):
    post(
        rita, "review-accept", article, {"span": editor_span(article, editor, *REBELS, "ACTOR").pk}
    )
    make_annotation(article, other_editor, [(*REBELS, "ACTOR")], submit=True)
    body = rita.get(url("adjudicate", article)).content.decode()
    assert "Last decided on edith v1, otto v1." in body
    assert "Changed since the last gold decision: otto." in body
