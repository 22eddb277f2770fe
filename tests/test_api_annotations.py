"""API: the caller's annotation, versions, review of editors' work, and the gold."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import Annotation, AnnotationVersion, Span

from .api_support import api, assert_error
from .factories import make_annotation, make_article, make_member, make_user

TEXT = "Rebels shelled Aleppo on Monday, killing 3 people, the ministry said."
REBELS = {"start": 0, "end": 6, "label": "ACTOR"}
ALEPPO = {"start": 15, "end": 21, "label": "LOCATION", "text": "Aleppo"}


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, editors=[editor, other_editor])


def own(article) -> str:
    return f"/api/articles/{article.pk}/annotation/"


def put(client, url, payload, **headers):
    return client.put(url, payload, format="json", **headers)


def versions_of(article, user=None) -> int:
    return AnnotationVersion.objects.filter(
        annotation__article=article, annotation__annotator=user
    ).count()


# --- reading and writing one's own ------------------------------------------------------


def test_before_the_first_save_the_annotation_is_version_0_and_no_row_is_made(article, editor):
    data = api(editor).get(own(article)).json()
    assert data == {
        "article": article.pk,
        "annotator": "edith",
        "version": 0,
        "status": "in_progress",
        "updated_at": None,
        "spans": [],
        "relations": [],
        "warnings": [],
    }
    assert not Annotation.objects.exists()


def test_put_replaces_the_spans_and_makes_the_next_version(article, editor):
    client = api(editor)
    response = put(client, own(article), {"base_version": 0, "spans": [REBELS, ALEPPO]})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == 1 and data["status"] == "in_progress"
    assert [(s["start"], s["end"], s["label"], s["text"]) for s in data["spans"]] == [
        (0, 6, "ACTOR", "Rebels"),
        (15, 21, "LOCATION", "Aleppo"),
    ]
    data = put(client, own(article), {"base_version": 1, "spans": [ALEPPO], "submit": True}).json()
    assert data["version"] == 2 and data["status"] == "submitted" and len(data["spans"]) == 1
    assert client.get(own(article)).json() == data
    back = put(client, own(article), {"base_version": 2, "spans": [ALEPPO], "submit": False})
    assert back.json()["status"] == "in_progress" and back.json()["version"] == 3


def test_the_answer_to_each_write_is_what_a_read_then_gives(article, editor, reviewer):
    """The write answers from what it wrote (no second read): it must agree with a read
    through every kind of change, in the read's order (offsets, then the label order)."""
    client = api(editor)
    steps = [
        [REBELS, ALEPPO],
        # nested and crossing spans, two labels on the same offsets
        [REBELS, ALEPPO, {"start": 0, "end": 21, "label": "SOURCE"},
         {"start": 0, "end": 21, "label": "ACTOR"}, {"start": 7, "end": 21, "label": "CASUALTY"}],
        [ALEPPO, {"start": 0, "end": 21, "label": "LOCATION"}],  # remove, relabel
        [],  # everything removed
        [REBELS],
    ]  # fmt: skip
    version = 0
    for spans in steps:
        written = put(client, own(article), {"base_version": version, "spans": spans})
        assert written.status_code == 200, written.content
        assert written.json() == client.get(own(article)).json()
        fetched = client.get(f"/api/articles/{article.pk}/?include=annotation").json()
        assert fetched["annotation"] == written.json()
        version = written.json()["version"]
    assert version == len(steps)
    editor_span = Span.objects.get(annotation__annotator=editor, removed_in=None)
    gold = f"/api/articles/{article.pk}/gold/"
    spans = [{**REBELS, "source": editor_span.pk}, ALEPPO]
    written = put(api(reviewer), gold, {"base_version": 0, "spans": spans})
    assert written.status_code == 200, written.content
    assert written.json() == api(reviewer).get(gold).json()
    assert [s["source"] for s in written.json()["spans"]] == [editor_span.pk, None]


def test_an_annotation_whose_spans_were_all_removed_keeps_its_version(article, editor):
    client = api(editor)
    put(client, own(article), {"base_version": 0, "spans": [REBELS]})
    put(client, own(article), {"base_version": 1, "spans": [], "submit": True})
    for url in (own(article), f"/api/articles/{article.pk}/?include=annotation"):
        data = client.get(url).json()
        data = data.get("annotation", data)
        assert (data["version"], data["status"], data["spans"]) == (2, "submitted", [])
        assert data["updated_at"] is not None


