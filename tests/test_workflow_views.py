"""The workflow through the test client and the API: flags, reassigning, the queue of
articles waiting for editors, members who leave, exports without flagged articles, and the
manager's overview."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone

from annotate.models import Annotation, Assignment, Flag, Handover, Role
from annotate.services import workflow

from .api_support import api, assert_error, lines
from .factories import make_annotation, make_article, make_member, make_user

TEXT = "Rebels shelled Aleppo on Monday, the ministry said."
REBELS, ALEPPO = (0, 6), (15, 21)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, title="Shelling in Aleppo", editors=[editor, other_editor])


@pytest.fixture
def third(project):
    return make_member(project, make_user("theo"), Role.EDITOR)


def queue(client, project, **query) -> str:
    response = client.get(reverse("review-queue", args=[project.slug]), query)
    assert response.status_code == 200
    return response.content.decode()


# --- Flags -----------------------------------------------------------------------------------


def test_an_editor_flags_an_article_and_moves_on(client_for, project, editor, article):
    following = make_article(project, TEXT, editors=[editor])
    client = client_for(editor)
    page = client.get(reverse("article", args=[article.pk])).content.decode()
    assert f'action="/articles/{article.pk}/flag/"' in page
    response = client.post(
        reverse("article-flag", args=[article.pk]),
        {"reason": "duplicate", "note": "Same as yesterday's."},
    )
    assert response.status_code == 303
    assert response["Location"] == f"/projects/{project.slug}/next/?after={article.pk}"
    assert client.get(response["Location"])["Location"] == f"/articles/{following.pk}/"
    flag = Flag.objects.get()
    assert (flag.raised_by, flag.reason, flag.note) == (editor, "duplicate", "Same as yesterday's.")
    again = client.get(reverse("article", args=[article.pk])).content.decode()
    assert "You flagged this article" in again and "Same as yesterday" in again


def test_a_refused_flag_says_why(client_for, editor, article):
    response = client_for(editor).post(reverse("article-flag", args=[article.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "Choose a reason" in response.content.decode()
    assert not Flag.objects.exists()


def test_only_the_articles_editors_can_flag_it(client_for, project, third, reviewer, article):
    url = reverse("article-flag", args=[article.pk])
    assert client_for(third).post(url, {"reason": "duplicate"}).status_code == 404
    assert client_for(reviewer).post(url, {"reason": "duplicate"}).status_code == 404
    assert not Flag.objects.exists()


def test_editors_never_see_each_others_flags(client_for, editor, other_editor, article):
    workflow.raise_flag(article, editor, reason="needs_discussion", note="Secret doubt")
    page = client_for(other_editor).get(reverse("article", args=[article.pk])).content.decode()
    assert "Secret doubt" not in page and "You flagged" not in page


def test_reviewers_see_flags_in_the_queue_and_decide_them(
    client_for, project, editor, reviewer, article
):
    workflow.raise_flag(article, editor, reason="broken_text", note="Half the text is missing")
    client = client_for(reviewer)
    page = queue(client, project, status="flagged")
    assert "Broken text" in page and "Half the text is missing" in page
    flag = Flag.objects.get()
    back = f"/projects/{project.slug}/review/?status=flagged"
    response = client.post(
        reverse("flag-resolve", args=[article.pk]),
        {"flag": flag.pk, "verdict": "dismissed", "note": "It is complete.", "next": back},
    )
    assert response.status_code == 303 and response["Location"] == back
    flag.refresh_from_db()
    assert (flag.verdict, flag.resolved_by, flag.resolution_note) == (
        "dismissed",
        reviewer,
        "It is complete.",
    )
    assert "Half the text is missing" not in queue(client, project, status="flagged")
    again = client.post(
        reverse("flag-resolve", args=[article.pk]), {"flag": flag.pk, "verdict": "upheld"}
    )
    assert again.status_code == 409 and "already decided" in again.content.decode()


def test_resolving_a_flag_never_redirects_off_site(client_for, project, editor, reviewer, article):
    flag = workflow.raise_flag(article, editor, reason="duplicate")
    response = client_for(reviewer).post(
        reverse("flag-resolve", args=[article.pk]),
        {"flag": flag.pk, "verdict": "upheld", "next": "https://evil.example/"},
    )
    assert response["Location"] == f"/projects/{project.slug}/review/?status=flagged"


def test_a_flag_of_another_article_cannot_be_resolved_here(
    client_for, project, editor, reviewer, article
):
    other = make_article(project, TEXT, editors=[editor])
    flag = workflow.raise_flag(other, editor, reason="duplicate")
    response = client_for(reviewer).post(
        reverse("flag-resolve", args=[article.pk]), {"flag": flag.pk, "verdict": "upheld"}
    )
    assert response.status_code == 400
    assert Flag.objects.get().verdict == "open"


# --- Waiting and reassigning -----------------------------------------------------------------


def test_the_queue_shows_who_is_missing_and_managers_reassign(
    client_for, project, editor, other_editor, third, manager, article
):
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(*ALEPPO, "LOCATION")])
    client = client_for(manager)
    page = queue(client, project, status="waiting")
    assert "Waiting for editors" in page
    missing = re.search(r'<td class="missing">(.*?)</td>', page, re.S).group(1)
    assert "otto" in missing and "(in progress) since" in missing and "edith" not in missing
    assert '<option value="theo">theo</option>' in missing
    assert '<option value="edith">' not in missing  # already on the article
    back = f"/projects/{project.slug}/review/?status=waiting"
    response = client.post(
        reverse("article-reassign", args=[article.pk]), {"from": "otto", "to": "theo", "next": back}
    )
    assert response.status_code == 303 and response["Location"] == back
    assert set(article.assignments.values_list("editor__username", flat=True)) == {"edith", "theo"}
    assert "(version 1) stays in the history" in queue(client, project, status="waiting")


def test_reviewers_see_who_is_missing_but_cannot_reassign(
    client_for, project, editor, other_editor, reviewer, article
):
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    client = client_for(reviewer)
    page = queue(client, project, status="waiting")
    assert "otto" in page and "Reassign" not in page
    response = client.post(
        reverse("article-reassign", args=[article.pk]), {"from": "otto", "to": "edith"}
    )
    assert response.status_code == 403


def test_a_refused_reassignment_is_a_conflict_page(client_for, project, editor, manager, article):
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    response = client_for(manager).post(
        reverse("article-reassign", args=[article.pk]), {"from": "edith", "to": "otto"}
    )
    assert response.status_code == 409
    assert "already submitted" in response.content.decode()


def test_a_reassigned_editors_work_stays_readable_in_the_history(
    client_for, project, editor, other_editor, third, manager, reviewer, article
):
    make_annotation(article, other_editor, [(*ALEPPO, "LOCATION")])
    client_for(manager).post(
        reverse("article-reassign", args=[article.pk]), {"from": "otto", "to": "theo"}
    )
    # otto no longer labels it...
    assert client_for(other_editor).get(reverse("article", args=[article.pk])).status_code == 404
    # ...but a reviewer still reads his version in the history.
    history = reverse("annotation-history", args=[article.pk]) + "?annotator=otto"
    page = client_for(reviewer).get(history)
    assert page.status_code == 200
    assert "Aleppo" in page.content.decode()
    handover = Handover.objects.get()
    assert handover.annotation.annotator == other_editor and handover.version == 1


# --- Members who leave (API) -----------------------------------------------------------------


def test_removing_an_editor_through_the_api_hands_on_their_articles(
    project, editor, other_editor, third, manager, article
):
    make_annotation(article, editor, [(*REBELS, "ACTOR")])
    response = api(manager).delete(f"/api/projects/{project.slug}/members/edith/")
    assert response.status_code == 204
    assert set(article.assignments.values_list("editor__username", flat=True)) == {"otto", "theo"}
    handover = Handover.objects.get()
    assert (handover.reason, handover.by, handover.version) == ("left", manager, 1)
    assert Annotation.objects.get(article=article, annotator=editor).version == 1


def test_an_editor_made_reviewer_hands_on_their_unsubmitted_articles(
    project, editor, other_editor, third, manager, article
):
    response = api(manager).post(
        f"/api/projects/{project.slug}/members/",
        {"username": "edith", "role": "reviewer"},
        format="json",
    )
    assert response.status_code == 200
    assert not Assignment.objects.filter(editor=editor).exists()
    assert Handover.objects.get().to_editor == third


def test_project_settings_for_the_workflow_through_the_api(project, manager):
    client = api(manager)
    response = client.patch(
        f"/api/projects/{project.slug}/",
        {"reviewable_after": 1, "assignment_timeout_hours": 48, "anonymous_review": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["reviewable_after"], data["assignment_timeout_hours"]) == (1, 48)
    assert data["anonymous_review"] is True
    assert_error(
        client.patch(f"/api/projects/{project.slug}/", {"reviewable_after": 0}, format="json"),
        400,
    )
    response = client.patch(
        f"/api/projects/{project.slug}/", {"reviewable_after": None}, format="json"
    )
    assert response.json()["reviewable_after"] is None


# --- Exports ---------------------------------------------------------------------------------


def test_the_export_api_leaves_flagged_articles_out_on_request(
    project, editor, other_editor, reviewer, article
):
    clean = make_article(project, TEXT, editors=[editor])
    for a in (article, clean):
        make_annotation(a, editor, [(*REBELS, "ACTOR")], submit=True)
    workflow.raise_flag(article, other_editor, reason="not_relevant")
    url = f"/api/projects/{project.slug}/export/?source=editors"
    everything = api(reviewer).get(url)
    assert [r["article"] for r in lines(everything)] == [article.pk, clean.pk]
    assert everything["X-Export-Records"] == "2"
    without = api(reviewer).get(url + "&exclude_flagged=true")
    assert [r["article"] for r in lines(without)] == [clean.pk]
    assert without["X-Export-Records"] == "1"
    assert_error(api(reviewer).get(url + "&exclude_flagged=maybe"), 400)


def test_the_schema_documents_the_flagged_exclusion(db):
    schema = yaml.safe_load(api().get("/api/schema/").content)
    parameters = schema["paths"]["/api/projects/{slug}/export/"]["get"]["parameters"]
    [flagged] = [p for p in parameters if p["name"] == "exclude_flagged"]
    assert flagged["schema"] == {"type": "boolean", "default": False}


# --- The overview ----------------------------------------------------------------------------


def test_the_overview_shows_progress_waiting_flags_and_a_chart(
    client_for, project, editor, other_editor, manager, article
):
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    workflow.raise_flag(article, other_editor, reason="duplicate", note="Seen before")
    response = client_for(manager).get(reverse("project-overview", args=[project.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<svg class="chart"' in page and "style=" not in page
    row = re.search(r"<th scope=\"row\">edith</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r'<td class="n">([^<]*)</td>', row)[:3] == ["1", "1", "0"]
    assert "Seen before" in page
    assert "otto" in re.search(r"<h2>Waiting for editors</h2>(.*?)<h2>", page, re.S).group(1)
    today = timezone.now().strftime("%a %d %b")
    assert f"{today}: 1 submission" in page


def test_only_managers_see_the_overview(client_for, project, reviewer, editor):
    url = reverse("project-overview", args=[project.slug])
    assert client_for(reviewer).get(url).status_code == 403
    assert client_for(editor).get(url).status_code == 403


def test_the_overview_hands_on_timed_out_articles_first(
    client_for, project, editor, other_editor, third, manager, article
):
    project.assignment_timeout_hours = 1
    project.save()
    Assignment.objects.filter(editor=other_editor).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    page = client_for(manager).get(reverse("project-overview", args=[project.slug]))
    assert "not started in time" in page.content.decode()
    assert set(article.assignments.values_list("editor__username", flat=True)) == {
        "edith",
        "theo",
    }


# --- Adjudication: anonymous editors, who marked a gold span ----------------------------------


def _adjudicated(article, editor, other_editor, reviewer):
    from annotate.services.review import accept_agreed

    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")], submit=True)
    accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0)


def test_the_gold_lists_every_editor_who_marked_a_span(
    client_for, editor, other_editor, reviewer, article
):
    _adjudicated(article, editor, other_editor, reviewer)
    page = client_for(reviewer).get(reverse("adjudicate", args=[article.pk])).content.decode()
    gold = re.search(r'<table class="gold-table">(.*?)</table>', page, re.S).group(1)
    assert "<td>edith, otto</td>" in gold
    assert 'title="ACTOR: marked by edith, otto"' in page


def test_anonymous_review_names_editors_a_and_b_everywhere_on_the_page(
    client_for, project, editor, other_editor, reviewer, article
):
    project.anonymous_review = True
    project.save()
    _adjudicated(article, editor, other_editor, reviewer)
    client = client_for(reviewer)
    page = client.get(reverse("adjudicate", args=[article.pk])).content.decode()
    assert "edith" not in page and "otto" not in page
    assert "Editor A" in page and "Editor B" in page
    assert "<td>Editor A, Editor B</td>" in page
    layer = client.get(reverse("adjudicate", args=[article.pk]), {"layer": "Editor B"}, **HX)
    assert 'aria-current="true">Editor B</a>' in layer.content.decode()
    # Writes still work on what the page shows.
    location = (
        article.annotations.get(annotator=other_editor).current_spans().get(label__key="LOCATION")
    )
    response = client.post(
        reverse("review-accept", args=[article.pk]),
        {"span": location.pk, "base_version": 1},
        **HX,
    )
    assert response.status_code == 200 and "edith" not in response.content.decode()


# --- Gold state and editors against the gold ------------------------------------------------


def test_a_final_gold_reads_final_in_its_history_and_the_admin(
    client_for, admin_user, editor, other_editor, reviewer, article
):
    from annotate.services.review import set_final

    _adjudicated(article, editor, other_editor, reviewer)
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1)
    history = client_for(reviewer).get(reverse("annotation-history", args=[article.pk]) + "?gold=1")
    text = history.content.decode()
    assert "Now at version 2 · final." in text and "in progress" not in text
    admin = client_for(admin_user).get("/admin/annotate/annotation/?kind__exact=gold")
    row = re.search(r'<td class="field-state">([^<]*)</td>', admin.content.decode()).group(1)
    assert row == "Final"


def test_the_agreement_page_scores_each_editor_against_the_final_gold(
    client_for, editor, other_editor, reviewer, article
):
    from annotate.services.review import set_final

    _adjudicated(article, editor, other_editor, reviewer)
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1)
    page = client_for(reviewer).get(reverse("agreement", args=[article.project.slug]))
    table = re.search(
        r'<table class="numbers gold-scores">(.*?)</table>', page.content.decode(), re.S
    )
    rows = [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]
    ]
    # The gold holds REBELS/ACTOR only: otto's LOCATION is not in it.
    assert rows[3][:7] == ["otto", "LOCATION", "1", "1", "0", "0", "0.000"]
    assert rows[4][:2] == ["otto", "All labels"] and rows[4][-3:] == ["0.500", "1.000", "0.667"]
    assert rows[0][:2] == ["edith", "ACTOR"] and rows[0][-3:] == ["1.000", "1.000", "1.000"]


def test_the_article_page_counts_what_is_still_to_do(client_for, project, editor, article):
    second = make_article(project, TEXT, editors=[editor])
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    client = client_for(editor)
    assert (
        "Article 1 of 1 to do" in client.get(reverse("article", args=[second.pk])).content.decode()
    )
    done = client.get(reverse("article", args=[article.pk])).content.decode()
    assert "Done · 1 still to do" in done
