"""Highlighted article text: nested and crossing spans, escaping, text preserved."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from annotate.highlight import Mark, render


class _TextOf(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        self.depth += 1

    def handle_endtag(self, tag):
        self.depth -= 1
        assert self.depth >= 0

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    assert parser.depth == 0
    return "".join(parser.parts)


def test_nested_span_is_inside_the_outer_one():
    text = "Iraq's Prime Minister Mustafa al-Kadhemi"
    html = render(text, [Mark(0, 4, "LOCATION", "2"), Mark(0, len(text), "ACTOR", "1")])
    assert html.startswith('<mark class="span lbl-ACTOR"')
    assert html.index("lbl-LOCATION") > html.index("lbl-ACTOR")
    assert text_of(html) == text


def test_crossing_spans_are_split_into_fragments():
    html = render("abcdef", [Mark(0, 4, "ACTOR", "1"), Mark(2, 6, "SOURCE", "2")])
    assert html.count('data-span="2"') == 2
    assert "cont" in html
    assert text_of(html) == "abcdef"


def test_html_in_text_is_shown_literally():
    html = render("<b>x</b> &amp; <script>", [Mark(0, 3, "ACTOR")])
    assert "<b>" not in html and "<script>" not in html
    assert text_of(html) == "<b>x</b> &amp; <script>"


spans = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 12), st.sampled_from("AB")))


@given(text=st.text(min_size=1, max_size=40), raw=spans)
def test_text_is_preserved_whatever_the_spans(text, raw):
    marks = [
        Mark(s, min(s + n, len(text)), label, str(i))
        for i, (s, n, label) in enumerate(raw)
        if s < len(text)
    ]
    html = render(text, marks)
    assert text_of(html) == text
    for m in marks:
        if m.start < m.end:
            assert f'data-span="{m.id}"' in html
