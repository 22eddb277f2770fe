"""Agreement on facts: relations between spans and attribute values on spans. Pure: no Django.

Like the span statistics (:mod:`.stats`), everything is kept as counts that add up over
pairs of editors and over articles, so one article's statistics can be stored, group
totals kept in step by adding and subtracting, and the report pooled from a few rows.

Relations
    A relation is ``(type, from start, from end, from label, to start, to end, to label)``
    (ids, not keys). For each pair of editors (A, B) and each *triple* (type, from label,
    to label) we count A's relations, B's, exact matches (same type and the same two ends)
    and, for overlap matching, A's relations matched by one of B's and B's matched by one
    of A's, where two relations match when their types are equal and each end overlaps
    the other's (at least one character in common) with the same label. A match never
    crosses triples, so filtering by label or type only picks triples.

Attributes
    Over the spans that both editors of a pair marked identically (same start, end and
    label), for each attribute key that at least one of them gave a value (``null`` and a
    missing key both mean "not given"):

    - both gave a value: the span is one *pair*; it agrees when the two values are equal
      (same type and value: ``1`` and ``true`` differ, texts compare exactly);
    - only one gave a value: the span counts in ``one_given``, and in neither the share
      nor alpha (Krippendorff's alpha has no place for a missing value: such a unit is not
      pairable). The report shows the count, as it is a disagreement about whether the
      fact is stated at all.

    Per pair of editors and attribute (``"<label id>:<key>"``) the statistics are
    ``[pairs, equal, one_given, integer pairs, sum, sum of squares, sum of squared
    differences, {value: count}]``: the value counts give nominal alpha, the sums interval
    alpha (over the pairs whose two values are both integers). Values are keyed by
    :func:`value_code`.

An article's facts score (the "articles where editors disagree most on facts" list) is
the share of its facts that the other editor matched, summed over pairs: ``(relations of A
matched + relations of B matched + 2 · equal attribute pairs) / (relations of A + of B +
2 · attribute pairs + one-given)``. ``None`` when the article has no fact at all.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from . import measures
from .stats import pair_indices

# A relation: type id, from (start, end, label id), to (start, end, label id).
RelationRow = tuple[int, int, int, int, int, int, int]
# A span with attribute values: start, end, label id, {key: value}.
ValuedSpan = tuple[int, int, int, Mapping[str, object]]

N_A, N_B, EXACT, OVER_A, OVER_B = range(5)
PAIRS, EQUAL, ONE_GIVEN, INT_PAIRS, TOTAL, SQUARES, DIFFERENCES, VALUES = range(8)
NOMINAL, INTERVAL = "nominal", "interval"

DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "relation_f1_exact": (
        "Relation F1, exact",
        "A relation of one editor matches one of the other when the types are equal and both "
        "ends are the same spans (start, end and label). F1 = 2·matches / (relations of A + "
        "relations of B), summed over every pair of editors and article.",
        "Hripcsak & Rothschild (2005), JAMIA 12(3):296–298, as for spans.",
    ),
    "relation_f1_overlap": (
        "Relation F1, overlap",
        "Types equal and each end overlaps the other's end (a character in common) with the "
        "same label. As a relation may match several, the value is (A's relations matched + "
        "B's matched) / (relations of A + relations of B); F1 when matches are one to one.",
        "Lenient matching as for spans (Tsai et al. 2006, BMC Bioinformatics 7:92); "
        "symmetric pooling is our choice.",
    ),
    "attribute_agreement": (
        "Attribute agreement (share equal)",
        "Over the spans two editors marked identically (same start, end and label), per "
        "attribute: the share of pairs of values that are equal, counted where both gave "
        "a value. Where only one editor gave a value the span is counted apart "
        "(\u201cone given\u201d) and left out of the share and of α.",
        "Observed agreement (percent agreement) of each pair of coders, pooled over pairs.",
    ),
    "attribute_alpha": (
        "Attribute Krippendorff's α",
        "Each identically marked span and pair of editors is a unit of two values. Nominal α "
        "(equal or not) for choice, yes/no and text attributes; interval α (squared "
        "difference of the numbers) for integers. Undefined when all values are the same.",
        "Krippendorff (2011), Computing Krippendorff's alpha-reliability, Annenberg School "
        "for Communication departmental paper 43 (nominal and interval metrics).",
    ),
    "facts_score": (
        "Facts score of an article",
        "The share of an article's facts that another editor matched, over every pair of "
        "editors: (relations matched by overlap + 2·equal attribute pairs) / (relations of "
        "both + 2·attribute pairs + values only one editor gave). Lowest first.",
        "Our summary for finding articles to discuss; the measures above are the reference.",
    ),
}


@dataclass(frozen=True)
class EditorFacts:
    """One editor's submitted facts in an article: current relations, and the current
    spans of labels that have attributes, with their values (``{}`` when none given)."""

    editor: int
    version: int
    relations: Sequence[RelationRow]
    spans: Sequence[ValuedSpan]


# --- one pair of editors -----------------------------------------------------------------


def triple_key(relation: RelationRow) -> str:
    return f"{relation[0]}:{relation[3]}:{relation[6]}"


class _Indexed:
    """One editor's facts arranged for comparing with every other editor of the article:
    relations by triple, as a set, and attribute values by span."""

    __slots__ = ("groups", "relations", "spans")

    def __init__(self, relations: Iterable[RelationRow], spans: Iterable[ValuedSpan]) -> None:
        self.relations = set(relations)
        groups: dict[tuple[int, int, int], list[RelationRow]] = {}
        for r in self.relations:
            key = (r[0], r[3], r[6])
            group = groups.get(key)
            if group is None:
                groups[key] = [r]
            else:
                group.append(r)
        self.groups = groups
        self.spans = {(s, e, label): values for s, e, label, values in spans}


def _relation_counts(a: _Indexed, b: _Indexed) -> dict[str, list[int]]:
    result = {}
    for key in a.groups.keys() | b.groups.keys():
        mine = a.groups.get(key, ())
        theirs = b.groups.get(key, ())
        exact = over_a = over_b = 0
        if mine and theirs:
            matched_b = set()
            for r in mine:
                exact += r in b.relations
                hit = False
                for q in theirs:
                    # Overlap: each end shares a character with the other's.
                    if r[1] < q[2] and q[1] < r[2] and r[4] < q[5] and q[4] < r[5]:
                        hit = True
                        matched_b.add(q)
                over_a += hit
            over_b = len(matched_b)
        result[f"{key[0]}:{key[1]}:{key[2]}"] = [len(mine), len(theirs), exact, over_a, over_b]
    return result


def relation_counts(
    relations_a: Iterable[RelationRow], relations_b: Iterable[RelationRow]
) -> dict[str, list[int]]:
    """Per triple ``"type:from label:to label"``: ``[relations of A, of B, exact matches,
    A's matched by overlap, B's matched by overlap]`` (module docstring)."""
    return _relation_counts(_Indexed(relations_a, ()), _Indexed(relations_b, ()))


def value_code(value: object) -> str:
    """The key of an attribute value in the counts, and what equality means: ``true`` and
    ``false`` for yes/no, the digits of an integer, ``:`` and the text of a text or choice,
    ``~`` and the JSON of anything else (values stored before a schema change)."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return ":" + value
    return "~" + json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def new_attribute_entry() -> list:
    return [0, 0, 0, 0, 0, 0, 0, {}]


