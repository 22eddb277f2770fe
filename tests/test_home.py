"""The home page: the user's projects, role, progress counts and the head of their queue."""

from __future__ import annotations

import re

from annotate.models import Role
from annotate.services.annotations import gold_for, save_annotation

from .factories import make_annotation, make_article, make_member, make_project


def test_anonymous_user_is_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_home_lists_only_the_users_projects(project, editor, outsider, client_for):
    html = client_for(editor).get("/").content.decode()
    assert project.name in html and "elsewhere" not in html
    assert f'href="/projects/{project.slug}/"' in html


def test_home_shows_progress_counts(project, editor, reviewer, client_for):
    articles = [make_article(project, f"Article number {i}.", editors=[editor]) for i in range(5)]
    make_annotation(articles[0], editor, [(0, 7, "ACTOR")], submit=True)
    make_annotation(articles[1], editor, [(0, 7, "ACTOR")], submit=True)
    make_annotation(articles[2], editor, [(0, 7, "ACTOR")])
    save_annotation(
        annotation=gold_for(articles[3]),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[],
        final=True,
    )
    html = client_for(editor).get("/").content.decode()
    assert "<strong>3</strong> of 5 done" in html
    assert "1 not started · 1 in progress · 2 submitted · 1 closed" in html
    assert 'value="3" max="5"' in html
    assert "You have <strong>2</strong> articles to label, 1 of them started." in html


def test_home_lists_the_next_articles_in_the_queue(project, editor, client_for):
    done = make_article(project, "Done.", editors=[editor], title="Done already")
    make_annotation(done, editor, [(0, 4, "ACTOR")], submit=True)
    todo = [
        make_article(project, f"Text {i}.", editors=[editor], title=f"Todo {i}") for i in range(7)
    ]
    html = client_for(editor).get("/").content.decode()
    shown = re.findall(r'<a href="/articles/(\d+)/">Todo \d</a>', html)
    assert shown == [str(a.pk) for a in todo[:5]]  # the first five, in queue order
    assert "Done already" not in html
    assert f'href="/projects/{project.slug}/next/">Continue labelling' in html


def test_home_says_when_the_queue_is_empty(project, editor, client_for):
    done = make_article(project, "Done.", editors=[editor])
    make_annotation(done, editor, [(0, 4, "ACTOR")], submit=True)
    html = client_for(editor).get("/").content.decode()
    assert "everything assigned to you is done" in html
    assert "Continue labelling" not in html


def test_upload_link_for_managers_and_for_editors_when_allowed(
    project, editor, manager, client_for
):
    upload = f'href="/projects/{project.slug}/import/"'
    assert upload in client_for(manager).get("/").content.decode()
    assert upload not in client_for(editor).get("/").content.decode()
    project.editors_can_upload = True
    project.save()
    assert upload in client_for(editor).get("/").content.decode()


def test_review_links_for_reviewers_only(project, editor, reviewer, client_for):
    review = f'href="/projects/{project.slug}/review/"'
    assert review in client_for(reviewer).get("/").content.decode()
    assert review not in client_for(editor).get("/").content.decode()


def test_admin_sees_every_project_as_manager(project, outsider, admin_user, client_for):
    html = client_for(admin_user).get("/").content.decode()
    assert project.name in html and "Project" in html
    assert html.count('<span class="badge">Manager</span>') == 2


def test_home_queries_do_not_grow_with_projects_or_articles(
    editor, client_for, django_assert_max_num_queries
):
    for n in range(6):
        project = make_project(f"p{n}")
        make_member(project, editor, Role.EDITOR)
        for i in range(8):
            article = make_article(project, f"Article {i} of project {n}.", editors=[editor])
            if i % 3 == 0:
                make_annotation(article, editor, [(0, 7, "ACTOR")], submit=i % 2 == 0)
    client = client_for(editor)
    with django_assert_max_num_queries(7):
        response = client.get("/")
    assert response.content.decode().count('class="card project-card"') == 7  # and demo-news
