"""The workflow's rules: when an article is ready for review, handing articles over
(reassignment, timeouts, editors who leave) without losing work, and flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from annotate.models import (
    AgreementUnit,
    Annotation,
    AnnotationVersion,
    ArticleAgreement,
    Assignment,
    Flag,
    Handover,
    Membership,
    Role,
)
from annotate.services import labelling, workflow
from annotate.services.exporting import export_records
from annotate.services.review import accept_agreed, review_queue, set_final
from annotate.services.workflow import WorkflowConflict, WorkflowError

from .factories import make_annotation, make_article, make_member, make_project, make_user

TEXT = "Rebels shelled Aleppo on Monday, the ministry said."
REBELS, ALEPPO = (0, 6), (15, 21)


@pytest.fixture
def trio(db):
    """A project with overlap 3 and three editors on one article, plus a reviewer and a
    manager."""
    project = make_project("trio", overlap=3)
    people = {
        name: make_member(project, make_user(name), Role.EDITOR) for name in ("ann", "bob", "cy")
    }
    people["rita"] = make_member(project, make_user("rita"), Role.REVIEWER)
    people["manon"] = make_member(project, make_user("manon"), Role.MANAGER)
    article = make_article(
        project, TEXT, editors=[people["ann"], people["bob"], people["cy"]], title="Aleppo"
    )
    return project, article, people


def queue_ids(project, **filters) -> list[int]:
    return [row.article.pk for row in review_queue(project, **filters)]


def age(article, editor, hours: int) -> None:
    """Make the editor's assignment of the article `hours` old."""
    then = timezone.now() - timedelta(hours=hours)
    Assignment.objects.filter(article=article, editor=editor).update(created_at=then)


# --- Ready for review ------------------------------------------------------------------------


def test_by_default_an_article_waits_for_overlap_submissions(trio):
    project, article, p = trio
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, p["bob"], [(*REBELS, "ACTOR")], submit=True)
    assert queue_ids(project) == []
    assert queue_ids(project, status="waiting") == [article.pk]
    make_annotation(article, p["cy"], [(*REBELS, "ACTOR")], submit=True)
    assert queue_ids(project) == [article.pk]
    assert queue_ids(project, status="waiting") == []


def test_the_project_threshold_makes_an_article_reviewable_sooner(trio):
    project, article, p = trio
    project.reviewable_after = 2
    project.save()
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    assert queue_ids(project) == []
    make_annotation(article, p["bob"], [(*REBELS, "ACTOR")], submit=True)
    assert queue_ids(project) == [article.pk]


def test_an_article_whose_assigned_editors_all_submitted_is_ready_below_the_threshold(db):
    project = make_project(overlap=2)
    only = make_member(project, make_user(), Role.EDITOR)
    article = make_article(project, TEXT, editors=[only])
    make_annotation(article, only, [(*REBELS, "ACTOR")], submit=True)
    assert queue_ids(project) == [article.pk]


def test_an_editor_who_never_submits_does_not_keep_the_article_from_the_gold(trio):
    project, article, p = trio
    project.reviewable_after = 2
    project.save()
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")], submit=True)
    make_annotation(article, p["bob"], [(*REBELS, "ACTOR")], submit=True)
    # cy never opens the article.
    [row] = review_queue(project)
    assert [m.username for m in row.missing] == ["cy"]
    result, _ = accept_agreed(article, p["rita"], role=Role.REVIEWER, min_editors=2, base_version=0)
    set_final(article, p["rita"], role=Role.REVIEWER, final=True, base_version=1)
    [record] = export_records(project, source="gold", final_only=True)
    assert [(s["start"], s["end"], s["label"]) for s in record["spans"]] == [(*REBELS, "ACTOR")]
    assert record["annotators"] == ["ann", "bob"]