def test_a_get_response_can_be_sent_back_as_is(article, editor):
    client = api(editor)
    saved = put(client, own(article), {"base_version": 0, "spans": [REBELS]}).json()
    again = put(
        client, own(article), {"base_version": saved["version"], "spans": saved["spans"] + [ALEPPO]}
    )
    assert again.status_code == 200 and again.json()["version"] == 2


def test_a_stale_base_version_is_409_with_the_current_version_and_nothing_is_written(
    article, editor
):
    client = api(editor)
    put(client, own(article), {"base_version": 0, "spans": [REBELS]})
    put(client, own(article), {"base_version": 1, "spans": [REBELS, ALEPPO]})
    data = assert_error(put(client, own(article), {"base_version": 1, "spans": []}), 409)
    assert data["current_version"] == 2
    assert [c["version"] for c in data["changes"]] == [2]
    assert versions_of(article, editor) == 2
    assert len(client.get(own(article)).json()["spans"]) == 2


def test_the_same_request_twice_makes_one_version(article, editor):
    client = api(editor)
    key = str(uuid.uuid4())
    payload = {"base_version": 0, "spans": [REBELS]}
    first = put(client, own(article), payload, HTTP_IDEMPOTENCY_KEY=key)
    second = put(client, own(article), payload, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert versions_of(article, editor) == 1
    assert AnnotationVersion.objects.get().request_key == uuid.UUID(key)


def test_a_reused_or_malformed_idempotency_key_is_400(article, editor):
    client = api(editor)
    key = str(uuid.uuid4())
    put(client, own(article), {"base_version": 0, "spans": [REBELS]}, HTTP_IDEMPOTENCY_KEY=key)
    assert_error(
        put(client, own(article), {"base_version": 1, "spans": []}, HTTP_IDEMPOTENCY_KEY=key), 400
    )
    assert_error(
        put(client, own(article), {"base_version": 1, "spans": []}, HTTP_IDEMPOTENCY_KEY="abc"), 400
    )
    assert versions_of(article, editor) == 1


@pytest.mark.parametrize(
    "field",
    [
        {"annotator": "otto"},
        {"final": True},
        {"project": 2},
        {"version": 9},
        {"status": "submitted"},
        {"kind": "gold"},
    ],
)
def test_mass_assigned_fields_are_refused(article, editor, other_editor, field):
    data = assert_error(
        put(api(editor), own(article), {"base_version": 0, "spans": [REBELS], **field}), 400
    )
    assert next(iter(field)) in data["errors"]
    assert not AnnotationVersion.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"spans": [REBELS]},
        {"base_version": "0", "spans": [REBELS]},
        {"base_version": 0.0, "spans": [REBELS]},
        {"base_version": True, "spans": [REBELS]},
        {"base_version": -1, "spans": [REBELS]},
        {"base_version": 10**30, "spans": [REBELS]},
        {"base_version": 0},
        {"base_version": 0, "spans": "ACTOR"},
        {"base_version": 0, "spans": {"0": REBELS}},
        {"base_version": 0, "spans": [[0, 6, "ACTOR"]]},
        {"base_version": 0, "spans": [{"start": "0", "end": 6, "label": "ACTOR"}]},
        {"base_version": 0, "spans": [{"start": 0, "end": 6.0, "label": "ACTOR"}]},
        {"base_version": 0, "spans": [{"start": 0, "end": 10**30, "label": "ACTOR"}]},
        {"base_version": 0, "spans": [{"start": -3, "end": 6, "label": "ACTOR"}]},
        {"base_version": 0, "spans": [{"start": 6, "end": 6, "label": "ACTOR"}]},
        {"base_version": 0, "spans": [{"start": 0, "end": 6}]},
        {"base_version": 0, "spans": [{"start": 0, "end": 6, "label": "WEAPON"}]},
        {"base_version": 0, "spans": [{"start": 0, "end": 6, "label": 5}]},
        {"base_version": 0, "spans": [{"start": 0, "end": 6, "label": "ACTOR", "text": "Rebel"}]},
        {"base_version": 0, "spans": [{**REBELS, "source": 1}]},
        {"base_version": 0, "spans": [REBELS, REBELS]},
        {"base_version": 0, "spans": [REBELS], "submit": "yes"},
        {"base_version": 0, "spans": [REBELS], "note": 5},
        {"base_version": 0, "spans": [REBELS], "note": "x" * 2001},
        [REBELS],
    ],
)
def test_bad_input_is_400_never_500_and_nothing_is_written(article, editor, payload):
    assert_error(put(api(editor), own(article), payload), 400)
    assert not AnnotationVersion.objects.exists() and not Span.objects.exists()