def count_value_pair(entry: list, x: object, y: object) -> None:
    """Add one span's two values (either may be None: not given) to an attribute's
    statistics (module docstring for the layout)."""
    if x is None or y is None:
        entry[ONE_GIVEN] += 1
        return
    cx, cy = value_code(x), value_code(y)
    entry[PAIRS] += 1
    entry[EQUAL] += cx == cy
    counts = entry[VALUES]
    counts[cx] = counts.get(cx, 0) + 1
    counts[cy] = counts.get(cy, 0) + 1
    if type(x) is int and type(y) is int:
        entry[INT_PAIRS] += 1
        entry[TOTAL] += x + y
        entry[SQUARES] += x * x + y * y
        entry[DIFFERENCES] += (x - y) * (x - y)


def _attribute_counts(a: _Indexed, b: _Indexed) -> dict[str, list]:
    result: dict[str, list] = {}
    if len(b.spans) < len(a.spans):
        a, b, swapped = b, a, True
    else:
        swapped = False
    for span, values_a in a.spans.items():
        values_b = b.spans.get(span)
        if values_b is None:
            continue
        if swapped:
            values_a, values_b = values_b, values_a
        for name in values_a.keys() | values_b.keys():
            x, y = values_a.get(name), values_b.get(name)
            if x is None and y is None:
                continue
            key = f"{span[2]}:{name}"
            entry = result.get(key)
            if entry is None:
                entry = result[key] = [0, 0, 0, 0, 0, 0, 0, {}]
            count_value_pair(entry, x, y)
    return result


