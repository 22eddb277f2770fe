"""W3C Web Annotation export (JSON-LD). Pure: no Django.

The output is one JSON-LD document: an ``AnnotationCollection`` (with its ``total``, the
number of annotations) whose one ``AnnotationPage`` (its ``id`` is the collection's followed
by ``:page:0``; it is both ``first`` and ``last``) holds one ``Annotation`` per span (https://www.w3.org/TR/annotation-model/):

- ``body``: a ``TextualBody`` whose value is the label key, purpose ``tagging``;
- ``target``: the article (its URL, or ``urn:x-annotate:<project>:article:<id>`` when it has
  none) with two selectors: ``TextPositionSelector`` ``{start, end}`` in code points, which
  is what the Web Annotation model counts, and ``TextQuoteSelector``
  ``{exact, prefix, suffix}`` with up to 32 characters of context on each side;
- ``creator``: the editor, or for gold the reviewer who wrote that gold version;
- ``id``: a URN naming project, article, annotation, version and span, stable across runs.

Facts: a span's attributes are a second body, a ``TextualBody`` with purpose ``describing``
and ``format`` ``application/json`` whose value is the attributes as JSON; a relation is an
``Annotation`` with motivation ``linking``, the relation type as its tagging body, and as
``target`` the ids of its two span annotations, from first.

The document is streamed: header, items separated by commas, footer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote

from .jsonl import dumps
from .records import ExportRecord

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
QUOTE_CONTEXT = 32


def _urn(*parts: object) -> str:
    return "urn:x-annotate:" + ":".join(quote(str(p), safe="-._~@+") for p in parts)


def target_source(record: ExportRecord, namespace: str) -> str:
    return record.get("url") or _urn(namespace, "article", record["article"])


def annotations(
    record: ExportRecord, *, namespace: str, generated: str
) -> Iterator[dict[str, object]]:
    """One Annotation per span of the record."""
    text = record["text"]
    source = target_source(record, namespace)
    who = record.get("annotator") if record["source"] == "editor" else record.get("adjudicator")
    owner = ("editor", who) if record["source"] == "editor" else ("gold",)

    def urn(*what: object) -> str:
        return _urn(namespace, "article", record["article"], *owner, f"v{record['version']}", *what)

    for index, span in enumerate(record["spans"]):
        start, end = span["start"], span["end"]
        body: object = {"type": "TextualBody", "purpose": "tagging", "value": span["label"]}
        if span.get("attributes"):
            body = [
                body,
                {
                    "type": "TextualBody",
                    "purpose": "describing",
                    "format": "application/json",
                    "value": dumps(span["attributes"]),  # type: ignore[typeddict-item]
                },
            ]
        annotation: dict[str, object] = {
            "id": urn("span", index),
            "type": "Annotation",
            "motivation": "tagging",
            "body": body,
            "target": {
                "source": source,
                "selector": [
                    {"type": "TextPositionSelector", "start": start, "end": end},
                    {
                        "type": "TextQuoteSelector",
                        "exact": text[start:end],
                        "prefix": text[max(0, start - QUOTE_CONTEXT) : start],
                        "suffix": text[end : end + QUOTE_CONTEXT],
                    },
                ],
            },
        }
        if who:
            annotation["creator"] = {"type": "Person", "nickname": who}
        annotation["generated"] = generated
        yield annotation
    for index, relation in enumerate(record.get("relations", [])):
        link: dict[str, object] = {
            "id": urn("relation", index),
            "type": "Annotation",
            "motivation": "linking",
            "body": {"type": "TextualBody", "purpose": "tagging", "value": relation["type"]},
            "target": [urn("span", relation["from"]), urn("span", relation["to"])],
        }
        if who:
            link["creator"] = {"type": "Person", "nickname": who}
        link["generated"] = generated
        yield link


def stream(
    records: Iterable[ExportRecord], *, namespace: str, label: str, generated: str
) -> Iterator[str]:
    """The collection as JSON text, one record's annotations per yielded string.

    `namespace` names the project in URNs; `generated` is the ISO 8601 time of the export
    (a release passes its creation time, so its downloads are byte-identical).
    """
    collection = _urn(namespace, "collection", "-".join(label.split()))
    page = f"{collection}:page:0"
    header = {
        "@context": CONTEXT,
        "id": collection,
        "type": "AnnotationCollection",
        "label": label,
        "generator": {"type": "Software", "name": "fact-labelling"},
        "generated": generated,
    }
    opening = {"id": page, "type": "AnnotationPage", "partOf": collection, "startIndex": 0}
    yield dumps(header)[:-1] + ',"first":' + dumps(opening)[:-1] + ',"items":[\n'
    total = 0
    for record in records:
        items = [dumps(a) for a in annotations(record, namespace=namespace, generated=generated)]
        if not items:
            continue
        yield ("" if total == 0 else ",\n") + ",\n".join(items)
        total += len(items)
    # The count is known only at the end: JSON-LD does not care where in the object the
    # collection's `total` and `last` stand, so they follow the one page.
    yield f'\n]}},"last":{dumps(page)},"total":{total}}}\n'
