"""Suggestions from final gold and from models: the phrase index, exclusions, rejections,
blindness, accepting (annotate.services.suggestions)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from annotate.models import Annotation, Role, Span
from annotate.models.assistance import GoldPhrase, ModelVersion, PredictedSpan, SuggestionRejection
from annotate.services.annotations import (
    InvalidSpans,
    Locked,
    SpanInput,
    annotation_for,
    gold_for,
    restore_version,
    save_annotation,
)
from annotate.services.labelling import remove_span, undo
from annotate.services.suggestions import (
    accept_suggestions,
    rebuild_gold_index,
    reject_suggestion,
    suggested_span_counts,
    suggestions_for,
)
from annotate.versioning import SpanKey

from .factories import make_annotation, make_article, make_member, make_user

DONE = "Kataeb Hezbollah fighters shelled Aleppo."
#       0      7         17       26      34
OPEN = "In Aleppo, Kataeb Hezbollah said Hezbollah would stay."
#       0  3     10 11     18        28  33


def make_gold(article, reviewer, spans, *, final=True):
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold.version,
        spans=[SpanInput(s, e, label) for s, e, label in spans],
        final=final,
    )
    gold.refresh_from_db()
    return gold


def set_final(gold, reviewer, final):
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold.version,
        spans=[SpanInput(s.start, s.end, s.label.key) for s in gold.current_spans()],
        final=final,
    )


def phrases(project):
    return {(p.text, p.label.key): p.count for p in GoldPhrase.objects.filter(project=project)}


def offered(article, user, role=Role.EDITOR, **options):
    return [
        (s.start, s.end, s.label, s.origin) for s in suggestions_for(article, user, role, **options)
    ]


@pytest.fixture
def done(project, editor, other_editor, reviewer):
    return make_article(project, DONE, editors=[editor, other_editor])


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, OPEN, editors=[editor, other_editor])


# The phrase index


def test_marking_a_gold_final_indexes_its_phrases(project, done, reviewer):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (34, 40, "LOCATION")], final=False)
    assert phrases(project) == {}
    set_final(gold_for(done), reviewer, True)
    assert phrases(project) == {("Kataeb Hezbollah", "ACTOR"): 1, ("Aleppo", "LOCATION"): 1}
    assert GoldPhrase.objects.get(text="Kataeb Hezbollah").first_word == "Kataeb"


def test_reopening_a_gold_takes_its_phrases_out(project, done, reviewer):
    gold = make_gold(done, reviewer, [(0, 16, "ACTOR")])
    other = make_article(project, "Kataeb Hezbollah again.")
    make_gold(other, reviewer, [(0, 16, "ACTOR")])
    assert phrases(project) == {("Kataeb Hezbollah", "ACTOR"): 2}
    set_final(gold, reviewer, False)
    assert phrases(project) == {("Kataeb Hezbollah", "ACTOR"): 1}
    set_final(gold_for(other), reviewer, False)
    assert phrases(project) == {}


def test_deleting_an_article_takes_its_final_golds_phrases_out(project, done, reviewer):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (34, 40, "LOCATION")])
    other = make_article(project, "Kataeb Hezbollah again.")
    make_gold(other, reviewer, [(0, 16, "ACTOR")])
    done.delete()
    assert phrases(project) == {("Kataeb Hezbollah", "ACTOR"): 1}
    project.articles.all().delete()
    assert phrases(project) == {}


def test_a_refused_write_leaves_the_index_as_it_was(project, done, reviewer):
    gold = make_gold(done, reviewer, [(0, 16, "ACTOR")])
    with pytest.raises(Locked):
        save_annotation(
            annotation=gold,
            author=reviewer,
            role=Role.REVIEWER,
            base_version=gold.version,
            spans=[SpanInput(34, 40, "LOCATION")],
        )
    assert phrases(project) == {("Kataeb Hezbollah", "ACTOR"): 1}


def test_the_rebuild_command_makes_the_same_index(project, done, reviewer, capsys):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (34, 40, "LOCATION")])
    before = phrases(project)
    GoldPhrase.objects.all().delete()
    call_command("rebuild_gold_index", project.slug)
    assert phrases(project) == before
    assert "2 phrases" in capsys.readouterr().out
    assert rebuild_gold_index(project) == 2


# What is offered


def test_final_gold_phrases_are_offered_on_whole_words(project, done, article, editor, reviewer):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (34, 40, "LOCATION"), (7, 16, "ACTOR")])
    assert offered(article, editor) == [
        (3, 9, "LOCATION", "gold"),
        (11, 27, "ACTOR", "gold"),
        (18, 27, "ACTOR", "gold"),
        (33, 42, "ACTOR", "gold"),
    ]


def test_the_editors_own_spans_and_rejections_are_not_offered(
    project, done, article, editor, other_editor, reviewer
):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (34, 40, "LOCATION"), (7, 16, "ACTOR")])
    make_annotation(article, editor, [(3, 9, "LOCATION"), (11, 27, "SOURCE")])
    assert reject_suggestion(
        article=article, editor=editor, role=Role.EDITOR, key=SpanKey(33, 42, "ACTOR")
    )
    # Another label on the same words is still offered; the other editor gets everything.
    assert offered(article, editor) == [(11, 27, "ACTOR", "gold"), (18, 27, "ACTOR", "gold")]
    assert len(offered(article, other_editor)) == 4
    # A rejection is nobody's annotation.
    assert not Span.objects.filter(annotation__article=article, start=33).exists()


def test_rejecting_twice_is_harmless(article, editor):
    key = SpanKey(3, 9, "LOCATION")
    assert reject_suggestion(article=article, editor=editor, role=Role.EDITOR, key=key)
    assert not reject_suggestion(article=article, editor=editor, role=Role.EDITOR, key=key)
    assert SuggestionRejection.objects.count() == 1


@pytest.mark.parametrize(
    ("key", "message"),
    [(SpanKey(3, 9, "NOPE"), "no label"), (SpanKey(3, 999, "ACTOR"), "not inside the text")],
)
def test_a_bad_rejection_is_refused(article, editor, key, message):
    with pytest.raises(InvalidSpans, match=message):
        reject_suggestion(article=article, editor=editor, role=Role.EDITOR, key=key)
    assert not SuggestionRejection.objects.exists()


def test_a_manager_can_turn_gold_suggestions_off(project, done, article, editor, reviewer):
    make_gold(done, reviewer, [(34, 40, "LOCATION")])
    project.suggest_from_gold = False
    project.save()
    assert offered(article, editor) == []


def test_editors_get_nothing_once_the_articles_gold_is_final(
    project, done, article, editor, reviewer
):
    make_gold(done, reviewer, [(34, 40, "LOCATION")])
    make_gold(article, reviewer, [])
    assert offered(article, editor) == []
    assert offered(article, reviewer, Role.REVIEWER) == [(3, 9, "LOCATION", "gold")]


# Blindness


def test_no_suggestion_comes_from_another_editors_work(
    project, done, article, editor, other_editor
):
    make_annotation(done, other_editor, [(0, 16, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(3, 9, "LOCATION")], submit=True)
    assert offered(article, editor) == []


def test_no_suggestion_comes_from_a_gold_still_under_review(
    project, done, article, editor, reviewer
):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (34, 40, "LOCATION")], final=False)
    assert offered(article, editor) == []
    assert offered(article, reviewer, Role.REVIEWER) == []


# Model suggestions


@pytest.fixture
def predictions(project, article):
    old = ModelVersion.objects.create(project=project, name="ner@1")
    new = ModelVersion.objects.create(project=project, name="ner@2")
    labels = {label.key: label for label in project.labels.all()}
    for model, start, end, label, score in [
        (old, 33, 42, "ACTOR", 0.5),
        (new, 3, 9, "LOCATION", 0.9),
        (new, 11, 27, "ACTOR", 0.4),
    ]:
        PredictedSpan.objects.create(
            model_version=model,
            article=article,
            start=start,
            end=end,
            label=labels[label],
            text=article.text[start:end],
            score=score,
        )
    return old, new


def test_the_newest_models_predictions_are_offered_with_their_score(article, editor, predictions):
    found = suggestions_for(article, editor, Role.EDITOR)
    assert [(s.start, s.origin, s.model, s.score) for s in found] == [
        (3, "model", "ner@2", 0.9),
        (11, "model", "ner@2", 0.4),
    ]


def test_a_chosen_model_and_a_score_threshold(article, editor, predictions):
    assert offered(article, editor, model="ner@1") == [(33, 42, "ACTOR", "model")]
    assert offered(article, editor, min_score=0.5) == [(3, 9, "LOCATION", "model")]
    with pytest.raises(InvalidSpans, match="no model version named"):
        offered(article, editor, model="ner@9")


def test_the_gold_wins_where_it_and_a_model_agree(
    project, done, article, editor, reviewer, predictions
):
    make_gold(done, reviewer, [(34, 40, "LOCATION")])
    assert offered(article, editor) == [(3, 9, "LOCATION", "gold"), (11, 27, "ACTOR", "model")]


# Accepting


def test_accepting_one_suggestion_adds_it_with_its_origin(project, done, article, editor, reviewer):
    make_gold(done, reviewer, [(34, 40, "LOCATION")])
    result = accept_suggestions(
        article=article,
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        keys=[SpanKey(3, 9, "LOCATION")],
    )
    assert result.version.number == 1
    assert result.version.summary["suggestions"] == {"gold": 1}
    span = annotation_for(article, editor).current_spans().get()
    assert (span.start, span.end, span.text, span.origin) == (3, 9, "Aleppo", "gold")
    assert offered(article, editor) == []


def test_accepting_all_of_a_label_is_one_version(
    project, done, article, editor, reviewer, predictions
):
    make_gold(done, reviewer, [(0, 16, "ACTOR"), (7, 16, "ACTOR"), (34, 40, "LOCATION")])
    make_annotation(article, editor, [(0, 2, "SOURCE")])
    result = accept_suggestions(
        article=article, author=editor, role=Role.EDITOR, base_version=1, label="ACTOR"
    )
    assert result.version.number == 2
    own = annotation_for(article, editor)
    assert {(s.start, s.label.key, s.origin) for s in own.current_spans()} == {
        (0, "SOURCE", ""),
        (11, "ACTOR", "gold"),
        (18, "ACTOR", "gold"),
        (33, "ACTOR", "gold"),
    }
    assert offered(article, editor) == [(3, 9, "LOCATION", "gold")]


def test_accepting_what_is_not_offered_is_refused_and_writes_nothing(
    project, done, article, editor, reviewer
):
    make_gold(done, reviewer, [(34, 40, "LOCATION")])
    with pytest.raises(InvalidSpans, match="no ACTOR suggestion at 3–9"):
        accept_suggestions(
            article=article,
            author=editor,
            role=Role.EDITOR,
            base_version=0,
            keys=[SpanKey(3, 9, "LOCATION"), SpanKey(3, 9, "ACTOR")],
        )
    with pytest.raises(InvalidSpans, match="no SOURCE suggestions"):
        accept_suggestions(
            article=article, author=editor, role=Role.EDITOR, base_version=0, label="SOURCE"
        )
    assert not Annotation.objects.filter(article=article, kind="editor").exists()


def test_an_accepted_suggestion_keeps_its_origin_through_later_versions(
    project, done, article, editor, reviewer
):
    make_gold(done, reviewer, [(34, 40, "LOCATION"), (7, 16, "ACTOR")])
    accept_suggestions(
        article=article,
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        keys=[SpanKey(3, 9, "LOCATION")],
    )
    own = annotation_for(article, editor)
    # A later hand-made span, then removing the accepted one, undoing, restoring.
    save_annotation(
        annotation=own,
        author=editor,
        role=Role.EDITOR,
        base_version=1,
        spans=[SpanInput(3, 9, "LOCATION"), SpanInput(0, 2, "SOURCE")],
    )
    origins = lambda: {s.start: s.origin for s in own.current_spans()}  # noqa: E731
    assert origins() == {0: "", 3: "gold"}
    accepted = own.current_spans().get(start=3)
    remove_span(
        article=article, author=editor, role=Role.EDITOR, base_version=2, span_id=accepted.pk
    )
    assert origins() == {0: ""}
    undo(article=article, author=editor, role=Role.EDITOR, base_version=3)
    assert origins() == {0: "", 3: "gold"}
    own.refresh_from_db()
    restore_version(annotation=own, author=editor, role=Role.EDITOR, number=3, base_version=4)
    restore_version(annotation=own, author=editor, role=Role.EDITOR, number=1, base_version=5)
    assert origins() == {3: "gold"}


def test_only_editors_reject(article, reviewer):
    with pytest.raises(InvalidSpans, match="Only the article's editors"):
        reject_suggestion(
            article=article, editor=reviewer, role=Role.REVIEWER, key=SpanKey(3, 9, "LOCATION")
        )


# The agreement report's counts


def test_counts_of_submitted_spans_that_started_as_suggestions(
    project, done, article, editor, other_editor, reviewer, predictions
):
    make_gold(done, reviewer, [(34, 40, "LOCATION")])
    accept_suggestions(
        article=article,
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        keys=[SpanKey(3, 9, "LOCATION"), SpanKey(11, 27, "ACTOR")],
    )
    own = annotation_for(article, editor)
    save_annotation(
        annotation=own,
        author=editor,
        role=Role.EDITOR,
        base_version=1,
        spans=[SpanInput(3, 9, "LOCATION"), SpanInput(11, 27, "ACTOR"), SpanInput(0, 2, "SOURCE")],
        status=Annotation.Status.SUBMITTED,
    )
    make_annotation(article, other_editor, [(3, 9, "LOCATION")], submit=True)
    third = make_member(project, make_user("thea"))
    make_annotation(make_article(project, OPEN, editors=[third]), third, [(3, 9, "LOCATION")])
    total, editors = suggested_span_counts(project)
    assert (total.spans, total.gold, total.model, total.suggested) == (4, 1, 1, 2)
    assert {name: (c.spans, c.gold, c.model) for name, c in editors.items()} == {
        "edith": (3, 1, 1),
        "otto": (1, 0, 0),
    }
