"""Suggestions: what final gold and models offer an editor in an article.

Gold suggestions come from the phrase index (``GoldPhrase``): each distinct (text, label)
that final gold of the project marks, kept in step by ``final_gold_changed`` whenever a
gold is made final, changed while final, or reopened (save_annotation calls it in the same
transaction), and rebuilt by ``rebuild_gold_index``. Nothing else feeds it, so no editor's
work reaches another editor before adjudication has closed on it. Model suggestions are the
``PredictedSpan`` rows of one model version.

A suggestion is an offer: it becomes part of an editor's annotation only when accepted
(``accept_suggestions``: one version, the spans record their ``origin``); a rejected one is
remembered per editor and article and not offered there again.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum

from ..assistance.matching import Match, Phrase, PhraseIndex, first_word, word_bounds
from ..models import Annotation, AnnotationVersion, Article, Label, Project, Role, Span
from ..models.assistance import GoldPhrase, ModelVersion, PredictedSpan, SuggestionRejection
from ..versioning import SpanKey
from .annotations import (
    InvalidSpans,
    Locked,
    SaveResult,
    SpanInput,
    annotation_for,
    current_span_inputs,
    save_annotation,
)

MAX_PHRASE_CHARS = GoldPhrase._meta.get_field("text").max_length
MAX_WORD_CHARS = GoldPhrase._meta.get_field("first_word").max_length
SCORE_RE = re.compile(r"(?:0(?:\.[0-9]{1,8})?|1(?:\.0{1,8})?|\.[0-9]{1,8})")
# Words per query when loading the phrases an article can hold (SQLite's parameter limit).
WORDS_PER_QUERY = 5_000


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    label: str
    text: str
    origin: str  # "gold" or "model"
    model: str | None = None
    score: float | None = None

    @property
    def key(self) -> SpanKey:
        return SpanKey(self.start, self.end, self.label)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": self.text,
            "origin": self.origin,
        }
        if self.origin == "model":
            data["model"] = self.model
            data["score"] = self.score
        return data


def parse_score(value: str) -> float:
    """A score threshold as a query or a form gives it: a plain decimal from 0 to 1."""
    if not SCORE_RE.fullmatch(value):
        raise InvalidSpans("The score threshold must be a number from 0 to 1, like 0.5.")
    return float(value)


# The phrase index


def _indexable(text: str) -> str | None:
    """The first word a phrase is looked up by; None for a phrase the index leaves out (too
    long for a suggestion, or with no word to match on)."""
    if len(text) > MAX_PHRASE_CHARS:
        return None
    word = first_word(text)
    return word if word and len(word) <= MAX_WORD_CHARS else None


def final_gold_changed(
    gold: Annotation, *, before: Iterable[SpanKey], after: Iterable[SpanKey]
) -> None:
    """Bring the phrase index in step with a gold whose final spans went from `before` to
    `after` (empty `before`: just made final; empty `after`: reopened)."""
    text = gold.article.text
    delta: Counter[tuple[str, str]] = Counter()
    for key in after:
        delta[(text[key.start : key.end], key.label)] += 1
    for key in before:
        delta[(text[key.start : key.end], key.label)] -= 1
    delta = Counter({k: n for k, n in delta.items() if n and _indexable(k[0])})
    if delta:
        _apply(gold.article.project_id, delta)


def _apply(project_id: int, delta: Counter[tuple[str, str]]) -> None:
    labels = dict(Label.objects.filter(project_id=project_id).values_list("key", "pk"))
    by_label: dict[int, Counter[str]] = {}
    for (text, key), n in delta.items():
        by_label.setdefault(labels[key], Counter())[text] += n
    with transaction.atomic():
        for label_id, counts in by_label.items():
            rows = GoldPhrase.objects.select_for_update().filter(
                project_id=project_id, label_id=label_id, text__in=list(counts)
            )
            found = {row.text: row for row in rows}
            changed, gone = [], []
            for text, n in counts.items():
                row = found.get(text)
                if row is None:
                    if n > 0:
                        changed.append(_phrase(project_id, label_id, text, n))
                    continue
                row.count = max(0, row.count + n)
                (changed if row.count else gone).append(row)
            GoldPhrase.objects.bulk_create([r for r in changed if r.pk is None])
            GoldPhrase.objects.bulk_update([r for r in changed if r.pk is not None], ["count"])
            GoldPhrase.objects.filter(pk__in=[r.pk for r in gone]).delete()


def _phrase(project_id: int, label_id: int, text: str, count: int) -> GoldPhrase:
    return GoldPhrase(
        project_id=project_id,
        label_id=label_id,
        text=text,
        count=count,
        first_word=_indexable(text) or "",
    )


@transaction.atomic
def rebuild_gold_index(project: Project) -> int:
    """The phrase index of `project` built again from its final gold; how many phrases."""
    GoldPhrase.objects.filter(project=project).delete()
    rows = (
        Span.objects.filter(
            annotation__article__project=project,
            annotation__kind=Annotation.Kind.GOLD,
            annotation__final=True,
            removed_in__isnull=True,
        )
        .values_list("text", "label_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    phrases = [_phrase(project.pk, label, text, n) for text, label, n in rows if _indexable(text)]
    GoldPhrase.objects.bulk_create(phrases, batch_size=2_000)
    return len(phrases)


# Finding suggestions


def gold_matches(article: Article) -> list[Match]:
    """Where the article says, on whole words, what final gold of its project marks: only
    the phrases whose first word the article has are loaded."""
    text = article.text
    bounds = word_bounds(text)
    words = sorted({text[s:e] for s, e in bounds if e - s <= MAX_WORD_CHARS})
    phrases = phrases_starting_with(article.project_id, words)
    return PhraseIndex(phrases).find(text, bounds) if phrases else []


def phrases_starting_with(project_id: int, words: Sequence[str]) -> list[Phrase]:
    """The project's gold phrases whose first word is one of `words`."""
    # The project as an expression ("project_id + 0"), so that no database picks the unique
    # index (project, text, label) and scans every phrase of the project: the index on
    # (first_word, project) finds only the phrases the article can hold.
    in_project = GoldPhrase.objects.alias(project_number=F("project_id") + 0).filter(
        project_number=project_id
    )
    phrases: list[Phrase] = []
    for i in range(0, len(words), WORDS_PER_QUERY):
        chunk = words[i : i + WORDS_PER_QUERY]
        rows = in_project.filter(first_word__in=chunk).order_by().values_list("text", "label__key")
        phrases.extend(Phrase(t, label) for t, label in rows)
    return phrases


