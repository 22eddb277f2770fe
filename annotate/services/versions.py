"""Addressing annotation versions, so reports, gold decisions and exports can say which
versions they used and be reproduced later.

A version is addressed by ``(annotation id, number)`` for ever: versions are immutable and a
span's ``added_in``/``removed_in`` never change once set. Across a project the natural
address is ``article id`` and ``username`` (or ``"gold"``), which is what ``versions_used``
records in JSON and ``spans_for_versions`` reads back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import Q

from ..models import Annotation, Span

GOLD = "gold"
_CHUNK = 200

VersionsUsed = dict[str, dict[str, int]]


def versions_used(annotations: Iterable[Annotation]) -> VersionsUsed:
    """``{"<article id>": {"<username>" or "gold": version number}}`` for the annotations,
    as they are now (each annotation's head ``version``), keys sorted.

    At most one query (usernames of annotators not already loaded); none with
    ``select_related("annotator")``.
    """
    annotations = list(annotations)
    missing = {
        a.annotator_id
        for a in annotations
        if a.annotator_id is not None and not Annotation.annotator.is_cached(a)
    }
    names: dict[int, str] = {}
    if missing:
        names = dict(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
    result: dict[str, dict[str, int]] = {}
    for a in sorted(annotations, key=lambda a: (a.article_id, a.pk)):
        if a.kind == Annotation.Kind.GOLD:
            who = GOLD
        elif Annotation.annotator.is_cached(a):
            who = a.annotator.username
        else:
            who = names[a.annotator_id]
        result.setdefault(str(a.article_id), {})[who] = a.version
    return {article: dict(sorted(whos.items())) for article, whos in sorted(result.items())}


def spans_at_versions(refs: Mapping[int, int]) -> dict[int, list[Span]]:
    """The spans of many annotations, each at its own version: ``{annotation id: number}``
    in, ``{annotation id: spans in text order}`` out (one query per 200 annotations)."""
    result: dict[int, list[Span]] = {aid: [] for aid in refs}
    items = sorted(refs.items())
    for i in range(0, len(items), _CHUNK):
        chunk = items[i : i + _CHUNK]
        condition = reduce(
            or_,
            (
                Q(annotation_id=aid, added_in__lte=n)
                & (Q(removed_in__isnull=True) | Q(removed_in__gt=n))
                for aid, n in chunk
            ),
        )
        query = (
            Span.objects.filter(condition)
            .select_related("label")
            .order_by("annotation_id", "start", "end", "label__order", "label__key")
        )
        for span in query:
            result[span.annotation_id].append(span)
    return result


def spans_for_versions(used: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, list[Span]]]:
    """Read back what ``versions_used`` recorded: the same shape with the span lists.

    Articles or annotators that no longer exist are left out.
    """
    article_ids = [int(a) for a in used]
    annotations = Annotation.objects.filter(article_id__in=article_ids).select_related("annotator")
    refs: dict[int, int] = {}
    where: dict[int, tuple[str, str]] = {}
    for a in annotations:
        who = GOLD if a.kind == Annotation.Kind.GOLD else a.annotator.username
        number = used.get(str(a.article_id), {}).get(who)
        if number is not None:
            refs[a.pk] = int(number)
            where[a.pk] = (str(a.article_id), who)
    spans = spans_at_versions(refs)
    result: dict[str, dict[str, list[Span]]] = {}
    for aid, (article, who) in sorted(where.items(), key=lambda item: item[1]):
        result.setdefault(article, {})[who] = spans[aid]
    return result