def attribute_counts(
    spans_a: Iterable[ValuedSpan], spans_b: Iterable[ValuedSpan]
) -> dict[str, list]:
    """Per attribute ``"<label id>:<key>"``: the statistics of the spans both editors marked
    identically (module docstring)."""
    return _attribute_counts(_Indexed((), spans_a), _Indexed((), spans_b))


# --- articles and totals -----------------------------------------------------------------


class FactStats(TypedDict, total=False):
    editors: list[int]
    versions: list[int]
    articles: int
    relations: list[dict[str, list[int]]]
    attributes: list[dict[str, list]]


def article_stats(editors: Sequence[EditorFacts]) -> FactStats:
    """One article's statistics: per pair of editors (ids ascending, pairs in
    :func:`.stats.pair_indices` order) relation and attribute counts."""
    ordered = sorted(editors, key=lambda e: e.editor)
    indexed = [_Indexed(e.relations, e.spans) for e in ordered]
    pairs = pair_indices(len(ordered))
    return {
        "editors": [e.editor for e in ordered],
        "versions": [e.version for e in ordered],
        "relations": [_relation_counts(indexed[i], indexed[j]) for i, j in pairs],
        "attributes": [_attribute_counts(indexed[i], indexed[j]) for i, j in pairs],
    }


def article_score(
    stats: Mapping,
    kept: Collection[int] | None = None,
    labels: Collection[int] | None = None,
) -> float | None:
    """The article's facts score (module docstring), over the pairs of `kept` editors (ids;
    all by default) and, with `labels` (ids), over the relations whose two ends have kept
    labels and the attributes of kept labels."""
    matched = total = 0
    editors = stats["editors"]
    for p, (i, j) in enumerate(pair_indices(len(editors))):
        if kept is not None and (editors[i] not in kept or editors[j] not in kept):
            continue
        for key, counts in stats["relations"][p].items():
            if labels is not None:
                _, from_label, to_label = (int(x) for x in key.split(":"))
                if from_label not in labels or to_label not in labels:
                    continue
            matched += counts[OVER_A] + counts[OVER_B]
            total += counts[N_A] + counts[N_B]
        for key, entry in stats["attributes"][p].items():
            if labels is not None and int(key.split(":", 1)[0]) not in labels:
                continue
            matched += 2 * entry[EQUAL]
            total += 2 * entry[PAIRS] + entry[ONE_GIVEN]
    return measures.ratio_or_none(matched, total)


def _add_entry(total: list, part: list, sign: int) -> list:
    values = dict(total[VALUES])
    for code, count in part[VALUES].items():
        value = values.get(code, 0) + sign * count
        if value:
            values[code] = value
        else:
            values.pop(code, None)
    return [x + sign * y for x, y in zip(total[:VALUES], part[:VALUES], strict=True)] + [values]