def test_the_queue_names_who_is_missing_and_since_when(trio):
    project, article, p = trio
    project.reviewable_after = 2
    project.save()
    age(article, p["cy"], 30)
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, p["bob"], [(*REBELS, "ACTOR")])  # in progress
    [row] = review_queue(project, status="waiting")
    assert [(m.username, m.status) for m in row.missing] == [
        ("cy", "not started"),
        ("bob", "in progress"),
    ]
    assert row.waiting_since == row.missing[0].since
    assert timezone.now() - row.waiting_since > timedelta(hours=29)
    assert row.status == "waiting"


def test_an_article_reviewable_after_one_submission_has_no_agreement_until_two(trio):
    project, article, p = trio
    project.reviewable_after = 1
    project.save()
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    [row] = review_queue(project)
    assert row.score is None
    assert not ArticleAgreement.objects.filter(article=article).exists()
    make_annotation(article, p["bob"], [(*REBELS, "ACTOR")], submit=True)
    [row] = review_queue(project)
    stored = ArticleAgreement.objects.get(article=article, unit=AgreementUnit.TOKEN)
    assert row.score == stored.score


# --- Reassignment ----------------------------------------------------------------------------


def test_a_reassigned_editors_work_is_still_in_the_history(trio):
    project, article, p = trio
    work = make_annotation(article, p["cy"], [(*ALEPPO, "LOCATION")])
    dora = make_member(project, make_user("dora"), Role.EDITOR)
    handover = workflow.reassign(article, from_username="cy", to_username="dora", by=p["manon"])
    assert handover.annotation == work and handover.version == 1
    assert handover.reason == Handover.Reason.REASSIGNED and handover.by == p["manon"]
    assert not Assignment.objects.filter(article=article, editor=p["cy"]).exists()
    assert Assignment.objects.filter(article=article, editor=dora).exists()
    # Nothing of cy's work is gone: the annotation, its version and its spans.
    work.refresh_from_db()
    assert work.version == 1
    assert AnnotationVersion.objects.filter(annotation=work).count() == 1
    assert {(s.start, s.end, s.label.key) for s in work.current_spans()} == {(*ALEPPO, "LOCATION")}
    # Given back, cy finds it as they left it.
    workflow.reassign(article, from_username="dora", to_username="cy", by=p["manon"])
    assert labelling.queue(p["cy"], project, "open").get().ann_version == 1


def test_reassignment_refuses_what_would_lose_or_duplicate_work(trio):
    project, article, p = trio
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    dora = make_member(project, make_user("dora"), Role.EDITOR)
    with pytest.raises(WorkflowConflict, match="already submitted"):
        workflow.reassign(article, from_username="ann", to_username="dora", by=p["manon"])
    with pytest.raises(WorkflowConflict, match="already has"):
        workflow.reassign(article, from_username="cy", to_username="bob", by=p["manon"])
    with pytest.raises(WorkflowError, match="not an active editor"):
        workflow.reassign(article, from_username="cy", to_username="rita", by=p["manon"])
    with pytest.raises(WorkflowError, match="not an editor of this article"):
        workflow.reassign(article, from_username="dora", to_username="cy", by=p["manon"])
    assert Handover.objects.count() == 0
    assert not Assignment.objects.filter(editor=dora).exists()


def test_a_closed_article_is_not_reassigned(trio):
    project, article, p = trio
    project.reviewable_after = 1
    project.save()
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    set_final(article, p["rita"], role=Role.REVIEWER, final=True, base_version=0)
    make_member(project, make_user("dora"), Role.EDITOR)
    with pytest.raises(WorkflowConflict, match="final"):
        workflow.reassign(article, from_username="cy", to_username="dora", by=p["manon"])


# --- Timeouts --------------------------------------------------------------------------------


@pytest.fixture
def timed(db):
    """Overlap 1, a 24-hour timeout, three editors; ann has the one article."""
    project = make_project("timed", overlap=1, assignment_timeout_hours=24)
    people = {n: make_member(project, make_user(n), Role.EDITOR) for n in ("ann", "bob", "cy")}
    article = make_article(project, TEXT, editors=[people["ann"]])
    return project, article, people


