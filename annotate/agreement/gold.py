"""Each editor against the final gold: precision, recall and F1 per label. Pure.

A span counts as found when the gold has a span with exactly its offsets and label (exact
match, as ``f1_exact`` between editors). Over the articles whose gold is final and which the
editor submitted: precision = matched / the editor's spans, recall = matched / the gold's
spans, F1 their harmonic mean (the usual definitions for span extraction, e.g. Tjong Kim
Sang & De Meulder 2003, CoNLL-2003). Undefined ratios (nothing to divide by) are None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Key = tuple[int, int, str]  # start, end, label


@dataclass
class Counts:
    matched: int = 0
    editor: int = 0  # the editor's spans
    gold: int = 0  # the gold's spans

    @property
    def precision(self) -> float | None:
        return self.matched / self.editor if self.editor else None

    @property
    def recall(self) -> float | None:
        return self.matched / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        total = self.editor + self.gold
        return 2 * self.matched / total if total else None

    def add(self, other: Counts) -> None:
        self.matched += other.matched
        self.editor += other.editor
        self.gold += other.gold


@dataclass
class EditorScore:
    editor: str
    articles: int = 0
    overall: Counts = field(default_factory=Counts)
    labels: dict[str, Counts] = field(default_factory=dict)

    @property
    def by_label(self) -> list[tuple[str, Counts]]:
        return sorted(self.labels.items())


def compare(editor_spans: Iterable[Key], gold_spans: Iterable[Key]) -> dict[str, Counts]:
    """One article: the editor's spans against the gold's, per label."""
    mine, gold = set(editor_spans), set(gold_spans)
    result: dict[str, Counts] = {}
    for key in mine | gold:
        counts = result.setdefault(key[2], Counts())
        counts.editor += key in mine
        counts.gold += key in gold
        counts.matched += key in mine and key in gold
    return result


def scores(
    work: Iterable[tuple[str, int]],
    editor_spans: Mapping[tuple[str, int], Iterable[Key]],
    gold_spans: Mapping[int, Iterable[Key]],
) -> list[EditorScore]:
    """Every editor's score over the (editor, article) pairs of `work`, by editor name;
    `editor_spans[(editor, article)]` and `gold_spans[article]` hold the spans."""
    found: dict[str, EditorScore] = {}
    for editor, article in work:
        row = found.setdefault(editor, EditorScore(editor))
        row.articles += 1
        for label, counts in compare(
            editor_spans.get((editor, article), ()), gold_spans.get(article, ())
        ).items():
            row.labels.setdefault(label, Counts()).add(counts)
            row.overall.add(counts)
    return [found[name] for name in sorted(found)]