def _add_pair(total: dict, part: dict, sign: int, attributes: bool) -> dict:
    result = dict(total)
    for key, counts in part.items():
        base = result.get(key)
        if base is None:
            base = new_attribute_entry() if attributes else [0] * len(counts)
        if attributes:
            added = _add_entry(base, counts, sign)
            empty = not any(added[:VALUES]) and not added[VALUES]
        else:
            added = [x + sign * y for x, y in zip(base, counts, strict=True)]
            empty = not any(added)
        if empty:
            result.pop(key, None)
        else:
            result[key] = added
    return result


def add_into(total: FactStats | None, part: FactStats) -> FactStats:
    """``total + part`` computed in place (a recompute summing many articles): the same
    result as :func:`add`, without copying the total each time."""
    if total is None:
        total = {
            "articles": 0,
            "relations": [{} for _ in part["relations"]],
            "attributes": [{} for _ in part["attributes"]],
        }
    total["articles"] += part.get("articles", 1)
    for mine, theirs in zip(total["relations"], part["relations"], strict=True):
        for key, counts in theirs.items():
            base = mine.get(key)
            if base is None:
                mine[key] = list(counts)
            else:
                for n in range(5):
                    base[n] += counts[n]
    for mine, theirs in zip(total["attributes"], part["attributes"], strict=True):
        for key, entry in theirs.items():
            base = mine.get(key)
            if base is None:
                base = mine[key] = new_attribute_entry()
            _accumulate(base, entry)
    return total


def contribution(stats: FactStats) -> FactStats:
    """What one article adds to the total of its editor group."""
    return {"articles": 1, "relations": stats["relations"], "attributes": stats["attributes"]}


def add(total: FactStats | None, part: FactStats, sign: int = 1) -> FactStats:
    """``total + sign * part`` for totals and contributions; counts that fall to zero are
    dropped, so adding and subtracting gives exactly what a recompute gives."""
    if total is None:
        total = {
            "articles": 0,
            "relations": [{} for _ in part["relations"]],
            "attributes": [{} for _ in part["attributes"]],
        }
    return {
        "articles": total["articles"] + sign * part.get("articles", 1),
        "relations": [
            _add_pair(t, p, sign, False)
            for t, p in zip(total["relations"], part["relations"], strict=True)
        ],
        "attributes": [
            _add_pair(t, p, sign, True)
            for t, p in zip(total["attributes"], part["attributes"], strict=True)
        ],
    }


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True)
class FactRecord:
    """Statistics of one article, or the total of the articles of one editor group."""

    editors: Sequence[int]
    stats: Mapping


@dataclass(frozen=True)
class AttributeColumn:
    """An attribute of the current schema, as the report shows it."""

    name: str  # "CASUALTY.kind"
    type: str  # choice, integer, text, boolean
    label: int  # label id

    @property
    def level(self) -> str:
        return INTERVAL if self.type == "integer" else NOMINAL


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _f1(counts: Sequence[int]) -> dict[str, float | None]:
    return {
        "f1_exact": _round(
            measures.span_f1(counts[EXACT], counts[EXACT], counts[N_A], counts[N_B])
        ),
        "f1_overlap": _round(
            measures.span_f1(counts[OVER_A], counts[OVER_B], counts[N_A], counts[N_B])
        ),
    }


def attribute_measures(entry: Sequence, level: str) -> dict[str, object]:
    """Pairs, share equal, values only one editor gave, and alpha of one attribute's
    pooled statistics."""
    if level == INTERVAL:
        alpha = measures.krippendorff_alpha_interval_from_sums(
            entry[INT_PAIRS], entry[TOTAL], entry[SQUARES], entry[DIFFERENCES]
        )
    else:
        alpha = measures.krippendorff_alpha_nominal_from_counts(
            entry[PAIRS], entry[EQUAL], entry[VALUES].values()
        )
    return {
        "pairs": int(entry[PAIRS]),
        "agreement": _round(measures.ratio_or_none(entry[EQUAL], entry[PAIRS])),
        "krippendorff_alpha": _round(alpha),
        "one_given": int(entry[ONE_GIVEN]),
        "level": level,
    }