@pytest.mark.parametrize(
    "raw", [b"{", b'{"base_version": NaN, "spans": []}', b"[" * 50_000, b"\xff\xfe"]
)
def test_malformed_json_is_400(article, editor, raw):
    response = api(editor).generic("PUT", own(article), raw, content_type="application/json")
    assert_error(response, 400)


def test_span_errors_name_the_span(article, editor):
    payload = {"base_version": 0, "spans": [REBELS, {"start": 0, "end": 999, "label": "ACTOR"}]}
    data = assert_error(put(api(editor), own(article), payload), 400)
    assert data["errors"] == [{"index": 1, "detail": data["errors"][0]["detail"]}]
    assert "past the end" in data["detail"]


def test_an_editor_not_assigned_cannot_write_and_no_row_is_made(project, article):
    stranger = make_member(project, make_user("sam"))
    assert_error(put(api(stranger), own(article), {"base_version": 0, "spans": [REBELS]}), 403)
    assert not Annotation.objects.exists()


def test_outsiders_get_404_and_anonymous_401(article, outsider):
    assert_error(api(outsider).get(own(article)), 404)
    assert_error(put(api(outsider), own(article), {"base_version": 0, "spans": []}), 404)
    assert_error(api().get(own(article)), 401)


def test_saving_and_reading_40_spans_costs_no_more_queries_than_1(project, editor):
    words = " ".join(f"word{n:02d}" for n in range(40))
    client = api(editor)
    costs = []
    for count in (1, 40):
        article = make_article(project, words, editors=[editor])
        spans = [{"start": 7 * n, "end": 7 * n + 6, "label": "ACTOR"} for n in range(count)]
        client.get(own(article))  # the token row exists from here on
        with CaptureQueriesContext(connection) as writes:
            assert put(client, own(article), {"base_version": 0, "spans": spans}).status_code == 200
        with CaptureQueriesContext(connection) as reads:
            assert len(client.get(own(article)).json()["spans"]) == count
        costs.append((len(writes), len(reads)))
    assert costs[0] == costs[1]
    # A read: credentials, article and role, the annotation with its spans, its relations.
    assert costs[1][0] <= 16 and costs[1][1] <= 4


# --- versions ---------------------------------------------------------------------------


def test_versions_are_listed_and_each_can_be_read(article, editor):
    client = api(editor)
    put(client, own(article), {"base_version": 0, "spans": [REBELS], "note": "first"})
    put(client, own(article), {"base_version": 1, "spans": [ALEPPO], "submit": True})
    data = client.get(own(article) + "versions/").json()
    assert data["count"] == 2
    first, second = data["results"]
    assert (first["number"], first["author"], first["note"], first["span_count"]) == (
        1,
        "edith",
        "first",
        1,
    )
    assert second["description"] == "+1 LOCATION, \u22121 ACTOR, submitted"
    v1 = client.get(own(article) + "versions/1/").json()
    assert [s["label"] for s in v1["spans"]] == ["ACTOR"]
    assert_error(client.get(own(article) + "versions/3/"), 404)