def choose_model(article: Article, name: str | None) -> ModelVersion | None:
    """The model version whose predictions to offer: the one named (InvalidSpans if the
    project has none of that name), else the newest with predictions for the article."""
    versions = ModelVersion.objects.filter(project_id=article.project_id)
    if name is not None:
        found = versions.filter(name=name).first()
        if found is None:
            raise InvalidSpans(f"This project has no model version named {name!r}.")
        return found
    return versions.filter(spans__article=article).order_by("-created_at", "-pk").first()


def model_suggestions(
    article: Article, model: ModelVersion | None, min_score: float | None
) -> list[Suggestion]:
    if model is None:
        return []
    rows = PredictedSpan.objects.filter(article=article, model_version=model)
    if min_score is not None:
        rows = rows.filter(score__gte=min_score)
    return [
        Suggestion(s, e, label, text, "model", model.name, score)
        for s, e, label, text, score in rows.values_list(
            "start", "end", "label__key", "text", "score"
        )
    ]


def suggestions_for(
    article: Article,
    user,
    role: str | None,
    *,
    model: str | None = None,
    min_score: float | None = None,
) -> list[Suggestion]:
    """What to offer `user` in `article`, in text order: gold phrases found in it (unless
    the project turned them off) and the chosen model's predictions, less what the editor's
    annotation already has (same start, end and label) and what they rejected. An editor
    gets nothing once the article's gold is final (their annotation is closed)."""
    project = article.project
    chosen = choose_model(article, model)
    editor = role == Role.EDITOR
    if editor and _gold_is_final(article):
        return []
    found: dict[SpanKey, Suggestion] = {}
    if project.suggest_from_gold:
        for m in gold_matches(article):
            found[SpanKey(m.start, m.end, m.label)] = Suggestion(
                m.start, m.end, m.label, m.text, "gold"
            )
    for s in model_suggestions(article, chosen, min_score):
        found.setdefault(s.key, s)  # the gold's word first: it was adjudicated
    if editor and found:
        for key in _already_there(article, user):
            found.pop(key, None)
    return sorted(found.values(), key=lambda s: (s.start, s.end, s.label, s.origin))


def _gold_is_final(article: Article) -> bool:
    return Annotation.objects.gold().filter(article=article, final=True).exists()


def _already_there(article: Article, user) -> set[SpanKey]:
    """The editor's current spans and the suggestions they rejected, in the article."""
    own = Span.objects.filter(
        annotation__article=article,
        annotation__annotator=user,
        annotation__kind=Annotation.Kind.EDITOR,
        removed_in__isnull=True,
    ).values_list("start", "end", "label__key")
    rejected = SuggestionRejection.objects.filter(article=article, editor=user).values_list(
        "start", "end", "label__key"
    )
    return {SpanKey(*row) for row in own} | {SpanKey(*row) for row in rejected}


