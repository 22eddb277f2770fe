"""The demo set-up: idempotent, realistic, and made through the same paths as real work."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from annotate.demo import DemoError, _locate, setup_demo
from annotate.models import (
    Annotation,
    AnnotationVersion,
    Article,
    Assignment,
    AttributeDefinition,
    Label,
    Membership,
    Project,
    Relation,
    RelationType,
    Role,
    Span,
)
from annotate.models.facts import fact_schema
from annotate.services.annotations import full_state_of
from annotate.views.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [
        get_user_model(),
        Project,
        Label,
        Membership,
        Article,
        Assignment,
        Annotation,
        AnnotationVersion,
        Span,
        AttributeDefinition,
        RelationType,
        Relation,
    ]
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture
def demo():
    return setup_demo().project


def test_setup_demo_twice_changes_nothing():
    first = setup_demo()
    before = counts()
    stamps = list(AnnotationVersion.objects.values_list("pk", "created_at"))
    second = setup_demo()
    assert counts() == before
    assert list(AnnotationVersion.objects.values_list("pk", "created_at")) == stamps
    assert first.articles_created >= 8 and first.versions_written > 10
    assert second.articles_created == 0
    assert second.users_created == [] and second.versions_written == 0
    assert second.assignments_made == 0


def test_demo_users_have_the_published_password_and_roles(demo):
    for username, kind in DEMO_ACCOUNTS:
        user = get_user_model().objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_superuser == (kind == "admin")
    roles = dict(demo.memberships.values_list("user__username", "role"))
    assert roles == {
        "admin": Role.MANAGER,
        "editor1": Role.EDITOR,
        "editor2": Role.EDITOR,
        "editor3": Role.EDITOR,
        "reviewer": Role.REVIEWER,
    }


def test_setup_demo_restores_a_changed_demo_password(demo):
    editor = get_user_model().objects.get(username="editor1")
    editor.set_password("something-else-entirely")
    editor.save()
    setup_demo()
    editor.refresh_from_db()
    assert editor.check_password(DEMO_PASSWORD)


def test_demo_project_has_four_labels_with_hotkeys_and_guidelines(demo):
    labels = list(demo.labels.order_by("order"))
    assert [(label.key, label.hotkey) for label in labels] == [
        ("ACTOR", "1"),
        ("LOCATION", "2"),
        ("CASUALTY", "3"),
        ("SOURCE", "4"),
    ]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", label.color) for label in labels)
    assert all(len(label.description) > 40 for label in labels)
    assert demo.overlap == 2 and demo.editors_can_upload
    assert "## CASUALTY" in demo.guidelines and "nesting is allowed" in demo.guidelines.lower()


def test_every_article_is_assigned_to_two_editors(demo):
    for article in demo.articles.all():
        assert article.assignments.count() == 2, article.external_id


def test_articles_are_short_original_news_texts(demo):
    articles = list(demo.articles.all())
    assert len(articles) >= 8
    for article in articles:
        words = len(article.text.split())
        assert 120 <= words <= 400, (article.external_id, words)
        assert article.title and article.sha256


def test_special_articles_exist(demo):
    texts = {a.external_id: a.text for a in demo.articles.all()}
    everything = "\n".join(texts.values())
    assert any(ord(c) > 0xFFFF for c in texts["demo-002"]), "emoji outside the BMP"
    assert re.search(r"[\u0600-\u06FF]{3,} [\u0600-\u06FF]{3,}", texts["demo-003"])
    for words in ("four fighters", "at least six", "more than 20"):
        assert words in everything.lower()
    assert "<b>" in texts["demo-005"] and "&amp;" in texts["demo-005"]
    for typography in ("“", "”", "—", "…"):
        assert typography in everything


def test_crlf_article_is_stored_canonical(demo):
    raw = (Article.objects.get(project=demo, external_id="demo-006")).text
    assert "\r" not in raw and "\n\n" in raw


def test_two_editors_submitted_the_same_articles(demo):
    submitted = {
        name: set(
            Annotation.objects.submitted()
            .filter(annotator__username=name, article__project=demo)
            .values_list("article__external_id", flat=True)
        )
        for name in ("editor1", "editor2")
    }
    shared = submitted["editor1"] & submitted["editor2"]
    assert len(shared) >= 5


def test_editors_partly_agree_and_partly_disagree(demo):
    def spans(name: str, external_id: str) -> set[tuple[int, int, str]]:
        annotation = Annotation.objects.get(
            annotator__username=name, article__external_id=external_id
        )
        return {(s.start, s.end, s.label.key) for s in annotation.current_spans()}

    one, two = spans("editor1", "demo-001"), spans("editor2", "demo-001")
    assert one & two and one - two and two - one


def test_demo_work_has_history(demo):
    editor_work = Annotation.objects.editors().filter(article__project=demo, version__gt=0)
    assert editor_work.filter(version__gte=2).count() >= 5
    assert editor_work.filter(status=Annotation.Status.IN_PROGRESS).exists()
    assert Span.objects.filter(annotation__article__project=demo, removed_in__isnull=False)


def test_demo_has_a_nested_span(demo):
    nested = False
    for annotation in Annotation.objects.filter(article__project=demo):
        current = list(annotation.current_spans())
        nested |= any(
            a.start <= b.start and b.end <= a.end and (a.start, a.end) != (b.start, b.end)
            for a in current
            for b in current
        )
    assert nested


def test_demo_gold_is_final_and_names_its_sources(demo):
    gold = Annotation.objects.gold().get(article__external_id="demo-001")
    assert gold.final and gold.version == 2
    spans = list(gold.current_spans())
    assert spans and all(s.source_id for s in spans)


def test_every_span_matches_the_article_text(demo):
    spans = Span.objects.filter(annotation__article__project=demo).select_related(
        "annotation__article"
    )
    assert spans.count() > 50
    for span in spans:
        assert span.annotation.article.text[span.start : span.end] == span.text


def test_a_phrase_missing_from_the_article_is_reported(demo):
    article = demo.articles.get(external_id="demo-001")
    with pytest.raises(DemoError, match="occurrence 5"):
        _locate(article, "ACTOR", "Deir ez-Zor", 5)


def test_setup_demo_command_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("setup_demo")
    assert not Project.objects.exists()


def test_setup_demo_command_prints_a_summary(settings, capsys):
    settings.DEBUG = True
    call_command("setup_demo")
    out = capsys.readouterr().out
    assert "users created: admin, editor1, editor2, editor3, reviewer" in out
    assert DEMO_PASSWORD in out


def test_demo_command_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("demo")


def test_demo_command_migrates_sets_up_and_serves(settings, monkeypatch):
    from django.core.management.commands import runserver

    served = {}
    monkeypatch.setattr(
        runserver.Command, "handle", lambda self, *args, **opts: served.update(opts)
    )
    settings.DEBUG = True
    call_command("demo", "127.0.0.1:8123")
    assert served["addrport"] == "127.0.0.1:8123" and served["use_reloader"] is False
    assert Project.objects.filter(slug="demo").exists()


# --- facts ---------------------------------------------------------------------------------


def _state(username: str, external_id: str):
    annotation = Annotation.objects.get(
        annotator__username=username, article__external_id=external_id
    )
    return full_state_of(annotation), annotation.article.text


def _facts(username: str, external_id: str) -> tuple[dict, set]:
    """Attributes by span text, and relations as (type, from text, to text)."""
    state, text = _state(username, external_id)
    attributes = {text[s.start : s.end]: values for s, values in state.attributes.items()}
    relations = {
        (r.type, text[r.from_span.start : r.from_span.end], text[r.to_span.start : r.to_span.end])
        for r in state.relations
    }
    return attributes, relations


def test_demo_project_has_the_fact_schema(demo):
    schema = fact_schema(demo.pk)
    casualty = {spec.key: spec for spec in schema.specs_for("CASUALTY")}
    assert list(casualty) == ["kind", "low", "high", "qualifier", "victims"]
    assert casualty["kind"].choices == ("killed", "wounded", "missing", "displaced", "detained")
    assert casualty["low"].min == casualty["high"].min == 0
    assert "at_least" in casualty["qualifier"].choices
    assert "security forces" in casualty["victims"].choices
    (source_type,) = schema.specs_for("SOURCE")
    assert source_type.choices == (
        "official",
        "monitor",
        "media",
        "armed group",
        "witness",
        "anonymous",
    )
    relations = schema.relations
    assert list(relations) == ["SAID_BY", "LOCATED_IN", "PERPETRATOR", "VICTIM"]
    assert relations["SAID_BY"].from_labels == {"CASUALTY", "ACTOR", "LOCATION"}
    assert relations["SAID_BY"].to_labels == {"SOURCE"}
    assert relations["LOCATED_IN"].allows("CASUALTY", "LOCATION")
    assert not relations["VICTIM"].allows("CASUALTY", "SOURCE")


def test_demo_figures_carry_attributes_and_relations(demo):
    attributes, relations = _facts("editor1", "demo-001")
    assert attributes["at least six civilians"] == {
        "kind": "killed", "low": 6, "qualifier": "at_least", "victims": "civilians"
    }  # fmt: skip
    assert ("SAID_BY", "at least six civilians", "Local officials") in relations
    assert ("LOCATED_IN", "nine people", "al-Mayadin") in relations
    assert ("PERPETRATOR", "at least six civilians", "Free Euphrates Brigade") in relations
    kinds = {r[0] for name in ("editor1", "editor2") for r in _facts(name, "demo-007")[1]}
    assert kinds == {"SAID_BY", "LOCATED_IN", "PERPETRATOR", "VICTIM"}
    assert Relation.objects.filter(annotation__article__project=demo).count() > 30


def test_demo_editors_partly_agree_on_facts(demo):
    one_attributes, one = _facts("editor1", "demo-001")
    two_attributes, two = _facts("editor2", "demo-001")
    # The same figure, the same values; the same figure, another qualifier.
    assert one_attributes["Four fighters"] == two_attributes["Four fighters"]
    assert one_attributes["more than 20 wounded"]["qualifier"] == "more_than"
    assert two_attributes["more than 20 wounded"]["qualifier"] == "at_least"
    # The same source for one figure, another source for another.
    assert ("SAID_BY", "eleven", "Euphrates Monitoring Network") in one & two
    assert ("SAID_BY", "Four fighters", "Local officials") in one - two
    assert ("SAID_BY", "Four fighters", "Euphrates Monitoring Network") in two - one


def test_the_demo_gold_has_facts_and_a_version_changes_only_an_attribute(demo):
    gold = Annotation.objects.gold().get(article__external_id="demo-001")
    state = full_state_of(gold)
    assert len(state.relations) == 9 and len(state.attributes) == 10
    versions = AnnotationVersion.objects.filter(
        annotation__annotator__username="editor2", annotation__article__external_id="demo-001"
    )
    last = versions.get(number=3)
    before, after = (
        _attributes_of(last.annotation, n, "eleven") for n in (last.number - 1, last.number)
    )
    assert before["victims"] == "unknown" and after["victims"] == "civilians"


def _attributes_of(annotation, number: int, phrase: str) -> dict:
    text = annotation.article.text
    state = full_state_of(annotation, number)
    return next(v for s, v in state.attributes.items() if text[s.start : s.end] == phrase)


def test_setup_demo_puts_the_schema_back_and_leaves_extra_types_alone(demo):
    said_by = RelationType.objects.get(project=demo, key="SAID_BY")
    said_by.name = "changed"
    said_by.save()
    said_by.to_labels.clear()
    AttributeDefinition.objects.filter(label__project=demo, key="low").update(min=None)
    extra = RelationType.objects.create(project=demo, key="NEAR", name="near")
    setup_demo()
    schema = fact_schema(demo.pk)
    assert schema.relations["SAID_BY"].name == "said by"
    assert schema.relations["SAID_BY"].to_labels == {"SOURCE"}
    assert {s.key: s.min for s in schema.specs_for("CASUALTY")}["low"] == 0
    assert RelationType.objects.filter(pk=extra.pk).exists()


def test_the_follow_up_story_offers_the_final_golds_names_and_the_models_spans(demo):
    """demo-011 repeats names that the final gold of demo-001 marks; editor1 has not
    touched it, so the page offers them dashed, beside the demo model's predictions."""
    from annotate.models import ModelVersion, Role
    from annotate.services.suggestions import suggestions_for

    article = demo.articles.get(external_id="demo-011")
    editor = get_user_model().objects.get(username="editor1")
    offered = suggestions_for(article, editor, Role.EDITOR)
    gold = {(s.label, s.text) for s in offered if s.origin == "gold"}
    assert {("ACTOR", "Free Euphrates Brigade"), ("LOCATION", "al-Busayrah")} <= gold
    model = [s for s in offered if s.origin == "model"]
    assert {s.model for s in model} == {"demo-gazetteer@1"}
    assert all(article.text[s.start : s.end] == s.text for s in offered)
    assert ModelVersion.objects.get(project=demo).spans.count() == 18
