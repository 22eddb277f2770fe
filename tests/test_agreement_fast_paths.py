"""The fast paths of the agreement store against the straightforward computation: the
recompute's reading, scoring, encoding and bulk writing, and the per-save hook's query
budget."""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection

from annotate.agreement import report as agreement_report
from annotate.agreement import stats as agreement_stats
from annotate.models import AgreementTotal, Annotation, Article, ArticleAgreement, Role
from annotate.services import agreement as service

from .factories import make_annotation, make_article, make_member, make_user

# Emoji (astral, and with a skin-tone modifier), a combining accent, Arabic, Han, a
# zero-width non-joiner inside a Persian word, and Windows line ends (stored as "\n").
TRICKY = (
    "Rebels 😀 shelled Aleppo on Monday,\r\nkilling 12 people; e\u0301l dijo: "
    "مرحبا بكم في حلب. 中文新闻 al-Assad's 👍🏽 spokesman می\u200cخواهم said.\r\n"
)
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]


def random_spans(rng: random.Random, length: int) -> list[tuple[int, int, str]]:
    """Spans that nest, cross, touch and repeat each other."""
    spans = set()
    for _ in range(rng.randint(0, 7)):
        start = rng.randrange(length - 1)
        spans.add((start, min(length, start + rng.randint(1, 25)), rng.choice(LABELS)))
    if spans and rng.random() < 0.5:
        start, end, _ = min(spans)
        spans.add((start, end, rng.choice(LABELS)))  # same place, another label
        spans.add((start + (end - start) // 2, end, rng.choice(LABELS)))  # nested
    return sorted(spans)


def stored_rows(project) -> dict:
    return {
        (row.article_id, row.unit): (row.editors, row.versions, row.stats, row.score, row.units)
        for row in ArticleAgreement.objects.filter(project=project)
    }


def reference_rows(project) -> dict:
    """Every article's statistics computed one article at a time from the ORM's objects,
    and scored with the report's own Krippendorff's alpha."""
    label_ids = list(project.labels.order_by("order", "key").values_list("id", flat=True))
    index = {pk: i for i, pk in enumerate(label_ids)}
    collapse = agreement_report.collapse_matrix(len(label_ids), list(range(len(label_ids))))
    rows = {}
    for article in Article.objects.filter(project=project):
        editors = [
            agreement_stats.EditorSpans(
                annotation.annotator_id,
                annotation.version,
                [span.start for span in annotation.current_spans()],
                [span.end for span in annotation.current_spans()],
                [index[span.label_id] for span in annotation.current_spans()],
            )
            for annotation in Annotation.objects.submitted().filter(article=article)
        ]
        if len(editors) < 2:
            continue
        one = agreement_stats.ArticleSpans(article.pk, article.text, editors)
        for unit, (stats,) in agreement_stats.compute([one], len(label_ids)).items():
            record = agreement_report.Record(stats["editors"], stats)
            score = agreement_report.article_alpha(record, collapse)
            rows[article.pk, unit] = (
                stats["editors"],
                stats["versions"],
                stats,
                score,
                stats["units"],
            )
    return rows


def totals(project) -> dict:
    return {
        (total.unit, total.group): (total.articles, total.editors, total.labels, total.stats)
        for total in AgreementTotal.objects.filter(project=project)
    }


@pytest.fixture
def labelled(project, editor, other_editor):
    """Articles of tricky text labelled by two to four editors, submitted and corrected in
    random order, some taken back to in progress."""
    everyone = [editor, other_editor] + [
        make_member(project, make_user(name), Role.EDITOR) for name in ("tess", "uma")
    ]
    rng = random.Random(11)
    articles = [
        make_article(project, TRICKY * rng.randint(1, 3), editors=rng.sample(everyone, 4))
        for _ in range(5)
    ]
    for _ in range(45):
        article = rng.choice(articles)
        who = rng.choice(everyone)
        make_annotation(
            article, who, random_spans(rng, len(article.text)), submit=rng.random() < 0.75
        )
    return articles


def test_the_incremental_rows_are_the_reference_figures(project, labelled):
    rows = stored_rows(project)
    assert len({article for article, _ in rows}) >= 3
    sizes = {len(editors) for editors, *_ in rows.values()}
    assert min(sizes) <= 3 and max(sizes) >= 4  # both ways of scoring
    assert rows == reference_rows(project)


def test_a_recompute_stores_the_same_rows_and_totals(project, labelled):
    rows, before = stored_rows(project), totals(project)
    ArticleAgreement.objects.all().delete()
    AgreementTotal.objects.all().delete()
    summary = service.recompute_project(project, batch=2)  # several batches
    assert stored_rows(project) == rows
    assert totals(project) == before
    assert summary.compared == len({article for article, _ in rows})


def test_a_recompute_removes_articles_no_longer_compared(project, editor, other_editor):
    kept = make_article(project, TRICKY, editors=[editor, other_editor])
    gone = make_article(project, TRICKY, editors=[editor, other_editor])
    for article in (kept, gone):
        make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
        make_annotation(article, other_editor, [(0, 9, "ACTOR")], submit=True)
    # A change the hook did not see, as a bulk change outside the app would be.
    Annotation.objects.filter(article=gone, annotator=other_editor).update(status="in_progress")
    summary = service.recompute_project(project)
    assert summary.removed == 1
    assert {article for article, _ in stored_rows(project)} == {kept.pk}
    assert {articles for articles, *_ in totals(project).values()} == {1}


def spans_of(editor: int, rng: random.Random) -> agreement_stats.EditorSpans:
    spans = random_spans(rng, len(TRICKY))
    return agreement_stats.EditorSpans(
        editor,
        1,
        [s for s, _, _ in spans],
        [e for _, e, _ in spans],
        [LABELS.index(label) for _, _, label in spans],
    )


def some_articles(rng: random.Random, count: int) -> agreement_stats.Batch:
    """Articles of two to five editors."""
    return agreement_stats.batch_of(
        agreement_stats.ArticleSpans(
            key, TRICKY, [spans_of(editor, rng) for editor in range(1, rng.randint(3, 6))]
        )
        for key in range(count)
    )


def test_the_encoded_statistics_are_what_the_json_field_writes():
    for chunk in agreement_stats.compute_batch(some_articles(random.Random(3), 6), 4):
        for unit, texts in service._encoded(chunk).items():
            assert texts == [json.dumps(stats) for stats in chunk.stats[unit]]


def test_scores_are_the_reports_article_alpha_to_the_last_bit():
    collapse = agreement_report.collapse_matrix(4, [0, 1, 2, 3])
    for chunk in agreement_stats.compute_batch(some_articles(random.Random(5), 40), 4):
        for unit, scores in chunk.scores.items():
            for stats, score in zip(chunk.stats[unit], scores, strict=True):
                record = agreement_report.Record(stats["editors"], stats)
                assert score == agreement_report.article_alpha(record, collapse)


class TestTheHook:
    """Queries the per-save hook costs (the PostgreSQL lock is one more)."""

    @pytest.fixture
    def lock(self) -> int:
        return 1 if connection.features.has_select_for_update else 0

    def test_nothing_to_compare_costs_one_query(
        self, project, editor, other_editor, lock, django_assert_num_queries
    ):
        article = make_article(project, TRICKY, editors=[editor, other_editor])
        annotation = make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
        with django_assert_num_queries(1 + lock):
            service.annotation_saved(annotation, previous_status="in_progress")
        assert not ArticleAgreement.objects.exists()

    def test_staying_in_progress_costs_no_query(
        self, project, editor, other_editor, django_assert_num_queries
    ):
        article = make_article(project, TRICKY, editors=[editor, other_editor])
        make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
        annotation = make_annotation(article, other_editor, [(0, 6, "ACTOR")])
        with django_assert_num_queries(0):
            service.annotation_saved(annotation, previous_status="in_progress")

    def test_work_in_progress_beside_compared_work_costs_one_query(
        self, project, editor, other_editor, lock, django_assert_num_queries
    ):
        third = make_member(project, make_user("tess"), Role.EDITOR)
        article = make_article(project, TRICKY, editors=[editor, other_editor, third])
        make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
        make_annotation(article, other_editor, [(0, 9, "ACTOR")], submit=True)
        annotation = make_annotation(article, third, [(0, 6, "ACTOR")])
        before = stored_rows(project)
        with django_assert_num_queries(1 + lock):
            service.annotation_saved(annotation)  # the previous status unknown
        assert stored_rows(project) == before

    def test_gold_costs_no_query(self, project, editor, django_assert_num_queries):
        article = make_article(project, TRICKY, editors=[editor])
        gold = Annotation.objects.create(article=article, kind=Annotation.Kind.GOLD)
        with django_assert_num_queries(0):
            service.annotation_saved(gold)

    def test_going_back_to_in_progress_takes_the_article_out(self, project, editor, other_editor):
        article = make_article(project, TRICKY, editors=[editor, other_editor])
        make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
        annotation = make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
        Annotation.objects.filter(pk=annotation.pk).update(status="in_progress")
        annotation.status = "in_progress"
        service.annotation_saved(annotation, previous_status="submitted")
        assert not ArticleAgreement.objects.exists()
        assert not AgreementTotal.objects.exists()