# Accepting and rejecting


@transaction.atomic
def accept_suggestions(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    keys: Sequence[SpanKey] | None = None,
    label: str | None = None,
    model: str | None = None,
    min_score: float | None = None,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Add offered suggestions to the editor's annotation in one version: those at `keys`,
    or every one with `label`. Each span records where it started (gold or model). A key
    that is not offered any more (accepted or rejected meanwhile, or never offered) is
    refused, nothing written."""
    if (keys is None) == (label is None):
        raise InvalidSpans("Say which suggestions to accept: one span, or a label.")
    offered = {
        s.key: s for s in suggestions_for(article, author, role, model=model, min_score=min_score)
    }
    if keys is not None:
        missing = [k for k in keys if k not in offered]
        if missing:
            k = missing[0]
            raise InvalidSpans(
                f"There is no {k.label} suggestion at {k.start}–{k.end} any more: it was "
                "accepted or rejected meanwhile, or never offered. Reload the page."
            )
        chosen = [offered[k] for k in keys]
    else:
        chosen = [s for s in offered.values() if s.label == label]
        if not chosen:
            raise InvalidSpans(f"There are no {label} suggestions to accept.")
    annotation = annotation_for(article, author)
    spans = current_span_inputs(annotation)
    spans += [SpanInput(s.start, s.end, s.label, s.text, origin=s.origin) for s in chosen]
    counts = Counter(s.origin for s in chosen)
    return save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=base_version,
        spans=spans,
        request_key=request_key,
        note=_accept_note(chosen),
        extra_summary={"action": "accept_suggestions", "suggestions": dict(counts)},
    )


def _accept_note(chosen: list[Suggestion]) -> str:
    if len(chosen) == 1:
        s = chosen[0]
        return f"Accepted the {s.origin} suggestion {s.label} “{s.text[:60]}”"
    return f"Accepted {len(chosen)} {chosen[0].label} suggestions"


def reject_suggestion(*, article: Article, editor, role: str | None, key: SpanKey) -> bool:
    """Remember that `editor` does not want the suggestion at `key` in `article`; False if
    it was rejected already. Only an editor of the article rejects, while it is open."""
    if role != Role.EDITOR:
        raise InvalidSpans("Only the article's editors reject suggestions.")
    if _gold_is_final(article):
        raise Locked("The gold annotation of this article is final: there is nothing to reject.")
    label = Label.objects.filter(project_id=article.project_id, key=key.label).first()
    if label is None:
        raise InvalidSpans(f"There is no label {key.label!r} in this project.")
    if not 0 <= key.start < key.end <= len(article.text):
        raise InvalidSpans("The suggestion is not inside the text.")
    try:
        with transaction.atomic():
            SuggestionRejection.objects.create(
                article=article, editor=editor, start=key.start, end=key.end, label=label
            )
    except IntegrityError:
        return False
    return True


# The agreement report


@dataclass
class OriginCounts:
    spans: int = 0
    gold: int = 0
    model: int = 0

    @property
    def suggested(self) -> int:
        return self.gold + self.model


def suggested_span_counts(project: Project) -> tuple[OriginCounts, dict[str, OriginCounts]]:
    """How many spans of submitted annotations started as suggestions (gold, model) of how
    many, overall and per editor (by username), in two counting queries that read no span
    row of the others: the spans of each annotation are its current version's count, and
    the spans that started as suggestions have an index of their own."""
    submitted = Annotation.objects.submitted().filter(article__project=project)
    spans = (
        AnnotationVersion.objects.filter(annotation__in=submitted, number=F("annotation__version"))
        .values_list("annotation__annotator__username")
        .annotate(n=Sum("span_count"))
        .order_by()
    )
    suggested = (
        Span.objects.filter(annotation__in=submitted, removed_in__isnull=True)
        .exclude(origin="")
        .values_list("annotation__annotator__username", "origin")
        .annotate(n=Count("pk"))
        .order_by()
    )
    total = OriginCounts()
    editors: dict[str, OriginCounts] = {}
    for username, n in spans:
        for counts in (total, editors.setdefault(username, OriginCounts())):
            counts.spans += n
    for username, origin, n in suggested:
        for counts in (total, editors.setdefault(username, OriginCounts())):
            setattr(counts, origin, getattr(counts, origin) + n)
    return total, dict(sorted(editors.items()))