def test_restoring_makes_a_new_version(article, editor):
    client = api(editor)
    put(client, own(article), {"base_version": 0, "spans": [REBELS]})
    put(client, own(article), {"base_version": 1, "spans": [ALEPPO]})
    response = client.post(own(article) + "versions/1/restore/", {"base_version": 2}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 3 and [s["label"] for s in response.json()["spans"]] == [
        "ACTOR"
    ]
    stale = client.post(own(article) + "versions/2/restore/", {"base_version": 2}, format="json")
    assert assert_error(stale, 409)["current_version"] == 3


def test_versions_have_no_delete(article, editor):
    client = api(editor)
    put(client, own(article), {"base_version": 0, "spans": [REBELS]})
    assert_error(client.delete(own(article) + "versions/1/"), 405)
    assert_error(client.delete(own(article)), 405)
    assert versions_of(article, editor) == 1


# --- review and gold --------------------------------------------------------------------


def test_editors_cannot_see_others_work_or_the_gold(article, editor, other_editor, reviewer):
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    client = api(editor)
    base = f"/api/articles/{article.pk}/"
    assert_error(client.get(base + "annotations/"), 403)
    assert_error(client.get(base + "annotations/otto/"), 403)
    assert_error(client.get(base + "annotations/otto/versions/"), 403)
    assert_error(client.get(base + "gold/"), 403)
    assert_error(client.get(base + "gold/versions/"), 403)
    assert_error(put(client, base + "gold/", {"base_version": 0, "spans": [REBELS]}), 403)
    assert not Annotation.objects.filter(kind="gold").exists()


def test_reviewers_see_every_editors_annotation(
    article, editor, other_editor, reviewer, django_assert_max_num_queries
):
    make_annotation(article, other_editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    client = api(reviewer)
    client.get("/api/projects/")
    with django_assert_max_num_queries(8):
        data = client.get(f"/api/articles/{article.pk}/annotations/").json()
    assert [(a["annotator"], a["version"], a["status"], len(a["spans"])) for a in data] == [
        ("edith", 0, "in_progress", 0),
        ("otto", 1, "submitted", 2),
    ]
    one = client.get(f"/api/articles/{article.pk}/annotations/otto/").json()
    assert one["annotator"] == "otto" and len(one["spans"]) == 2
    assert client.get(f"/api/articles/{article.pk}/annotations/otto/versions/1/").status_code == 200
    assert_error(client.get(f"/api/articles/{article.pk}/annotations/nobody/"), 404)


def test_reviewers_write_the_gold_and_finalising_locks_editors(article, editor, reviewer):
    gold_url = f"/api/articles/{article.pk}/gold/"
    client = api(reviewer)
    assert client.get(gold_url).json()["version"] == 0
    response = put(client, gold_url, {"base_version": 0, "spans": [REBELS], "final": True})
    assert response.status_code == 200, response.content
    assert response.json()["final"] is True and response.json()["annotator"] is None
    assert_error(put(api(editor), own(article), {"base_version": 0, "spans": [ALEPPO]}), 409)
    locked = put(client, gold_url, {"base_version": 1, "spans": [ALEPPO]})
    assert_error(locked, 409)
    reopened = put(client, gold_url, {"base_version": 1, "spans": [ALEPPO], "final": False})
    assert reopened.json()["final"] is False and reopened.json()["version"] == 2
    assert client.get(gold_url + "versions/").json()["count"] == 2


def test_gold_spans_may_name_the_editor_span_they_came_from(article, editor, reviewer):
    work = make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    span_id = work.current_spans().get().pk
    gold_url = f"/api/articles/{article.pk}/gold/"
    response = put(
        api(reviewer), gold_url, {"base_version": 0, "spans": [{**REBELS, "source": span_id}]}
    )
    assert response.json()["spans"][0]["source"] == span_id
    bad = put(api(reviewer), gold_url, {"base_version": 1, "spans": [{**REBELS, "source": 99999}]})
    assert_error(bad, 400)


def test_gold_refuses_unknown_fields_too(article, reviewer):
    gold_url = f"/api/articles/{article.pk}/gold/"
    payload = {"base_version": 0, "spans": [REBELS], "annotator": "rita"}
    assert "annotator" in assert_error(put(api(reviewer), gold_url, payload), 400)["errors"]


def test_an_unsupported_method_is_405_with_the_error_body(article, editor):
    response = api(editor).post(f"/api/articles/{article.pk}/", {}, format="json")
    assert_error(response, 405)
    assert json.loads(response.content)["detail"]


def test_nobody_writes_another_editors_annotation(article, editor, other_editor, reviewer, manager):
    make_annotation(article, other_editor, [(0, 6, "ACTOR")])
    for user in (reviewer, manager, editor):
        response = put(
            api(user),
            f"/api/articles/{article.pk}/annotations/otto/",
            {"base_version": 1, "spans": []},
        )
        assert response.status_code in (403, 405)
    assert versions_of(article, other_editor) == 1
    assert not Annotation.objects.exclude(annotator=other_editor).exists()
