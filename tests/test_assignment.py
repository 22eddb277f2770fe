"""Who labels what (annotate.services.assignment)."""

from __future__ import annotations

from collections import Counter

from annotate.models import Assignment, Role
from annotate.services.assignment import assign_articles, editor_loads

from .factories import make_article, make_member, make_project, make_user


def loads(project) -> dict[str, int]:
    counts = Counter(
        Assignment.objects.filter(article__project=project).values_list(
            "editor__username", flat=True
        )
    )
    return dict(counts)


def editors(project, *names: str) -> list:
    return [make_member(project, make_user(name), Role.EDITOR) for name in names]


def test_nine_articles_three_editors_overlap_two_make_six_each(db):
    project = make_project(overlap=2)
    editors(project, "ann", "bob", "cem")
    articles = [make_article(project) for _ in range(9)]
    made = assign_articles(project, articles)
    assert made == 18
    assert loads(project) == {"ann": 6, "bob": 6, "cem": 6}
    assert all(article.assignments.count() == 2 for article in articles)


def test_each_article_gets_distinct_editors(db):
    project = make_project(overlap=3)
    editors(project, "ann", "bob", "cem", "dan")
    articles = [make_article(project) for _ in range(7)]
    assign_articles(project, articles)
    for article in articles:
        names = list(article.assignments.values_list("editor__username", flat=True))
        assert len(names) == len(set(names)) == 3


def test_new_articles_go_to_the_least_loaded_editors(db):
    project = make_project(overlap=1)
    ann, bob, cem = editors(project, "ann", "bob", "cem")
    for _ in range(3):
        make_article(project, editors=[ann])
    make_article(project, editors=[bob])
    new = [make_article(project) for _ in range(4)]
    assign_articles(project, new)
    # Loads 3/1/0: cem, then bob and cem alternate (ties by id); ann, the busiest, gets none.
    assert [a.assignments.get().editor.username for a in new] == ["cem", "bob", "cem", "bob"]
    assert loads(project) == {"ann": 3, "bob": 3, "cem": 2}


def test_balance_is_deterministic(db):
    project = make_project(overlap=1)
    ann, bob = editors(project, "ann", "bob")
    first, second, third = (make_article(project) for _ in range(3))
    assign_articles(project, [first, second, third])
    assert [a.assignments.get().editor for a in (first, second, third)] == [ann, bob, ann]


def test_loads_count_only_this_project(db):
    project = make_project(overlap=1)
    other = make_project(overlap=1)
    ann, bob = editors(project, "ann", "bob")
    make_member(other, ann, Role.EDITOR)
    for _ in range(5):
        make_article(other, editors=[ann])
    article = make_article(project)
    assign_articles(project, [article])
    assert article.assignments.get().editor == ann  # tie on 0 here; ann's other work ignored
    assert editor_loads(project) == {ann.pk: 1, bob.pk: 0}


def test_only_active_editors_are_assigned(db):
    project = make_project(overlap=2)
    ann, bob = editors(project, "ann", "bob")
    make_member(project, make_user("rev"), Role.REVIEWER)
    make_member(project, make_user("boss"), Role.MANAGER)
    bob.is_active = False
    bob.save()
    article = make_article(project)
    assign_articles(project, [article])
    assert list(article.assignments.values_list("editor__username", flat=True)) == ["ann"]


def test_fewer_editors_than_overlap_are_topped_up_later(db):
    project = make_project(overlap=2)
    (ann,) = editors(project, "ann")
    article = make_article(project)
    assert assign_articles(project, [article]) == 1
    editors(project, "bob")
    assert assign_articles(project) == 1
    assert set(article.assignments.values_list("editor__username", flat=True)) == {"ann", "bob"}


def test_running_it_again_changes_nothing(db):
    project = make_project(overlap=2)
    editors(project, "ann", "bob", "cem")
    articles = [make_article(project) for _ in range(4)]
    assign_articles(project, articles)
    before = loads(project)
    assert assign_articles(project) == 0
    assert loads(project) == before


def test_no_editors_no_assignments(db):
    project = make_project(overlap=2)
    make_article(project)
    assert assign_articles(project) == 0
    assert not Assignment.objects.exists()


def test_first_editor_is_always_among_the_articles_editors(db):
    project = make_project(overlap=2)
    ann, bob, cem = editors(project, "ann", "bob", "cem")
    for _ in range(4):
        make_article(project, editors=[cem])  # cem is the busiest
    article = make_article(project)
    assign_articles(project, [article], first=cem)
    assert set(article.assignments.values_list("editor__username", flat=True)) == {"cem", "ann"}


def test_first_is_ignored_when_not_an_editor_of_the_project(db):
    project = make_project(overlap=1)
    (ann,) = editors(project, "ann")
    boss = make_member(project, make_user("boss"), Role.MANAGER)
    article = make_article(project)
    assign_articles(project, [article], first=boss)
    assert article.assignments.get().editor == ann


def test_large_batches_are_assigned_evenly(db):
    project = make_project(overlap=2)
    editors(project, "ann", "bob", "cem", "dan", "eve")
    articles = [make_article(project) for _ in range(1_203)]
    assign_articles(project, articles)
    counts = loads(project).values()
    assert sum(counts) == 2_406
    assert max(counts) - min(counts) <= 1


def test_ids_and_new_articles_are_assigned_as_the_articles_themselves(db):
    made = {}
    for mode in ("articles", "ids", "new"):
        project = make_project(overlap=2)
        ann, bob, cem = editors(project, f"ann-{mode}", f"bob-{mode}", f"cem-{mode}")
        make_article(project, editors=[ann])
        articles = [make_article(project) for _ in range(7)]
        if mode == "articles":
            assign_articles(project, articles, first=cem)
        else:
            assign_articles(project, [a.pk for a in articles], first=cem, new=mode == "new")
        made[mode] = [
            sorted(
                name.split("-")[0]
                for name in a.assignments.values_list("editor__username", flat=True)
            )
            for a in articles
        ]
    assert made["ids"] == made["articles"]
    assert made["new"] == made["articles"]


def test_with_no_more_editors_than_the_overlap_every_article_gets_them_all(db):
    project = make_project(overlap=3)
    ann, bob = editors(project, "ann", "bob")
    for _ in range(3):
        make_article(project, editors=[ann])
    new = [make_article(project) for _ in range(4)]
    assert assign_articles(project, new) == 8
    for article in new:
        assert set(article.assignments.values_list("editor__username", flat=True)) == {"ann", "bob"}
    assert loads(project) == {"ann": 7, "bob": 4}


def test_loads_leave_out_former_and_inactive_editors(db):
    project = make_project(overlap=1)
    ann, bob, cem = editors(project, "ann", "bob", "cem")
    make_article(project, editors=[ann, bob, cem])
    make_article(project, editors=[bob])
    project.memberships.filter(user=cem).delete()
    ann.is_active = False
    ann.save()
    assert editor_loads(project) == {bob.pk: 2}