def test_an_untouched_assignment_goes_to_another_editor_after_the_timeout(timed):
    project, article, p = timed
    age(article, p["ann"], 23)
    assert workflow.release_stale_assignments(project) == []
    [handover] = workflow.release_stale_assignments(project, timezone.now() + timedelta(hours=2))
    assert handover.reason == Handover.Reason.TIMEOUT and handover.from_editor == p["ann"]
    assert handover.to_editor in (p["bob"], p["cy"]) and handover.annotation is None
    assert list(article.assignments.values_list("editor", flat=True)) == [handover.to_editor.pk]


def test_a_started_assignment_is_never_timed_out(timed):
    project, article, p = timed
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")])
    age(article, p["ann"], 100)
    assert workflow.release_stale_assignments(project) == []
    assert article.assignments.get().editor == p["ann"]


def test_no_timeout_means_assignments_stay(timed):
    project, article, p = timed
    project.assignment_timeout_hours = None
    project.save()
    age(article, p["ann"], 10_000)
    assert workflow.release_stale_assignments(project) == []


def test_a_timed_out_article_does_not_come_back_to_an_editor_who_let_it_go(timed):
    project, article, p = timed
    age(article, p["ann"], 25)
    [first] = workflow.release_stale_assignments(project)
    age(article, first.to_editor, 25)
    [second] = workflow.release_stale_assignments(project)
    assert second.to_editor not in (p["ann"], first.to_editor)
    age(article, second.to_editor, 25)
    # Everyone let it go once: it stays with the last one rather than going round again.
    assert workflow.release_stale_assignments(project) == []


def test_asking_for_the_next_article_applies_the_timeout(timed):
    project, article, p = timed
    age(article, p["ann"], 25)
    assert labelling.next_article_for(p["ann"], project) is None
    taker = article.assignments.get().editor
    assert labelling.next_article_for(taker, project) == article


def test_the_command_releases_stale_assignments_of_every_project(timed, capsys):
    project, article, p = timed
    age(article, p["ann"], 25)
    call_command("release_assignments")
    assert "timed: 1 article handed on" in capsys.readouterr().out
    assert article.assignments.get().editor != p["ann"]


# --- Members who leave -----------------------------------------------------------------------


