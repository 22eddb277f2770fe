"""A hostile world: two projects, every role in each, and attack strings in every field a user
can fill (titles, text, label names and descriptions, notes, names, guidelines, metadata).

`world` is built through the same services the app uses, so what the pages show is what an
attacker could really have stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client

from annotate.models import Annotation, Article, Job, Label, Project, Relation, Role, Span
from annotate.services.annotations import gold_for
from annotate.services.releases import create_release
from annotate.services.review import accept_spans, set_final

from ..factories import (
    PASSWORD,
    make_annotation,
    make_article,
    make_attribute,
    make_member,
    make_project,
    make_relation_type,
    make_user,
)

# Each one breaks out of a different context: element content, an attribute, a <script>
# block, and Django's template language (if anything ever rendered user text as a template).
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
BREAKOUT = "</script><script>alert(3)</script>"
ATTRIBUTE = '" onmouseover="alert(4)" x=\''
TEMPLATE = "{{ 7|add:1 }}{% now 'Y' %}"
HOSTILE = f"{SCRIPT}{IMG}{BREAKOUT}{ATTRIBUTE}{TEMPLATE}"
assert len(HOSTILE) < 150  # fits first_name and project names

# What must never appear in a rendered page: each would run or inject if it did.
UNESCAPED = (
    "<script>alert",
    "<img src=x onerror",
    "</script><script>",
    '" onmouseover="alert',
)

TEXT = f"Rebels {SCRIPT} shelled Aleppo {IMG} on Monday; {BREAKOUT} said {TEMPLATE} officials."
#        0123456
REBELS = (0, 6)
ALEPPO = (TEXT.index("Aleppo"), TEXT.index("Aleppo") + 6)
OFFICIALS = (TEXT.index("officials"), TEXT.index("officials") + 9)
HOSTILE_LABELS = [
    # Label names hold at most 100 characters.
    ("ACTOR", f"Actor {SCRIPT}{IMG}", "#ffd966", "1"),
    ("LOCATION", f"Location {BREAKOUT}{ATTRIBUTE}", "#9fc5e8", "2"),
    ("SOURCE", f"Source {TEMPLATE}", "#b6d7a8", "4"),
    ("CASUALTY", "Casualty", "#ea9999", "3"),
]


@dataclass
class Side:
    """One project and its people and data."""

    project: Project
    manager: object
    reviewer: object
    editor: object
    other_editor: object
    article: Article  # assigned to both editors, both submitted, gold final, released
    open_article: Article  # assigned to both editors, editor's work in progress, no gold
    editor_span: Span  # a current span of editor's annotation of `article`
    other_span: Span  # a current span of other_editor's annotation of `article`
    gold_span: Span
    release: str = "v1"
    extra: dict = field(default_factory=dict)

    @property
    def people(self) -> dict[str, object]:
        return {
            "manager": self.manager,
            "reviewer": self.reviewer,
            "editor": self.editor,
            "other_editor": self.other_editor,
        }


@dataclass
class World:
    alpha: Side
    beta: Side
    admin: object


def _hostile_user(username: str):
    return make_user(username, first_name=SCRIPT, last_name=IMG)


def _side(slug: str) -> Side:
    project = make_project(
        slug,
        labels=HOSTILE_LABELS,
        name=f"Project {slug} {HOSTILE}",
        guidelines=f"# Rules {HOSTILE}\n\n[click](javascript:alert(5)) <b>raw</b> {TEMPLATE}",
    )
    Label.objects.filter(project=project).update(description=HOSTILE)
    manager = make_member(project, _hostile_user(f"{slug}_manager"), Role.MANAGER)
    reviewer = make_member(project, _hostile_user(f"{slug}_reviewer"), Role.REVIEWER)
    editor = make_member(project, _hostile_user(f"{slug}_editor"), Role.EDITOR)
    other = make_member(project, _hostile_user(f"{slug}_other"), Role.EDITOR)
    meta = {"section": HOSTILE, HOSTILE: "key"}
    article = make_article(
        project,
        TEXT,
        title=f"Title {HOSTILE}",
        editors=[editor, other],
        url="https://example.org/?q=%3Cscript%3E",
        meta=meta,
    )
    open_article = make_article(
        project, TEXT, title=f"Open {HOSTILE}", editors=[editor, other], meta=meta
    )
    # A relation type between any labels, named to break out: the editor's spans are related.
    near = make_relation_type(project, "NEAR", name=f"near {SCRIPT}{ATTRIBUTE}")
    mine = make_annotation(
        article,
        editor,
        [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")],
        relations=[(0, 1, "NEAR")],
        submit=True,
    )
    relation = Relation.objects.get(annotation=mine, type=near)
    theirs = make_annotation(
        article, other, [(*REBELS, "LOCATION"), (*OFFICIALS, "SOURCE")], submit=True
    )
    make_annotation(open_article, editor, [(*ALEPPO, "LOCATION")])
    make_annotation(open_article, other, [(*REBELS, "ACTOR")])
    editor_span = mine.current_spans().get(start=REBELS[0])
    other_span = theirs.current_spans().get(start=OFFICIALS[0])
    accept_spans(
        article,
        reviewer,
        role=Role.REVIEWER,
        span_ids=[editor_span.pk],
        base_version=0,
        note=f"Gold note {HOSTILE}",
    )
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1, note=HOSTILE)
    gold_span = gold_for(article).current_spans().get()
    create_release(project=project, name="v1", user=manager, note=f"Release {HOSTILE}")
    attribute = make_attribute(
        project, "CASUALTY", "kind", "choice", name=f"Kind {SCRIPT}", choices=[SCRIPT, IMG]
    )
    relation_type = make_relation_type(
        project, "SAID_BY", ["CASUALTY"], ["SOURCE"], name=f"said {BREAKOUT}{ATTRIBUTE}"
    )
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.IMPORT,
        started_by=manager,
        state=Job.State.FAILED,
        total=3,
        params={"format": "jsonl", "name": f"{HOSTILE}.jsonl"},
        error=f"Nothing was imported: {HOSTILE}",
    )
    return Side(
        project=project,
        manager=manager,
        reviewer=reviewer,
        editor=editor,
        other_editor=other,
        article=article,
        open_article=open_article,
        editor_span=editor_span,
        other_span=other_span,
        gold_span=gold_span,
        extra={
            "attribute": attribute,
            "relation_type": relation_type,
            "relation": relation,
            "job": job,
        },
    )


@pytest.fixture
def world(db) -> World:
    alpha = _side("alpha")
    beta = _side("beta")
    admin = make_user("root", is_staff=True, is_superuser=True, first_name=SCRIPT)
    assert Annotation.objects.gold().filter(final=True).count() == 2
    return World(alpha=alpha, beta=beta, admin=admin)


def login(user, **kwargs) -> Client:
    client = Client(**kwargs)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def assert_inert(body: str, where: str) -> None:
    """No hostile string survived unescaped, and every inline script is JSON data."""
    for needle in UNESCAPED:
        assert needle not in body, f"{where}: unescaped {needle!r}"
    assert_no_inline_script(body, where)


class _Markup(HTMLParser):
    """Collects what the browser would treat as code: script tags, event handler and style
    attributes, and javascript: URLs (text content is not looked at: it is only text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.problems.append(f"inline script <script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            url = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name in ("href", "src", "action", "formaction") and url.startswith(
                ("javascript:", "data:text/html", "vbscript:")
            ):
                self.problems.append(f"{name}={value!r} on <{tag}>")


def assert_no_inline_script(body: str, where: str) -> None:
    parser = _Markup()
    parser.feed(body)
    parser.close()
    assert parser.problems == [], f"{where}: {parser.problems}"
