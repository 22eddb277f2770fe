"""Reading a model's predictions (JSON Lines) and checking them against a project. Pure: no
Django.

One line per article and model version::

    {"id": "a-17", "model": "ner-news@3",
     "spans": [{"start": 0, "end": 9, "label": "ACTOR", "score": 0.93,
                "text"?: "...", "attributes"?: {...}}],
     "relations"?: [{"from": 0, "to": 1, "type": "SAID_BY", "score"?: 0.8}]}

Checking runs in two steps so that nothing is written unless every line is right: the shape of
each line (:func:`read_predictions`, needs no project), then each line against its article and
the project's labels and fact schema (:func:`line_problem`). Both collect every bad line with
its number; the first problem of a line is the one reported for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..article_parsing import Issue, human_bytes, read_jsonl
from ..facts.schema import FactError, FactSchema, check_attributes, relation_problems
from ..inputs import json_problem, text_problem
from ..versioning import SpanKey

LINE_KEYS = ("id", "model", "spans", "relations")
SPAN_KEYS = ("start", "end", "label", "score", "text", "attributes")
RELATION_KEYS = ("from", "to", "type", "score")
MAX_MODEL_CHARS = 200  # ModelVersion.name
MAX_EXTERNAL_ID = 200  # Article.external_id
MAX_SPANS_PER_LINE = 10_000
MAX_RELATIONS_PER_LINE = 10_000
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class PredictedSpanInput:
    start: int
    end: int
    label: str
    score: float | None = None
    text: str | None = None
    attributes: Mapping[str, object] | None = None

    @property
    def key(self) -> SpanKey:
        return SpanKey(self.start, self.end, self.label)


@dataclass(frozen=True)
class PredictedRelationInput:
    from_index: object  # checked against the line's spans by line_problem
    to_index: object
    type: object
    score: float | None = None


@dataclass
class PredictionLine:
    """One line: a model version's predictions for one article."""

    line: int
    external_id: str
    model: str
    spans: list[PredictedSpanInput] = field(default_factory=list)
    relations: list[PredictedRelationInput] = field(default_factory=list)
    # Set by line_problem: each span's attributes as the schema normalises them.
    attributes: list[dict[str, object]] = field(default_factory=list)

    @property
    def needs_text(self) -> bool:
        """Whether checking the line needs the article's text (a span quotes it), not only
        its length."""
        return any(span.text is not None for span in self.spans)


@dataclass
class ReadResult:
    lines: list[PredictionLine] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    too_large: bool = False  # over the byte or line cap: HTTP 413 rather than 400


@dataclass(frozen=True)
class ArticleText:
    """What checking a line needs of its article: the text's length, and the text itself
    when a span quotes it (see :attr:`PredictionLine.needs_text`)."""

    length: int
    text: str | None = None


class _Bad(ValueError):
    """The line's first problem; the message completes "line N: ..."."""


# --- step 1: the shape of each line ------------------------------------------------------


