"""How facts read at a glance on the labelling page. Pure: no Django.

A casualty figure's attributes (``low``, ``high``, ``qualifier``, ``kind``) read as the
figure a newsroom would write: ``≥6 wounded``, ``10–15 killed``, ``~12 killed``, ``0``.
Other attributes read as their values, in the schema's order: ``civilians, confirmed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .schema import AttributeSpec

# The sign before a figure for each qualifier the proposals use (see proposals.Proposal).
QUALIFIER_SIGNS = {
    "exact": "",
    "at_least": "≥",
    "more_than": ">",
    "about": "~",
    "up_to": "≤",
}
MAX_SUMMARY_CHARS = 60


def _number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return f"{value:,}"


def figure_text(attributes: Mapping[str, object]) -> str:
    """The figure that `attributes` give, e.g. ``≥6 wounded``; "" when they give no ``low``.

    A range (``qualifier`` "range", or a ``high`` above ``low``) reads ``10–15``; a
    qualifier the page does not know reads as an exact figure; ``kind`` follows the number.
    """
    low = _number(attributes.get("low"))
    if low is None:
        return ""
    high = _number(attributes.get("high"))
    qualifier = attributes.get("qualifier")
    if high is not None and attributes.get("high") != attributes.get("low"):
        number = f"{low}–{high}"
    else:
        sign = QUALIFIER_SIGNS.get(qualifier, "") if isinstance(qualifier, str) else ""
        number = f"{sign}{low}"
    kind = attributes.get("kind")
    return f"{number} {kind}" if isinstance(kind, str) and kind else number


def _value_text(spec: AttributeSpec, value: object) -> str:
    if spec.type == "boolean":
        return spec.name.lower() if value is True else f"not {spec.name.lower()}"
    return str(value)


FIGURE_KEYS = frozenset({"low", "high", "qualifier", "kind"})


def attributes_text(attributes: Mapping[str, object], specs: Sequence[AttributeSpec] = ()) -> str:
    """Everything `attributes` give, at a glance: the figure first (:func:`figure_text`),
    then the other values in the schema's order (keys outside it last, as stored), joined
    by ", " and cut at MAX_SUMMARY_CHARS. "" when nothing is given."""
    figure = figure_text(attributes)
    parts = [figure] if figure else []
    skip = FIGURE_KEYS if figure else frozenset()
    by_key = {spec.key: spec for spec in specs}
    keys = [s.key for s in specs] + sorted(k for k in attributes if k not in by_key)
    for key in keys:
        value = attributes.get(key)
        if key in skip or value is None or value == "":
            continue
        spec = by_key.get(key)
        parts.append(_value_text(spec, value) if spec else f"{key}: {value}")
    text = ", ".join(parts)
    return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1] + "…"


def removed_relations_note(summary: Mapping | None) -> str:
    """What a version that deleted a span says about the relations that went with it, e.g.
    "Its 2 relations (SAID_BY, LOCATED_IN) were removed with it."; "" when none did."""
    relations = summary.get("relations") if isinstance(summary, Mapping) else None
    removed = relations.get("removed") if isinstance(relations, Mapping) else None
    if not isinstance(removed, Mapping):
        return ""
    counts = {k: v for k, v in removed.items() if isinstance(v, int) and v > 0}
    total = sum(counts.values())
    if not total:
        return ""
    kinds = ", ".join(sorted(counts))
    if total == 1:
        return f"Its relation ({kinds}) was removed with it."
    return f"Its {total} relations ({kinds}) were removed with it."
