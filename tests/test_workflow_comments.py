"""Comments: threads on an article and on a span, editors ask and reviewers answer, blind
like everything else. Every route that shows comments is checked for what an editor sees."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.models import Comment, Role
from annotate.services import workflow
from annotate.services.review import accept_agreed, set_final
from annotate.services.workflow import WorkflowError

from .factories import make_annotation, make_article

TEXT = "Rebels shelled Aleppo on Monday, the ministry said."
REBELS, ALEPPO = (0, 6), (15, 21)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def article(project, editor, other_editor):
    article = make_article(project, TEXT, title="Aleppo", editors=[editor, other_editor])
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(*ALEPPO, "LOCATION")], submit=True)
    return article


def span_of(article, user):
    return article.annotations.get(annotator=user).current_spans().get()


def pages_for(client, article) -> list[str]:
    """Every page an editor can reach that shows comments."""
    url = reverse("article-comments", args=[article.pk])
    return [
        client.get(reverse("article", args=[article.pk])).content.decode(),
        client.get(url).content.decode(),
        client.get(url, **HX).content.decode(),
    ]


def test_an_editor_asks_and_a_reviewer_answers(client_for, editor, reviewer, article):
    url = reverse("article-comments", args=[article.pk])
    asked = client_for(editor).post(
        url, {"body": "Is a militia an ACTOR?", "next": f"/articles/{article.pk}/"}
    )
    assert asked.status_code == 303 and asked["Location"] == f"/articles/{article.pk}/#comments"
    answered = client_for(reviewer).post(url, {"body": "Yes, label it ACTOR."}, **HX)
    assert answered.status_code == 200
    thread = answered.content.decode()
    assert thread.index("Is a militia an ACTOR?") < thread.index("Yes, label it ACTOR.")
    for page in pages_for(client_for(editor), article):
        assert "Is a militia an ACTOR?" in page and "Yes, label it ACTOR." in page
    review_page = client_for(reviewer).get(reverse("adjudicate", args=[article.pk]))
    assert f"/articles/{article.pk}/comments/" in review_page.content.decode()


def test_editors_never_see_each_others_comments_before_the_gold_is_final(
    client_for, editor, other_editor, reviewer, article
):
    workflow.add_comment(article, other_editor, Role.EDITOR, body="A doubt of the other editor")
    workflow.add_comment(
        article,
        other_editor,
        Role.EDITOR,
        body="On my span",
        span_id=span_of(article, other_editor).pk,
    )
    client = client_for(editor)
    for page in pages_for(client, article):
        assert (
            "A doubt of the other editor" not in page
            and "On my span" not in page
            and "otto" not in page
        )
    # An answer posted by edith comes back without them either.
    response = client.post(reverse("article-comments", args=[article.pk]), {"body": "Mine"}, **HX)
    assert "A doubt of the other editor" not in response.content.decode()
    # Once the gold is final, the article's thread opens; others' span threads stay closed.
    accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=1, base_version=0)
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1)
    for page in pages_for(client, article):
        assert "A doubt of the other editor" in page and "On my span" not in page
        assert "otto" not in page  # shown as "an editor"


def test_editors_comment_only_on_their_own_spans(client_for, editor, other_editor, article):
    theirs = span_of(article, other_editor)
    response = client_for(editor).post(
        reverse("article-comments", args=[article.pk]), {"body": "Hm", "span": theirs.pk}, **HX
    )
    assert response.status_code == 400 and "no such span" in response.content.decode()
    mine = span_of(article, editor)
    page = client_for(editor).get(reverse("article-comments", args=[article.pk]), **HX)
    assert f'<option value="{mine.pk}">' in page.content.decode()
    assert f'<option value="{theirs.pk}">' not in page.content.decode()
    workflow.add_comment(article, editor, Role.EDITOR, body="Why ACTOR?", span_id=mine.pk)
    assert Comment.objects.get().span == mine


def test_a_reviewer_answers_on_an_editors_span_and_only_that_editor_reads_it(
    client_for, editor, other_editor, reviewer, article
):
    workflow.add_comment(
        article, reviewer, Role.REVIEWER, body="Too long?", span_id=span_of(article, editor).pk
    )
    assert any("Too long?" in p for p in pages_for(client_for(editor), article))
    assert all("Too long?" not in p for p in pages_for(client_for(other_editor), article))


def test_anonymous_review_hides_who_commented(client_for, project, editor, reviewer, article):
    project.anonymous_review = True
    project.save()
    workflow.add_comment(article, editor, Role.EDITOR, body="A question")
    url = reverse("article-comments", args=[article.pk])
    page = client_for(reviewer).get(url).content.decode()
    assert "A question" in page and "edith" not in page


def test_comments_are_refused_when_empty_or_too_long(editor, article):
    with pytest.raises(WorkflowError, match="Write something"):
        workflow.add_comment(article, editor, Role.EDITOR, body="   ")
    with pytest.raises(WorkflowError, match="longer than"):
        workflow.add_comment(article, editor, Role.EDITOR, body="x" * 2001)


def test_people_outside_the_article_cannot_read_or_write_its_comments(
    client_for, project, outsider, article
):
    from .factories import make_member, make_user

    stranger = make_member(project, make_user("sam"), Role.EDITOR)  # not assigned
    url = reverse("article-comments", args=[article.pk])
    for user in (outsider, stranger):
        client = client_for(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"body": "Hello"}).status_code == 404
    assert not Comment.objects.exists()
