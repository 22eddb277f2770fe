"""The workflow in a real browser: an editor flags an article and moves on, a reviewer
decides the flag, a manager hands a missing editor's article to another, the overview draws
its chart; no page breaks the Content-Security-Policy on the way, and the admin's lists fit
a 1280 px screen."""

from __future__ import annotations

import pytest

from annotate.models import Flag, Handover, Role

from ..factories import make_annotation, make_article, make_member, make_project, make_user

pytestmark = pytest.mark.browser

TEXT = "Rebels shelled Aleppo on Monday, the ministry said."
REBELS, ALEPPO = (0, 6), (15, 21)
LONG_TITLE = (
    "Government forces and rebel groups exchange heavy shelling around the northern "
    "countryside as the ministry reports new casualty figures"
)


def watch(page) -> list[str]:
    """Console errors and failed requests of `page`, as they happen."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}") if r.status == 404 or r.status >= 500 else None
        ),
    )
    return problems


@pytest.fixture
def team(transactional_db):
    project = make_project("demo-news")
    people = {
        "edith": make_member(project, make_user("edith"), Role.EDITOR),
        "otto": make_member(project, make_user("otto"), Role.EDITOR),
        "theo": make_member(project, make_user("theo"), Role.EDITOR),
        "rita": make_member(project, make_user("rita"), Role.REVIEWER),
        "manon": make_member(project, make_user("manon"), Role.MANAGER),
    }
    return project, people


def test_an_editor_flags_an_article_and_a_reviewer_dismisses_the_flag(new_page, log_in, team):
    from playwright.sync_api import expect

    project, p = team
    first = make_article(project, TEXT, title="Broken one", editors=[p["edith"], p["otto"]])
    second = make_article(project, TEXT, title="Next one", editors=[p["edith"], p["otto"]])
    page = new_page()
    problems = watch(page)
    log_in(page, p["edith"])
    page.goto(f"/articles/{first.pk}/")
    page.get_by_text("Flag instead of labelling").click()
    page.get_by_label("Broken text").check()
    page.get_by_label("Note for the reviewers").fill("The second half is missing.")
    page.get_by_role("button", name="Flag and skip to the next article").click()
    page.wait_for_url(f"**/articles/{second.pk}/")
    expect(page.locator("#messages")).to_contain_text("Flagged “Broken one” as broken text")
    flag = Flag.objects.get()
    assert (flag.raised_by, flag.reason) == (p["edith"], "broken_text")

    reviewer = new_page()
    problems += watch(reviewer)
    log_in(reviewer, p["rita"])
    reviewer.goto("/projects/demo-news/review/")
    reviewer.get_by_label("Status").select_option("flagged")
    row = reviewer.locator("#queue tbody tr", has_text="Broken one")
    expect(row).to_contain_text("The second half is missing.")
    row.get_by_label("Note on your decision").fill("The text is complete on the site.")
    row.get_by_role("button", name="Dismiss").click()
    expect(reviewer.locator("#messages")).to_contain_text("Flag on “Broken one” dismissed.")
    flag.refresh_from_db()
    assert flag.verdict == "dismissed" and flag.resolved_by == p["rita"]
    # Back on edith's to-do list.
    page.goto("/projects/demo-news/")
    expect(page.locator("#queue")).to_contain_text("Broken one")
    assert problems == []


def test_a_manager_hands_a_missing_editors_article_to_another(new_page, log_in, team):
    from playwright.sync_api import expect

    project, p = team
    article = make_article(project, TEXT, title="Stalled", editors=[p["edith"], p["otto"]])
    make_annotation(article, p["edith"], [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, p["otto"], [(*ALEPPO, "LOCATION")])  # otto went quiet
    page = new_page()
    problems = watch(page)
    log_in(page, p["manon"])
    page.goto("/projects/demo-news/review/?status=waiting")
    row = page.locator("#queue tbody tr", has_text="Stalled")
    expect(row.locator("td.missing")).to_contain_text("otto (in progress) since")
    row.get_by_label("Give otto’s article to").select_option("theo")
    row.get_by_role("button", name="Reassign").click()
    expect(page.locator("#messages")).to_contain_text(
        "went from otto to theo. Their work (version 1) stays in the history."
    )
    assert Handover.objects.get().to_editor == p["theo"]
    # theo submits: the article reaches the review queue.
    make_annotation(article, p["theo"], [(*REBELS, "ACTOR")], submit=True)
    page.goto("/projects/demo-news/review/")
    expect(page.locator("#queue")).to_contain_text("Stalled")
    # otto's version is still in the history, for the reviewer to read.
    page.goto(f"/articles/{article.pk}/history/?annotator=otto")
    expect(page.locator("main")).to_contain_text("Version 1")
    assert problems == []


def test_the_overview_draws_its_chart_within_the_csp(new_page, log_in, team):
    from playwright.sync_api import expect

    project, p = team
    article = make_article(project, TEXT, title="Counted", editors=[p["edith"], p["otto"]])
    make_annotation(article, p["edith"], [(*REBELS, "ACTOR")], submit=True)
    page = new_page()
    problems = watch(page)
    log_in(page, p["manon"])
    page.goto("/projects/demo-news/overview/")
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.column").count() == 28
    heights = chart.locator("rect.column").evaluate_all(
        "rects => rects.map(r => r.getBBox().height)"
    )
    assert heights[-1] > 0 and sum(1 for h in heights if h > 0) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert problems == []


def test_htmx_actions_on_the_review_page_keep_to_the_csp(new_page, log_in, team):
    from playwright.sync_api import expect

    project, p = team
    article = make_article(project, TEXT, title="Adjudicated", editors=[p["edith"], p["otto"]])
    make_annotation(article, p["edith"], [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, p["otto"], [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")], submit=True)
    page = new_page()
    problems = watch(page)
    log_in(page, p["rita"])
    page.goto(f"/articles/{article.pk}/review/")
    base = page.locator('input[name="base_version"]')
    page.get_by_role("button", name="Accept agreed").click()
    expect(base).to_have_value("1")
    page.locator("nav.layers").get_by_role("link", name="otto").click()
    expect(page.locator("nav.layers a[aria-current]")).to_have_text("otto")
    page.get_by_role("button", name="Accept LOCATION Aleppo").click()
    expect(base).to_have_value("2")
    page.get_by_role("button", name="Remove LOCATION Aleppo").click()
    expect(base).to_have_value("3")
    page.get_by_role("button", name="Mark final").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    page.go_back()
    page.go_forward()
    assert problems == []


def test_the_admin_lists_fit_a_1280px_screen_and_have_a_favicon(new_page, log_in, team):
    project, p = team
    for n in range(3):
        article = make_article(
            project, TEXT, title=f"{LONG_TITLE} {n}", editors=[p["edith"], p["otto"]]
        )
        make_annotation(article, p["edith"], [(*REBELS, "ACTOR")], submit=True)
    root = make_user("root", is_staff=True, is_superuser=True)
    page = new_page()
    problems = watch(page)
    log_in(page, root)
    for model in ("article", "annotation", "annotationversion", "span", "assignment"):
        page.goto(f"/admin/annotate/{model}/")
        overflow = page.evaluate(
            """() => {
                const table = document.querySelector('#result_list');
                return [document.documentElement.scrollWidth, table.getBoundingClientRect().right];
            }"""
        )
        assert overflow[0] <= 1280 and overflow[1] <= 1280, (model, overflow)
    assert problems == []


def test_an_editor_asks_in_the_comments_and_a_reviewer_answers(new_page, log_in, team):
    from playwright.sync_api import expect

    project, p = team
    article = make_article(project, TEXT, title="Discussed", editors=[p["edith"], p["otto"]])
    make_annotation(article, p["edith"], [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, p["otto"], [(*REBELS, "ACTOR")], submit=True)
    editor = new_page()
    problems = watch(editor)
    log_in(editor, p["edith"])
    editor.goto(f"/articles/{article.pk}/")
    box = editor.locator("#comments")
    box.get_by_label("About").select_option(label="ACTOR “Rebels”")
    box.get_by_label("Comment").fill("Are rebels an ACTOR when unnamed?")
    box.get_by_role("button", name="Post comment").click()
    expect(editor.locator("#comments .comment")).to_contain_text("Are rebels an ACTOR")
    assert editor.url.endswith(f"/articles/{article.pk}/")  # swapped in place, no reload

    reviewer = new_page()
    problems += watch(reviewer)
    log_in(reviewer, p["rita"])
    reviewer.goto(f"/articles/{article.pk}/review/")
    reviewer.get_by_role("link", name="Comments on this article").click()
    thread = reviewer.locator("#comments")
    expect(thread).to_contain_text("Are rebels an ACTOR when unnamed?")
    thread.get_by_label("Comment").fill("Yes: label the group.")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment")).to_have_count(2)

    other = new_page()
    problems += watch(other)
    log_in(other, p["otto"])
    other.goto(f"/articles/{article.pk}/")
    expect(other.locator("#comments")).to_contain_text("Yes: label the group.")
    expect(other.locator("#comments")).not_to_contain_text("Are rebels an ACTOR")
    editor.reload()
    expect(editor.locator("#comments")).to_contain_text("Yes: label the group.")
    assert problems == []
