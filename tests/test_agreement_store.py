"""Stored agreement statistics: kept up to date on submit, equal to a full recompute."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from annotate.models import AgreementTotal, Annotation, ArticleAgreement, Label, Role
from annotate.services import agreement as service
from annotate.services.annotations import SpanInput, annotation_for, gold_for, save_annotation

from .factories import make_annotation, make_article, make_member, make_user

TEXT = "Rebels shelled Aleppo on Monday, killing 12 people, officials in Damascus said."


def snapshot(project) -> tuple[dict, dict]:
    rows = {
        (row.article_id, row.unit): (row.editors, row.versions, row.stats, row.score, row.units)
        for row in ArticleAgreement.objects.filter(project=project)
    }
    totals = {
        (total.unit, total.group): (total.articles, total.stats)
        for total in AgreementTotal.objects.filter(project=project)
    }
    return rows, totals


def reopen(annotation: Annotation, editor) -> None:
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=[SpanInput(s.start, s.end, s.label.key) for s in annotation.current_spans()],
        status=Annotation.Status.IN_PROGRESS,
    )


def test_nothing_is_stored_until_two_editors_submitted(project, editor, other_editor):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR")])
    assert not ArticleAgreement.objects.exists()


def test_the_second_submit_stores_both_units(project, editor, other_editor):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    rows = {row.unit: row for row in ArticleAgreement.objects.filter(article=article)}
    assert set(rows) == {"token", "char"}
    assert rows["char"].units == len(TEXT)
    assert rows["token"].editors == sorted([editor.pk, other_editor.pk])
    assert rows["token"].versions == [1, 1]
    assert rows["token"].score is not None and rows["token"].score < 1
    total = AgreementTotal.objects.get(project=project, unit="token")
    assert total.articles == 1


def test_a_correction_of_a_submitted_annotation_refreshes_the_article(
    project, editor, other_editor
):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")])
    row = ArticleAgreement.objects.get(article=article, unit="token")
    assert row.versions == ([1, 2] if editor.pk < other_editor.pk else [2, 1])
    assert row.score == pytest.approx(1.0)


def test_going_back_to_in_progress_takes_the_article_out(project, editor, other_editor):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    annotation = make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    reopen(annotation, other_editor)
    assert not ArticleAgreement.objects.exists()
    assert not AgreementTotal.objects.exists()


def test_gold_changes_do_not_touch_agreement(project, editor, other_editor, reviewer):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    before = snapshot(project)
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 6, "ACTOR")],
    )
    assert snapshot(project) == before


def test_deleting_an_article_takes_it_out_of_the_totals(project, editor, other_editor):
    kept = make_article(project, TEXT, editors=[editor, other_editor])
    gone = make_article(project, TEXT, editors=[editor, other_editor])
    for article in (kept, gone):
        make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
        make_annotation(article, other_editor, [(0, 7, "ACTOR")], submit=True)
    gone.delete()
    after_delete = snapshot(project)
    service.recompute_project(project)
    assert snapshot(project) == after_delete
    assert AgreementTotal.objects.get(project=project, unit="char").articles == 1


def test_incremental_statistics_equal_a_full_recompute(project, editor, other_editor):
    third = make_member(project, make_user("tess"), Role.EDITOR)
    fourth = make_member(project, make_user("uma"), Role.EDITOR)
    editors = [editor, other_editor, third, fourth]
    rng = random.Random(7)
    labels = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
    articles = [
        make_article(project, TEXT, editors=rng.sample(editors, rng.randint(2, 4)))
        for _ in range(6)
    ]
    for _ in range(40):
        article = rng.choice(articles)
        who = rng.choice([a.editor for a in article.assignments.all()])
        spans = set()
        for _ in range(rng.randint(0, 5)):
            start = rng.randrange(len(TEXT) - 1)
            spans.add((start, min(len(TEXT), start + rng.randint(1, 12)), rng.choice(labels)))
        if (
            rng.random() < 0.15
            and Annotation.objects.filter(
                article=article, annotator=who, status="submitted"
            ).exists()
        ):
            reopen(annotation_for(article, who), who)
        else:
            make_annotation(article, who, sorted(spans), submit=rng.random() < 0.8)
    incremental = snapshot(project)
    assert incremental[0], "the random edits should have produced compared articles"
    report_before = service.project_report(project)
    service.recompute_project(project)
    assert snapshot(project) == incremental
    assert service.project_report(project) == report_before


def test_recompute_command_rebuilds_and_reports(project, editor, other_editor, capsys):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    before = snapshot(project)
    ArticleAgreement.objects.all().delete()
    AgreementTotal.objects.all().delete()
    call_command("recompute_agreement", "--project", project.slug)
    assert snapshot(project) == before
    assert "1 of 1 articles compared" in capsys.readouterr().out


def test_recompute_command_refuses_an_unknown_project(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No project"):
        call_command("recompute_agreement", "--project", "nope")


def test_a_label_added_later_keeps_the_report_consistent(project, editor, other_editor):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    Label.objects.create(project=project, key="WEAPON", name="Weapon", order=0)
    stale = service.project_report(project)
    service.recompute_project(project)
    fresh = service.project_report(project)
    stale.pop("computed_at"), fresh.pop("computed_at")
    assert stale == fresh
    assert fresh["labels"]["WEAPON"]["f1_exact"] is None


class TestReportFilters:
    @pytest.fixture
    def three(self, project, editor, other_editor):
        third = make_member(project, make_user("tess"), Role.EDITOR)
        one = make_article(project, TEXT, editors=[editor, other_editor, third])
        two = make_article(project, TEXT, editors=[editor, other_editor])
        for article in (one, two):
            make_annotation(article, editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
            make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
        make_annotation(one, third, [(0, 6, "SOURCE")], submit=True)
        return one, two, third

    def test_fleiss_kappa_is_undefined_when_editor_counts_differ(self, project, three):
        report = service.project_report(project)
        assert report["articles_compared"] == 2
        assert report["overall"]["fleiss_kappa"] is None
        assert report["overall"]["krippendorff_alpha"] is not None

    def test_an_editor_filter_keeps_articles_with_two_of_them(self, project, three, editor):
        one, _, third = three
        report = service.project_report(project, editors=[editor.username, third.username])
        assert report["articles_compared"] == 1
        assert [a["id"] for a in report["articles"]] == [one.pk]
        assert {(p["a"], p["b"]) for p in report["pairs"]} == {("edith", "tess")}
        assert report["overall"]["fleiss_kappa"] is not None

    def test_a_label_filter_reports_only_those_labels(self, project, three):
        report = service.project_report(project, labels=["ACTOR"])
        assert list(report["labels"]) == ["ACTOR"]
        assert report["overall"]["f1_exact"] == report["labels"]["ACTOR"]["f1_exact"]

    def test_an_article_set_pools_only_those_articles(self, project, three):
        _, two, _ = three
        report = service.project_report(project, article_ids=[two.pk])
        assert report["articles_compared"] == 1
        assert report["versions"] == {str(two.pk): {"edith": 1, "otto": 1}}

    def test_unknown_labels_and_editors_are_refused(self, project, three):
        with pytest.raises(service.AgreementQueryError, match="Unknown label"):
            service.project_report(project, labels=["NOPE"])
        with pytest.raises(service.AgreementQueryError, match="No compared work"):
            service.project_report(project, editors=["nobody"])

    def test_articles_are_listed_worst_first(self, project, three):
        report = service.project_report(project)
        scores = [a["score"] for a in report["articles"]]
        assert scores == sorted(scores)
        filtered = service.project_report(project, labels=["ACTOR", "LOCATION"])
        scores = [a["score"] for a in filtered["articles"] if a["score"] is not None]
        assert scores == sorted(scores)


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_keep_totals_equal_to_a_recompute(project, editor, other_editor):
    """Editors submitting different articles of the same editor groups at once: every total
    is locked before it is read, so no contribution is lost."""
    import threading

    from django.db import connections

    third = make_member(project, make_user("tess"), Role.EDITOR)
    articles = [
        make_article(project, TEXT, editors=[editor, other_editor, third]) for _ in range(8)
    ]
    for article in articles:
        make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    barrier = threading.Barrier(len(articles))
    errors: list[Exception] = []

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            who = other_editor if i % 2 else third
            make_annotation(articles[i], who, [(0, 6 + i % 3, "ACTOR")], submit=True)
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(articles))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    incremental = snapshot(project)
    assert sum(a for (unit, _), (a, _) in incremental[1].items() if unit == "token") == 8
    service.recompute_project(project)
    assert snapshot(project) == incremental