def _accumulate(total: list, part: Sequence) -> None:
    """``total += part`` in place for attribute statistics."""
    for n in range(VALUES):
        total[n] += part[n]
    values = total[VALUES]
    for code, count in part[VALUES].items():
        values[code] = values.get(code, 0) + count


class _Pooled:
    """Relation counts overall and per type, and attribute statistics, being summed."""

    def __init__(self, types: Iterable[str], attributes: Iterable[str]) -> None:
        self.overall = [0] * 5
        self.types = {key: [0] * 5 for key in types}
        self.attributes = {key: new_attribute_entry() for key in attributes}

    def relations(self) -> dict:
        return {
            **_f1(self.overall),
            "relations": self.overall[N_A] + self.overall[N_B],
            "types": {
                key: {**_f1(counts), "relations": counts[N_A] + counts[N_B]}
                for key, counts in self.types.items()
            },
        }

    def attribute_measures(self, shown: Mapping[str, AttributeColumn]) -> dict:
        return {
            column.name: {
                **attribute_measures(self.attributes[key], column.level),
                "type": column.type,
            }
            for key, column in shown.items()
        }


def build(
    records: Iterable[FactRecord],
    *,
    relation_types: Mapping[int, str],
    attributes: Mapping[str, AttributeColumn],
    labels: Collection[int] | None = None,
    editors: Collection[int] | None = None,
) -> dict:
    """The facts part of the report: ``relations`` and ``attributes`` (the API's shape) and
    ``pairs`` (per pair of editor ids: relation F1, and relations per type and attributes
    of that pair alone).

    `relation_types` maps the current types' ids to their keys, `attributes` the current
    attributes' stored keys (``"<label id>:<key>"``) to their columns; statistics of types
    or attributes no longer in the schema are left out. With `labels` (ids), only
    relations whose two ends have kept labels and attributes of kept labels count; with
    `editors` (ids), only pairs of kept editors.
    """
    shown = {
        key: column
        for key, column in attributes.items()
        if labels is None or column.label in labels
    }
    pooled = _Pooled(relation_types.values(), shown)
    pairs: dict[tuple[int, int], _Pooled] = {}
    for record in records:
        names = record.editors
        for p, (i, j) in enumerate(pair_indices(len(names))):
            a, b = names[i], names[j]
            if editors is not None and (a not in editors or b not in editors):
                continue
            pair = pairs.get((a, b))
            if pair is None:
                pair = pairs[(a, b)] = _Pooled(relation_types.values(), shown)
            for key, counts in record.stats["relations"][p].items():
                kind, from_label, to_label = (int(x) for x in key.split(":"))
                type_key = relation_types.get(kind)
                if type_key is None:
                    continue
                if labels is not None and (from_label not in labels or to_label not in labels):
                    continue
                for target in (pooled.overall, pooled.types[type_key], pair.overall):
                    for n in range(5):
                        target[n] += counts[n]
                for n in range(5):
                    pair.types[type_key][n] += counts[n]
            for key, entry in record.stats["attributes"][p].items():
                if key in shown:
                    _accumulate(pooled.attributes[key], entry)
                    _accumulate(pair.attributes[key], entry)
    return {
        "relations": pooled.relations(),
        "attributes": pooled.attribute_measures(shown),
        "pairs": {
            key: {
                "relation_f1_exact": _f1(pair.overall)["f1_exact"],
                "relation_f1_overlap": _f1(pair.overall)["f1_overlap"],
                "relations_a": pair.overall[N_A],
                "relations_b": pair.overall[N_B],
                "relation_types": pair.relations()["types"],
                "attributes": pair.attribute_measures(shown),
            }
            for key, pair in pairs.items()
        },
    }