def read_predictions(
    data: bytes | str, *, max_lines: int | None = None, max_bytes: int | None = None
) -> ReadResult:
    """Every line of a predictions upload, or every problem of its shape by line: not JSON,
    not an object, unknown keys, a missing or empty ``id`` or ``model``, ``spans`` that are
    not a list of span objects with integer offsets (``end`` after ``start``) and a label,
    a score that is not a number from 0 to 1, a span given twice, relations that are not
    objects with ``from``, ``to`` and ``type``, the same article and model on two lines.
    Over `max_bytes` or `max_lines`: one error and ``too_large``."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if max_bytes is not None and size > max_bytes:
        return ReadResult(
            errors=[
                Issue(
                    f"the upload is {human_bytes(size)}; the limit is {human_bytes(max_bytes)} "
                    "(MAX_UPLOAD_BYTES). Send fewer articles per request."
                )
            ],
            too_large=True,
        )
    result = ReadResult()
    seen: dict[tuple[str, str], int] = {}
    count = 0
    for number, obj in read_jsonl(data):
        if isinstance(obj, Issue):
            result.errors.append(obj)
            continue
        count += 1
        if max_lines is not None and count > max_lines:
            result.errors = [
                Issue(
                    f"more than {max_lines} lines in one upload; the limit is {max_lines} "
                    "(MAX_IMPORT_ITEMS). Split the file.",
                    line=number,
                )
            ]
            result.too_large = True
            return result
        try:
            line = _line(obj, number)
        except _Bad as exc:
            result.errors.append(Issue(str(exc), line=number))
            continue
        first = seen.setdefault((line.external_id, line.model), number)
        if first != number:
            result.errors.append(
                Issue(
                    f"article {line.external_id!r} has predictions of {line.model!r} on line "
                    f"{first} already; give each article once per model",
                    line=number,
                )
            )
            continue
        result.lines.append(line)
    if not result.lines and not result.errors:
        result.errors.append(Issue("no predictions found: the body is empty"))
    return result


def _line(obj: object, number: int) -> PredictionLine:
    if not isinstance(obj, dict):
        raise _Bad(f"each line must be a JSON object, not {_kind(obj)}")
    # What reaches the database is checked for what it cannot store (NUL, lone surrogates,
    # numbers past 64 bits): the id and model here, attributes in _span; offsets, labels,
    # scores and texts must equal known values or fit ranges anyway. Checking every value of
    # every line would cost a quarter of an upload.
    _refuse_unknown(obj, LINE_KEYS, "a line")
    external_id = obj.get("id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise _Bad(
            "id must be the external id of an article of the project (a non-empty string), "
            f"not {_kind(external_id)}"
        )
    problem = text_problem(external_id)
    if problem:
        raise _Bad(f"id {problem}")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise _Bad(f"id is longer than {MAX_EXTERNAL_ID} characters, so no article has it")
    model = obj.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _Bad(
            'model must name the model version (a non-empty string such as "ner-news@3"), '
            f"not {_kind(model)}"
        )
    if len(model) > MAX_MODEL_CHARS or not model.isprintable() or text_problem(model):
        raise _Bad(f"model must be printable text of at most {MAX_MODEL_CHARS} characters")
    spans = obj.get("spans")
    if not isinstance(spans, list):
        raise _Bad(f"spans must be a list of spans (it may be empty), not {_kind(spans)}")
    if len(spans) > MAX_SPANS_PER_LINE:
        raise _Bad(f"{len(spans)} spans; at most {MAX_SPANS_PER_LINE} per article")
    line = PredictionLine(number, external_id, model.strip())
    seen: set[tuple[int, int, str]] = set()
    for index, item in enumerate(spans):
        try:
            span = _span(item)
        except _Bad as exc:
            raise _Bad(f"span {index}: {exc}") from None
        key = (span.start, span.end, span.label)
        if key in seen:
            raise _Bad(
                f"span {index}: the same span ({span.label} {span.start}:{span.end}) is given twice"
            )
        seen.add(key)
        line.spans.append(span)
    relations = obj.get("relations", [])
    if not isinstance(relations, list):
        raise _Bad(f"relations must be a list, not {_kind(relations)}")
    if len(relations) > MAX_RELATIONS_PER_LINE:
        raise _Bad(f"{len(relations)} relations; at most {MAX_RELATIONS_PER_LINE} per article")
    for index, item in enumerate(relations):
        try:
            line.relations.append(_relation(item))
        except _Bad as exc:
            raise _Bad(f"relation {index}: {exc}") from None
    return line


def _span(item: object) -> PredictedSpanInput:
    if not isinstance(item, dict):
        raise _Bad(f"must be an object with start, end and label, not {_kind(item)}")
    _refuse_unknown(item, SPAN_KEYS, "a span")
    missing = [key for key in ("start", "end", "label") if key not in item]
    if missing:
        raise _Bad(f"{' and '.join(missing)} missing")
    start, end, label = item["start"], item["end"], item["label"]
    for name, value in (("start", start), ("end", end)):
        if not _is_int(value):
            raise _Bad(f"{name} must be an integer (a character offset), not {_kind(value)}")
    if start < 0:
        raise _Bad(f"start {start} is negative")
    if end <= start:
        raise _Bad(f"end {end} must be greater than start {start}")
    if end > MAX_OFFSET:
        raise _Bad(f"end {end} is past the end of any article")
    if not isinstance(label, str) or not label:
        raise _Bad(f"label must be a label key (a string), not {_kind(label)}")
    text = item.get("text")
    if text is not None and not isinstance(text, str):
        raise _Bad(f"text must be the text the span covers (a string), not {_kind(text)}")
    attributes = item.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise _Bad(f"attributes must be an object, not {_kind(attributes)}")
    problem = json_problem(attributes) if attributes else None
    if problem:
        raise _Bad(f"attributes {problem}")
    return PredictedSpanInput(start, end, label, _score(item.get("score")), text, attributes)


def _relation(item: object) -> PredictedRelationInput:
    if not isinstance(item, dict):
        raise _Bad(f"must be an object with from, to and type, not {_kind(item)}")
    _refuse_unknown(item, RELATION_KEYS, "a relation")
    missing = [key for key in ("from", "to", "type") if key not in item]
    if missing:
        raise _Bad(f"{' and '.join(missing)} missing")
    return PredictedRelationInput(item["from"], item["to"], item["type"], _score(item.get("score")))


def _score(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"score must be a number from 0 to 1, not {_kind(value)}")
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise _Bad(f"score must be a number from 0 to 1, not {value}")
    return float(value)


def _refuse_unknown(obj: dict, known: Sequence[str], what: str) -> None:
    unknown = sorted(key for key in obj if key not in known)
    if unknown:
        raise _Bad(f"{str(unknown[0])[:40]!r} is not a field of {what} (use {', '.join(known)})")


# --- step 2: each line against its article and the project --------------------------------


def line_problem(
    line: PredictionLine, article: ArticleText, labels: Mapping[str, object], schema: FactSchema
) -> str | None:
    """What is wrong with a line given its article and the project's labels (by key) and
    fact schema (None: nothing): a span past the end of the text, an unknown label, a
    ``text`` that is not what the article has at the span's offsets, attributes that do
    not fit the label's schema, a relation whose ends are not spans of the line or whose
    type does not allow their labels. Fills ``line.attributes`` when the line is right."""
    attributes: list[dict[str, object]] = []
    for index, span in enumerate(line.spans):
        problem = _span_problem(span, article, labels)
        if problem is None and span.attributes:
            try:
                attributes.append(
                    check_attributes(span.label, span.attributes, schema.specs_for(span.label))
                )
            except FactError as error:
                problem = str(error)
        elif problem is None:
            attributes.append({})
        if problem:
            return f"span {index}: {problem}"
    if not line.relations:
        line.attributes = attributes
        return None
    refs = [(r.from_index, r.to_index, r.type) for r in line.relations]
    problems = relation_problems(refs, [span.key for span in line.spans], schema.relations)
    if problems:
        index, detail = problems[0]
        return f"relation {index}: {detail}"
    line.attributes = attributes
    return None


def _span_problem(
    span: PredictedSpanInput, article: ArticleText, labels: Mapping[str, object]
) -> str | None:
    if span.end > article.length:
        return f"end {span.end} is past the end of the text ({article.length} characters)"
    if span.label not in labels:
        known = ", ".join(sorted(labels)) or "none"
        return f"label {span.label[:40]!r} is not a label of this project ({known})"
    if span.text is not None:
        if article.text is None:
            raise ValueError("the article's text is needed to check a span's text")
        found = article.text[span.start : span.end]
        if span.text != found:
            return (
                f"text {span.text[:60]!r} does not match the article at "
                f"{span.start}:{span.end} ({found[:60]!r})"
            )
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
