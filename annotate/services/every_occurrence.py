""" "Label every occurrence": the selected words, labelled wherever they stand as words of
their own in the article (:func:`annotate.occurrences.whole_word_occurrences`), in one new
version of the editor's annotation, so that one undo takes them all back.

Like a single added span, the change is the span set of the version the page showed plus the
new spans, saved with ``allow_merge`` (a change made meanwhile in another tab elsewhere in
the text is kept). Occurrences already labelled so are left as they are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from ..models import Article
from ..occurrences import whole_word_occurrences
from ..span_checks import concerns
from ..versioning import SpanKey
from .annotations import (
    InvalidSpans,
    SaveResult,
    SpanInput,
    annotation_for,
    save_annotation,
    state_of,
)

# More than this is a slip (a selected "the"), not a name to label.
MAX_OCCURRENCES = 500


@dataclass(frozen=True)
class Occurrences:
    result: SaveResult
    found: int  # places the words stand in the text, the selection's own included
    added: int  # of these, how many the new version labelled (the rest already were)


@transaction.atomic
def label_every_occurrence(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    span: SpanInput,
    request_key: uuid.UUID | str | None = None,
) -> Occurrences:
    """Label `span`'s words with its label at every whole-word occurrence in the article
    (the span itself included), as one version on top of `base_version`."""
    text = article.text
    words = text[span.start : span.end]
    if concerns(text, span.start, span.end, article.project.long_span_chars):
        raise InvalidSpans(
            "Label every occurrence works on words within a paragraph, no longer than the "
            "project's span limit: select fewer words."
        )
    places = whole_word_occurrences(text, words)
    if (span.start, span.end) not in places:  # a selection not snapped to words still counts
        places.append((span.start, span.end))
    if len(places) > MAX_OCCURRENCES:
        raise InvalidSpans(
            f"“{words[:60]}” occurs {len(places):,} times; label every occurrence stops at "
            f"{MAX_OCCURRENCES:,}. Select a longer phrase."
        )
    annotation = annotation_for(article, author)
    base = state_of(annotation, base_version)
    new = [SpanKey(s, e, span.label) for s, e in sorted(places)]
    missing = [key for key in new if key not in base]
    spans = [SpanInput(k.start, k.end, k.label) for k in base]
    spans += [SpanInput(k.start, k.end, k.label, words) for k in missing]
    result = save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=base_version,
        spans=spans,
        request_key=request_key,
        allow_merge=True,
    )
    return Occurrences(result=result, found=len(places), added=len(missing))
