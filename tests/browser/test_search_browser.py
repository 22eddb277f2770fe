"""The search page in a real Chromium: results follow the typing, hits are marked, the
article's text stays text, the pager pages and the URL follows."""

from __future__ import annotations

import pytest

from ..factories import make_article

pytestmark = pytest.mark.browser


@pytest.fixture
def page(new_page, log_in, editor, project):
    for n in range(23):
        make_article(
            project,
            f"Report {n}: shelling near Aleppo <img src=x onerror=alert(1)> was heavy.",
            title=f"Aleppo report {n}",
            editors=[editor],
        )
    make_article(project, "Kataeb Hezbollah denied it.", title="Baghdad", editors=[editor])
    page = new_page()
    log_in(page, editor)
    page.goto(f"/projects/{project.slug}/")
    page.get_by_role("link", name="Search articles").click()
    page.wait_for_url(f"**/projects/{project.slug}/search/")
    page.wait_for_load_state("load")  # htmx set up on the form before anything is typed
    return page


def test_typing_searches_and_the_pager_pages(page, project):
    page.fill("#search-q", "Kataeb Hezbollah")
    page.wait_for_selector("#search-results .search-hit")
    assert page.locator("#search-results h2").text_content() == "1 article found"
    assert page.locator(".search-hit mark").all_text_contents() == ["Kataeb", "Hezbollah"]
    assert "q=Kataeb%20Hezbollah" in page.url
    page.fill("#search-q", "Aleppo")
    page.wait_for_selector("text=23 articles found")
    assert page.locator(".search-hit").count() == 20
    # The article's HTML-looking text is shown as text: no image element, no script run.
    assert page.locator(".search-hit img").count() == 0
    assert "<img src=x" in page.locator(".search-hit .snippet").first.text_content()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_selector("text=Page 2 of 2")
    assert page.locator(".search-hit").count() == 3
    assert "page=2" in page.url


def test_a_query_of_punctuation_says_why(page):
    page.fill("#search-q", '"*"')
    page.wait_for_selector("#search-results [role=alert]")
    assert "at least one word" in page.locator("#search-results").text_content()