def test_removing_an_editor_hands_their_unsubmitted_articles_to_others(trio):
    project, article, p = trio
    done = make_article(project, TEXT, editors=[p["ann"], p["bob"], p["cy"]])
    make_annotation(done, p["cy"], [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, p["cy"], [(*ALEPPO, "LOCATION")])
    dora = make_member(project, make_user("dora"), Role.EDITOR)
    handovers = workflow.remove_member(project, p["cy"], by=p["manon"])
    assert [(h.article, h.to_editor, h.reason, h.version) for h in handovers] == [
        (article, dora, Handover.Reason.LEFT, 1)
    ]
    assert not Membership.objects.filter(project=project, user=p["cy"]).exists()
    # The submitted article keeps cy's work as one of its submissions.
    assert done.assignments.filter(editor=p["cy"]).exists()
    assert Annotation.objects.filter(article=article, annotator=p["cy"], version=1).exists()


def test_an_editor_who_leaves_with_nobody_to_take_over_frees_the_article(trio):
    project, article, p = trio
    [handover] = workflow.remove_member(project, p["cy"])
    assert handover.to_editor is None
    assert sorted(article.assignments.values_list("editor__username", flat=True)) == [
        "ann",
        "bob",
    ]


# --- Flags -----------------------------------------------------------------------------------


def test_a_flagged_article_leaves_the_editors_to_do_list_until_dismissed(trio):
    project, article, p = trio
    other = make_article(project, TEXT, editors=[p["ann"]])
    flag = workflow.raise_flag(article, p["ann"], reason="broken_text", note="Cut in half.")
    assert list(labelling.queue(p["ann"], project, "open").values_list("article", flat=True)) == [
        other.pk
    ]
    assert labelling.next_article_for(p["ann"], project) == other
    row = labelling.queue(p["ann"], project).get(article=article)
    assert labelling.queue_status(row) == labelling.QueueStatus.FLAGGED
    workflow.resolve_flag(flag.pk, article, p["rita"], verdict="dismissed", note="Text is fine.")
    assert article.pk in labelling.queue(p["ann"], project, "open").values_list(
        "article", flat=True
    )


def test_an_upheld_flag_keeps_the_article_out(trio):
    project, article, p = trio
    flag = workflow.raise_flag(article, p["ann"], reason="duplicate")
    flag = workflow.resolve_flag(flag.pk, article, p["rita"], verdict="upheld")
    assert flag.resolved_by == p["rita"] and flag.resolved_at is not None
    assert not labelling.queue(p["ann"], project, "open").exists()
    assert labelling.progress_by_project(p["ann"])[project.pk].flagged == 1


def test_flags_are_refused_when_they_make_no_sense(trio):
    project, article, p = trio
    with pytest.raises(WorkflowError, match="reason"):
        workflow.raise_flag(article, p["ann"], reason="boring")
    with pytest.raises(WorkflowError, match="Only editors of this article"):
        workflow.raise_flag(article, p["rita"], reason="duplicate")
    with pytest.raises(WorkflowError, match="longer than"):
        workflow.raise_flag(article, p["ann"], reason="duplicate", note="x" * 2001)
    flag = workflow.raise_flag(article, p["ann"], reason="duplicate")
    with pytest.raises(WorkflowConflict, match="already flagged"):
        workflow.raise_flag(article, p["ann"], reason="not_relevant")
    with pytest.raises(WorkflowError, match="upheld or dismissed"):
        workflow.resolve_flag(flag.pk, article, p["rita"], verdict="open")
    workflow.resolve_flag(flag.pk, article, p["rita"], verdict="dismissed")
    with pytest.raises(WorkflowConflict, match="already decided"):
        workflow.resolve_flag(flag.pk, article, p["rita"], verdict="upheld")
    assert Flag.objects.count() == 1


def test_the_queue_lists_open_flags(trio):
    project, article, p = trio
    workflow.raise_flag(article, p["ann"], reason="needs_discussion", note="Which actor?")
    [row] = review_queue(project, status="flagged")
    assert [(f.reason, f.note) for f in row.flags] == [("needs_discussion", "Which actor?")]


def test_exports_can_leave_flagged_articles_out(trio):
    project, article, p = trio
    project.reviewable_after = 1
    project.save()
    clean = make_article(project, TEXT, editors=[p["ann"]])
    for a in (article, clean):
        make_annotation(a, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    flag = workflow.raise_flag(article, p["bob"], reason="duplicate")

    def exported(**options):
        return [r["article"] for r in export_records(project, source="editors", **options)]

    assert exported() == [article.pk, clean.pk]
    assert exported(exclude_flagged=True) == [clean.pk]
    workflow.resolve_flag(flag.pk, article, p["rita"], verdict="dismissed")
    assert exported(exclude_flagged=True) == [article.pk, clean.pk]


# --- The editor's place in their queue -------------------------------------------------------


def test_the_article_page_counts_the_articles_still_to_do(trio):
    project, article, p = trio
    second = make_article(project, TEXT, editors=[p["ann"]])
    third = make_article(project, TEXT, editors=[p["ann"]])
    make_annotation(article, p["ann"], [(*REBELS, "ACTOR")], submit=True)
    assert labelling.queue_position(p["ann"], second) == (1, 2)
    assert labelling.queue_position(p["ann"], third) == (2, 2)
    assert labelling.queue_position(p["ann"], article) == (0, 2)
