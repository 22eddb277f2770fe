"""Additive agreement statistics: per article, per pair of editors, for many articles at once.

Pure: numpy only. Every chance-corrected coefficient in :mod:`.measures` is a function of
counts that add up over units, and so over articles:

- Cohen's kappa of a pair: its confusion matrix over units.
- Krippendorff's alpha: the coincidence matrix, a weighted sum of pairwise confusion
  matrices (weight ``1 / (m - 1)`` for an article with m editors).
- Fleiss' kappa: agreeing rater pairs (the confusion diagonals) and category totals.
- Span F1: spans per label and matched spans per label.
- Unitizing alpha: the summed squared distances of each pair of editors, and per editor
  the few sums its expected disagreement needs.

:func:`compute` produces, for every article, those counts as plain lists of integers
(JSON-ready). Nothing here loops over characters in Python: spans are turned into
boundaries, categories are piecewise constant between boundaries, and every count is a
sum over boundary segments, computed with sorted keys and ``searchsorted`` over all the
articles of a chunk at once. The cost is linear in the number of spans plus the numpy
tokenisation of the text. Where no editor's spans overlap one another (the usual case)
each span is a segment of its own and the per-label presence comes from the confusion
matrices, which halves the work.

:func:`compute_batch` is the engine: it takes many articles as flat arrays (a
:class:`Batch`, the shape the database gives) and yields the statistics chunk by chunk
with each article's score, so that a caller can write them as they come.

The layout of one article's statistics (K = labels + 1 categories, category 0 = "none";
pairs are (i, j), i < j, over the editors sorted by id, in lexicographic order)::

    units, length            units of the kind asked for; characters
    editors, versions        editor ids (sorted) and the annotation version of each
    confusion[pair]          K*K counts of units, row = editor i's category, col = j's
    presence[pair]           per label: units in i's spans, in j's spans, in both
    spans[pair]              per label: spans of i, spans of j, exact matches,
                             i's spans overlapped by a j span of the label, and j's
    overlaps[pair]           labels*labels: pairs of overlapping spans (i's label, j's)
    au_o[pair]               per label: unitizing alpha's summed squared distances
    au_n/au_f/au_q[editor]   per label: units, sum l(l-1)(2l-1)/3, sum l(l-1)
    au_x                     editors*editors*labels: sum over i's units of l^2 times
                             sum over j's gaps h >= l of (h - l + 1)
    au_e                     {editor subset: per label, unitizing alpha's expected sum}

The fields from ``spans`` on do not depend on the kind of unit: both units' dicts of an
article hold the same objects, in this order, last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from . import measures
from .units import CHAR, TOKEN, UNITS, tokenize_joined

AU_SCALE = 10**6  # expected unitizing sums are stored as integers in millionths
MAX_SUBSET_EDITORS = 6  # precompute unitizing expectations for every editor subset up to this


@dataclass(frozen=True)
class EditorSpans:
    """One editor's submitted annotation: spans as code-point offsets and label indices."""

    editor: int
    version: int
    starts: Sequence[int]
    ends: Sequence[int]
    labels: Sequence[int]


@dataclass(frozen=True)
class ArticleSpans:
    key: int
    text: str
    editors: Sequence[EditorSpans]


def pair_indices(editors: int) -> list[tuple[int, int]]:
    """The pairs (i, j), i < j, in the order the statistics list them."""
    return list(combinations(range(editors), 2))


# --- vectorised helpers ------------------------------------------------------------------


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo_i, hi_i): every (i, position) pair, in order."""
    counts = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(lo.size, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    position = lo[owner] + (np.arange(owner.size, dtype=np.int64) - first[owner])
    return owner, position


def _merge(
    track: np.ndarray, start: np.ndarray, end: np.ndarray, big: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge intervals that share a position, within each track; sorted by (track, start).

    Adjacent intervals ([0, 5) and [5, 9)) stay apart."""
    if track.size == 0:
        return track, start, end
    order = np.argsort(track * big + start)
    t, s, e = track[order], start[order], end[order]
    running = np.maximum.accumulate(t * big + e)
    new = np.ones(t.size, dtype=bool)
    new[1:] = (t[1:] * big + s[1:]) >= running[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:], t.size) - 1
    return t[first], s[first], running[last] - t[first] * big


def _overlapping(
    query_track: np.ndarray,
    query_start: np.ndarray,
    query_end: np.ndarray,
    target_track: np.ndarray,
    target_start: np.ndarray,
    target_end: np.ndarray,
    big: int,
) -> tuple[np.ndarray, np.ndarray]:
    """For each query interval, the index range of target intervals in `query_track` that
    overlap it. Targets are disjoint and sorted by (track, start), so their ends are sorted
    too."""
    lo = np.searchsorted(target_track * big + target_end, query_track * big + query_start, "right")
    hi = np.searchsorted(target_track * big + target_start, query_track * big + query_end, "left")
    return lo, np.maximum(hi, lo)


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (numpy's hash-based unique is slower for large int arrays)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _sum_by(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, keys, values.astype(np.int64))
    return out


# --- the engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Many articles' submitted annotations as flat arrays, the shape a database query gives.

    Article ``i`` was submitted by ``editors[i]`` (ids, ascending) at ``versions[i]``. The
    raters are all the articles' editors in that order, numbered from 0; span ``n`` is
    rater ``rater[n]``'s, from ``starts[n]`` to ``ends[n]`` (code points) with label index
    ``labels[n]``, in any order.
    """

    keys: Sequence[int]
    texts: Sequence[str]
    editors: Sequence[Sequence[int]]
    versions: Sequence[Sequence[int]]
    rater: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class Chunk:
    """The statistics of some consecutive articles of a batch (see :func:`compute_batch`)."""

    keys: list[int]
    stats: dict[str, list[dict]]
    scores: dict[str, list[float | None]]
    totals: dict[str, dict[tuple[int, ...], dict]]


def batch_of(articles: Iterable[ArticleSpans]) -> Batch:
    """The :class:`Batch` of `articles` (each article's editors put in id order)."""
    keys, texts, editors, versions = [], [], [], []
    rater: list[np.ndarray] = []
    starts: list[Sequence[int]] = []
    ends: list[Sequence[int]] = []
    labels: list[Sequence[int]] = []
    for article in articles:
        keys.append(article.key)
        texts.append(article.text)
        ordered = sorted(article.editors, key=lambda e: e.editor)
        editors.append([e.editor for e in ordered])
        versions.append([e.version for e in ordered])
        for ed in ordered:
            rater.append(np.full(len(ed.starts), len(rater), dtype=np.int64))
            starts.append(ed.starts)
            ends.append(ed.ends)
            labels.append(ed.labels)

    def flat(parts: list) -> np.ndarray:
        return np.concatenate([np.asarray(p, dtype=np.int64) for p in parts] or [_EMPTY])

    return Batch(
        keys, texts, editors, versions, flat(rater), flat(starts), flat(ends), flat(labels)
    )


_EMPTY = np.zeros(0, dtype=np.int64)


def compute(
    articles: Iterable[ArticleSpans],
    n_labels: int,
    units: Sequence[str] = UNITS,
    *,
    chunk_chars: int = 300_000,
) -> dict[str, list[dict]]:
    """Agreement statistics of every article, for each kind of unit asked for (module
    docstring for the layout): ``{unit: [stats of article 1, ...]}``.

    Articles need at least two editors each. Labels are indices ``0 .. n_labels - 1``.
    Work proceeds in chunks of about `chunk_chars` characters, which bounds memory; what
    does not depend on the unit (span matches, unitizing sums) is computed once.
    """
    result: dict[str, list[dict]] = {unit: [] for unit in units}
    for batch in _batches(articles):
        for chunk in compute_batch(batch, n_labels, units, chunk_chars=chunk_chars):
            for unit in units:
                result[unit].extend(chunk.stats[unit])
    return result


def compute_with_totals(
    articles: Iterable[ArticleSpans],
    n_labels: int,
    units: Sequence[str] = UNITS,
    *,
    chunk_chars: int = 300_000,
) -> tuple[dict[str, list[dict]], dict[str, dict[tuple[int, ...], dict]]]:
    """:func:`compute`, plus the totals of every editor group (what :func:`add` of every
    article's :func:`contribution` gives, summed with numpy): ``{unit: {editors: total}}``."""
    result: dict[str, list[dict]] = {unit: [] for unit in units}
    summed: dict[str, dict[tuple[int, ...], dict]] = {unit: {} for unit in units}
    for batch in _batches(articles):
        for chunk in compute_batch(batch, n_labels, units, chunk_chars=chunk_chars, totals=True):
            for unit in units:
                result[unit].extend(chunk.stats[unit])
                for group, total in chunk.totals[unit].items():
                    summed[unit][group] = add(summed[unit].get(group), total)
    return result, summed


def _batches(articles: Iterable[ArticleSpans], size: int = 1_000) -> Iterator[Batch]:
    """The articles as batches of `size` (so that memory does not grow with their
    number), or one empty batch."""
    group: list[ArticleSpans] = []
    sent = False
    for article in articles:
        group.append(article)
        if len(group) == size:
            yield batch_of(group)
            group, sent = [], True
    if group or not sent:
        yield batch_of(group)


def compute_batch(
    batch: Batch,
    n_labels: int,
    units: Sequence[str] = UNITS,
    *,
    chunk_chars: int = 300_000,
    totals: bool = False,
) -> Iterator[Chunk]:
    """:func:`compute` on a :class:`Batch`, chunk by chunk as they are done, with each
    article's score (Krippendorff's alpha over its units, as :func:`.report.article_alpha`
    gives it) and, with `totals`, each chunk's editor-group totals."""
    for unit in units:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    if n_labels < 1:
        raise ValueError("At least one label is needed.")
    per_article = np.array([len(e) for e in batch.editors], dtype=np.int64)
    if (per_article < 2).any():
        raise ValueError("Every article needs at least two editors to compare.")
    lengths = np.array([len(text) for text in batch.texts], dtype=np.int64)
    r_off = np.concatenate(([0], np.cumsum(per_article)))
    r_art = np.repeat(np.arange(len(batch.keys)), per_article)
    sr, s, e, lab = (
        np.asarray(values, dtype=np.int64)
        for values in (batch.rater, batch.starts, batch.ends, batch.labels)
    )
    if s.size and (
        (sr < 0).any()
        or (sr >= r_art.size).any()
        or (s < 0).any()
        or (e <= s).any()
        or (e > lengths[r_art[sr]]).any()
        or (lab < 0).any()
        or (lab >= n_labels).any()
    ):
        raise ValueError("A span lies outside its article or has an unknown label.")
    # One editor cannot hold the same span twice; drop repeats, sort by (editor, start, end).
    big = int(lengths.max()) + 1 if lengths.size else 1
    if r_art.size * big * big * n_labels < 2**63:
        key = ((sr * big + s) * big + e) * n_labels + lab
        order = np.argsort(key)
        key = key[order]
        keep = np.ones(key.size, dtype=bool)
        keep[1:] = key[1:] != key[:-1]
    else:
        order = np.lexsort((lab, e, s, sr))
        keep = np.ones(order.size, dtype=bool)
        keep[1:] = (
            (np.diff(sr[order]) != 0)
            | (np.diff(s[order]) != 0)
            | (np.diff(e[order]) != 0)
            | (np.diff(lab[order]) != 0)
        )
    order = order[keep]
    sr, s, e, lab = sr[order], s[order], e[order], lab[order]
    span_first = np.searchsorted(sr, r_off)
    # Chunks end at the first article that brings them to `chunk_chars` (text plus one).
    ends_at = np.cumsum(lengths + 1)
    first = 0
    while first < len(batch.keys):
        reached = ends_at[first - 1] + chunk_chars if first else chunk_chars
        last = min(int(np.searchsorted(ends_at, reached, "left")) + 1, len(batch.keys))
        r0, s0, s1 = r_off[first], span_first[first], span_first[last]
        yield _compute_chunk(
            batch,
            slice(first, last),
            per_article[first:last],
            lengths[first:last],
            (sr[s0:s1] - r0, s[s0:s1], e[s0:s1], lab[s0:s1]),
            n_labels,
            units,
            totals,
        )
        first = last


def _pairs(per_article: np.ndarray, r_off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The raters of every pair of every article (:func:`pair_indices` order)."""
    p_off = np.concatenate(([0], np.cumsum(per_article * (per_article - 1) // 2)))
    pa = np.zeros(int(p_off[-1]), dtype=np.int64)
    pb = np.zeros(int(p_off[-1]), dtype=np.int64)
    for m in np.unique(per_article).tolist():
        arts = np.flatnonzero(per_article == m)
        template = np.array(pair_indices(m), dtype=np.int64).reshape(-1, 2)
        rows = p_off[arts][:, None] + np.arange(len(template))
        pa[rows] = r_off[arts][:, None] + template[:, 0]
        pb[rows] = r_off[arts][:, None] + template[:, 1]
    return pa, pb


def _compute_chunk(
    batch: Batch,
    part: slice,
    per_article: np.ndarray,
    lengths: np.ndarray,
    spans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_labels: int,
    units: Sequence[str],
    totals: bool,
) -> Chunk:
    nl = n_labels
    k = nl + 1
    keys = list(batch.keys[part])
    texts = batch.texts[part]
    editors = [list(group) for group in batch.editors[part]]
    versions = [list(group) for group in batch.versions[part]]
    n_articles = len(keys)
    r_off = np.concatenate(([0], np.cumsum(per_article)))
    n_raters = int(r_off[-1])
    r_art = np.repeat(np.arange(n_articles), per_article)
    sr, s, e, lab = spans
    big_c = int(lengths.max()) + 2

    pa, pb = _pairs(per_article, r_off)
    p_art = r_art[pa]
    p_off = np.concatenate(([0], np.cumsum(per_article * (per_article - 1) // 2)))
    n_pairs = pa.size

    span_counts, overlaps = _span_matches(sr, s, e, lab, nl, n_raters, pa, pb, big_c)
    merged_chars = _merge(sr * nl + lab, s, e, big_c)
    au_o, au_n, au_f, au_q, au_x, x_base = _unitizing(
        merged_chars, nl, n_raters, r_art, r_off, per_article, lengths, pa, pb, big_c
    )
    au_by_size = _expected_by_subset(
        au_n, au_f, au_q, au_x, x_base, r_off, per_article, lengths, nl
    )
    au_e: list[dict[str, list[int]]] = [{} for _ in range(n_articles)]
    for arts, by_subset in au_by_size.values():
        for key, fixed in by_subset.items():
            for a, values in zip(arts.tolist(), fixed.tolist(), strict=True):
                au_e[a][key] = values
    groups = _Groups(editors, per_article, p_off, au_by_size) if totals else None
    pair_arrays = {
        "spans": span_counts.reshape(n_pairs, nl * 5),
        "overlaps": overlaps.reshape(n_pairs, nl * nl),
        "au_o": au_o.reshape(n_pairs, nl),
    }
    shared = {
        "spans": _split(span_counts.reshape(n_pairs, nl * 5).tolist(), p_off),
        "overlaps": _split(overlaps.reshape(n_pairs, nl * nl).tolist(), p_off),
        "au_o": _split(au_o.reshape(n_pairs, nl).tolist(), p_off),
        "au_n": _split(au_n.reshape(n_raters, nl).tolist(), r_off),
        "au_f": _split(au_f.reshape(n_raters, nl).tolist(), r_off),
        "au_q": _split(au_q.reshape(n_raters, nl).tolist(), r_off),
        "au_x": _split(au_x.tolist(), x_base),
    }

    stats: dict[str, list[dict]] = {}
    scores: dict[str, list[float | None]] = {}
    group_totals: dict[str, dict[tuple[int, ...], dict]] = {}
    for unit in units:
        if unit == CHAR:
            n_units = lengths
            us, ue = s, e
        else:
            tok_s, tok_e, char_off, tok_off = tokenize_joined(texts)
            n_units = np.diff(tok_off)
            base = char_off[r_art[sr]]
            first = np.searchsorted(tok_e, s + base, "right")
            last = np.maximum(np.searchsorted(tok_s, e + base, "left"), first)
            us = first - tok_off[r_art[sr]]
            ue = last - tok_off[r_art[sr]]
        big_u = int(n_units.max()) + 2
        valid = ue > us
        vr, vs, ve, vl = sr[valid], us[valid], ue[valid], lab[valid]
        nested = bool(((vr[1:] == vr[:-1]) & (vs[1:] < ve[:-1])).any())
        confusion, per_category = _confusion(
            vr, vs, ve, vl, n_raters, r_art, n_units, pa, pb, p_art, k, big_u, nested
        )
        if nested:
            merged = merged_chars if unit == CHAR else _merge(vr * nl + vl, vs, ve, big_u)
            presence = _presence(merged, nl, n_raters, pa, pb, big_u)
        else:
            # Without overlapping spans, a label's units are its spans' and the units in
            # both editors' spans of a label are the confusion matrix's diagonal.
            same = np.diagonal(confusion.reshape(n_pairs, k, k), axis1=1, axis2=2)[:, 1:]
            presence = np.stack((per_category[pa, 1:], per_category[pb, 1:], same), axis=2)
        confusion_l = _split(confusion.tolist(), p_off)
        presence_l = _split(presence.reshape(n_pairs, nl * 3).tolist(), p_off)
        n_units_l = n_units.tolist()
        lengths_l = lengths.tolist()
        stats[unit] = [
            {
                "units": n_units_l[a],
                "length": lengths_l[a],
                "editors": editors[a],
                "versions": versions[a],
                "confusion": confusion_l[a],
                "presence": presence_l[a],
                **{name: values[a] for name, values in shared.items()},
                "au_e": au_e[a],
            }
            for a in range(n_articles)
        ]
        scores[unit] = _alphas(confusion, per_article, p_off, k)
        if groups is not None:
            group_totals[unit] = groups.sum(
                {
                    "confusion": confusion,
                    "presence": presence.reshape(n_pairs, nl * 3),
                    **pair_arrays,
                },
                n_units,
                lengths,
            )
        else:
            group_totals[unit] = {}
    return Chunk(keys, stats, scores, group_totals)


def _alphas(
    confusion: np.ndarray, per_article: np.ndarray, p_off: np.ndarray, k: int
) -> list[float | None]:
    """Each article's Krippendorff's alpha over its units, from its pairs' confusion
    matrices: the value :func:`.report.article_alpha` gives with every editor and label.

    With two or three editors every coincidence is a multiple of 1/2, so all the sums are
    exact and the vectorised computation gives the very same floats; with more editors
    (rare), the reference computation runs article by article.
    """
    result: list[float | None] = [None] * per_article.size
    for m in np.unique(per_article).tolist():
        arts = np.flatnonzero(per_article == m)
        n_pairs = m * (m - 1) // 2
        rows = p_off[arts][:, None] + np.arange(n_pairs)
        matrices = confusion[rows].reshape(arts.size, n_pairs, k, k)
        summed = (matrices + matrices.transpose(0, 1, 3, 2)).sum(axis=1)
        if m <= 3 and int(summed.sum(axis=(1, 2)).max()) < 2**25:
            alphas = measures.krippendorff_alphas_nominal(summed / (m - 1))
        else:
            alphas = [
                measures.krippendorff_alpha_nominal(
                    measures.coincidence_from_pairs(list(pairs.astype(np.float64)), m)
                )
                for pairs in matrices
            ]
        for a, alpha in zip(arts.tolist(), alphas, strict=True):
            result[a] = alpha
    return result


class _Groups:
    """Sums a chunk's per-pair arrays over the articles of each editor group, with numpy."""

    def __init__(self, editors, per_article, p_off, au_by_size) -> None:
        index: dict[tuple[int, ...], int] = {}
        ids = [index.setdefault(tuple(group), len(index)) for group in editors]
        self.keys: list[tuple[int, ...]] = list(index)
        self.group = np.array(ids, dtype=np.int64)
        self.per_article = per_article
        self.p_off = p_off
        self.au_by_size = au_by_size

    def sum(self, arrays: dict[str, np.ndarray], n_units, lengths) -> dict[tuple[int, ...], dict]:
        out: dict[tuple[int, ...], dict] = {}
        for m, (arts, by_subset) in self.au_by_size.items():
            groups, inverse = np.unique(self.group[arts], return_inverse=True)
            n_pairs = m * (m - 1) // 2
            rows = self.p_off[arts][:, None] + np.arange(n_pairs)
            sums = {}
            for name, array in arrays.items():
                acc = np.zeros((groups.size, n_pairs, array.shape[1]), dtype=np.int64)
                np.add.at(acc, inverse, array[rows])
                sums[name] = acc.tolist()
            au = {}
            for key, fixed in by_subset.items():
                acc = np.zeros((groups.size, fixed.shape[1]), dtype=np.int64)
                np.add.at(acc, inverse, fixed)
                au[key] = acc.tolist()
            counts = np.bincount(inverse, minlength=groups.size).tolist()
            unit_sums = _sum_by(inverse, n_units[arts], groups.size).tolist()
            length_sums = _sum_by(inverse, lengths[arts], groups.size).tolist()
            for i, g in enumerate(groups.tolist()):
                out[self.keys[g]] = {
                    "articles": counts[i],
                    "units": unit_sums[i],
                    "length": length_sums[i],
                    **{name: values[i] for name, values in sums.items()},
                    "au_e": {key: values[i] for key, values in au.items()},
                }
        return out


def _split(rows: list, offsets: np.ndarray) -> list[list]:
    bounds = offsets.tolist()
    return [rows[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]


def _expected_by_subset(au_n, au_f, au_q, au_x, x_base, r_off, per_article, lengths, nl):
    """Unitizing alpha's expected sums (millionths) for every stored editor subset of every
    article, vectorised over the articles that have the same number of editors:
    ``{m: (articles with m editors, {subset key: array articles × labels})}``."""
    result: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    n = au_n.reshape(-1, nl)
    f = au_f.reshape(-1, nl)
    q = au_q.reshape(-1, nl)
    for m in np.unique(per_article).tolist():
        arts = np.flatnonzero(per_article == m)
        by_subset: dict[str, np.ndarray] = {}
        result[m] = (arts, by_subset)
        first = r_off[arts]
        x = au_x[x_base[arts][:, None] + np.arange(m * m * nl)].reshape(arts.size, m, m, nl)
        length = lengths[arts].astype(np.float64)[:, None]
        for subset in subsets_to_store(m):
            rows = first[:, None] + np.array(subset)
            size = len(subset)
            n_sum = n[rows].sum(axis=1).astype(np.float64)
            f_sum = f[rows].sum(axis=1).astype(np.float64)
            q_sum = q[rows].sum(axis=1).astype(np.float64)
            x_sum = x[:, list(subset)][:, :, list(subset)].sum(axis=(1, 2)).astype(np.float64)
            denominator = size * length * (size * length - 1) - q_sum
            numerator = size * (size - 1) * length * ((n_sum - 1) * f_sum + x_sum)
            safe = np.where(denominator > 0, denominator, 1.0)
            expected = np.where(denominator > 0, numerator / safe, 0.0)
            by_subset[subset_key(subset)] = np.rint(expected * AU_SCALE).astype(np.int64)
    return result


def _confusion(vr, vs, ve, vl, n_raters, r_art, n_units, pa, pb, p_art, k, big, nested):
    """Pairwise confusion matrices over units, with the innermost-span rule, and each
    editor's units per category. Spans are sorted by (editor, start); `nested` says
    whether any two of an editor's spans overlap."""
    if nested:
        tr, ts, te, tv = _innermost(vr, vs, ve, vl, n_raters, r_art, n_units, k, big)
    else:
        tr, ts, te, tv = vr, vs, ve, vl + 1  # each span is a segment of its own label
    totals = _sum_by(tr * k + tv, te - ts, n_raters * k).reshape(n_raters, k)

    # Labelled segments of i against those of j; the "none" row and column by difference.
    n_pairs = pa.size
    track_first = np.searchsorted(tr, np.arange(n_raters + 1))
    owner, qi = _expand(track_first[pa], track_first[pa + 1])
    lo, hi = _overlapping(pb[owner], ts[qi], te[qi], tr, ts, te, big)
    own2, ti = _expand(lo, hi)
    query = qi[own2]
    inter = np.minimum(te[query], te[ti]) - np.maximum(ts[query], ts[ti])
    slot = owner[own2] * k * k + tv[query] * k + tv[ti]
    confusion = _sum_by(slot, inter, n_pairs * k * k).reshape(n_pairs, k, k)
    both = confusion[:, 1:, 1:]
    confusion[:, 1:, 0] = totals[pa, 1:] - both.sum(axis=2)
    confusion[:, 0, 1:] = totals[pb, 1:] - both.sum(axis=1)
    confusion[:, 0, 0] = n_units[p_art] - confusion.sum(axis=(1, 2))
    return confusion.reshape(n_pairs, k * k), totals


def _innermost(vr, vs, ve, vl, n_raters, r_art, n_units, k, big):
    """Each editor's labelled segments (editor, start, end, category), sorted: between
    consecutive span boundaries the category is constant, that of the innermost span."""
    tail = ve < n_units[r_art[vr]]
    bounds = _unique(
        np.concatenate((np.arange(n_raters) * big, vr * big + vs, vr[tail] * big + ve[tail]))
    )
    value = np.zeros(bounds.size, dtype=np.int64)
    lo = np.searchsorted(bounds, vr * big + vs)
    hi = np.searchsorted(bounds, vr * big + ve)
    owner, segment = _expand(lo, hi)
    if owner.size:
        key = (ve - vs)[owner] * k + vl[owner]  # shortest first, then first label
        innermost = np.full(bounds.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(innermost, segment, key)
        covered = np.flatnonzero(innermost < np.iinfo(np.int64).max)
        value[covered] = innermost[covered] % k + 1
    rater = bounds // big
    seg_start = bounds % big
    same_next = np.zeros(bounds.size, dtype=bool)
    same_next[:-1] = rater[1:] == rater[:-1]
    seg_end = np.where(same_next, np.append(seg_start[1:], 0), n_units[r_art[rater]])
    marked = value > 0
    return rater[marked], seg_start[marked], seg_end[marked], value[marked]


def _presence(merged, nl, n_raters, pa, pb, big):
    """Per pair and label: units inside i's spans of the label, inside j's, inside both,
    from each editor's spans of each label merged (:func:`_merge` of tracks editor × label)."""
    mt, ms, me = merged
    covered = _sum_by(mt, me - ms, n_raters * nl).reshape(n_raters, nl)
    track_first = np.searchsorted(mt, np.arange(n_raters * nl + 1))
    owner, qi = _expand(track_first[pa * nl], track_first[(pa + 1) * nl])
    q_label = mt[qi] % nl
    lo, hi = _overlapping(pb[owner] * nl + q_label, ms[qi], me[qi], mt, ms, me, big)
    own2, ti = _expand(lo, hi)
    query = qi[own2]
    inter = np.minimum(me[query], me[ti]) - np.maximum(ms[query], ms[ti])
    both = _sum_by(owner[own2] * nl + q_label[own2], inter, pa.size * nl).reshape(pa.size, nl)
    return np.stack((covered[pa], covered[pb], both), axis=2)


def _span_matches(sr, s, e, lab, nl, n_raters, pa, pb, big):
    """Per pair and label: span counts, exact and overlap matches; and the label overlap
    matrix. Spans are sorted by (editor, start)."""
    n_pairs = pa.size
    n_spans = s.size
    per_label = _sum_by(sr * nl + lab, np.ones(n_spans, dtype=np.int64), n_raters * nl)
    per_label = per_label.reshape(n_raters, nl)
    longest = np.zeros(n_raters, dtype=np.int64)
    if n_spans:
        np.maximum.at(longest, sr, e - s)
    span_first = np.searchsorted(sr, np.arange(n_raters + 1))
    owner, ai = _expand(span_first[pa], span_first[pa + 1])
    rb = pb[owner]
    keys = sr * big + s
    # A span of j overlapping span ai starts after s[ai] - longest[j] and before e[ai].
    lo = np.searchsorted(keys, rb * big + np.maximum(s[ai] - longest[rb] + 1, 0), "left")
    hi = np.maximum(np.searchsorted(keys, rb * big + e[ai], "left"), lo)
    own2, bj = _expand(lo, hi)
    ai2 = ai[own2]
    hit = e[bj] > s[ai2]
    pair, ai2, bj = owner[own2][hit], ai2[hit], bj[hit]
    overlaps = _sum_by(
        pair * nl * nl + lab[ai2] * nl + lab[bj], np.ones(pair.size), n_pairs * nl * nl
    )
    same = lab[ai2] == lab[bj]
    exact = same & (s[ai2] == s[bj]) & (e[ai2] == e[bj])
    exact_n = _sum_by(pair[exact] * nl + lab[ai2][exact], np.ones(int(exact.sum())), n_pairs * nl)
    matched_a = _unique(pair[same] * max(n_spans, 1) + ai2[same])
    matched_b = _unique(pair[same] * max(n_spans, 1) + bj[same])
    over_a = _sum_by(
        (matched_a // max(n_spans, 1)) * nl + lab[matched_a % max(n_spans, 1)],
        np.ones(matched_a.size),
        n_pairs * nl,
    )
    over_b = _sum_by(
        (matched_b // max(n_spans, 1)) * nl + lab[matched_b % max(n_spans, 1)],
        np.ones(matched_b.size),
        n_pairs * nl,
    )
    counts = np.stack(
        (
            per_label[pa],
            per_label[pb],
            exact_n.reshape(n_pairs, nl),
            over_a.reshape(n_pairs, nl),
            over_b.reshape(n_pairs, nl),
        ),
        axis=2,
    )
    return counts, overlaps.reshape(n_pairs, nl, nl)


def _unitizing(merged, nl, n_raters, r_art, r_off, per_article, lengths, pa, pb, big):
    """Krippendorff's unitizing alpha sums on characters (see measures.alpha_u_*), from
    each editor's spans of each label merged."""
    n_pairs = pa.size
    n_tracks = n_raters * nl
    mt, ms, me = merged
    ml = me - ms
    track_first = np.searchsorted(mt, np.arange(n_tracks + 1))

    # Observed: overlapping units (squared start and end differences), plus units that no
    # unit of the other editor touches (squared length: they lie inside a gap).
    observed = np.zeros(n_pairs * nl, dtype=np.int64)
    for this, other, count_overlaps in ((pa, pb, True), (pb, pa, False)):
        owner, qi = _expand(track_first[this * nl], track_first[(this + 1) * nl])
        q_label = mt[qi] % nl
        lo, hi = _overlapping(other[owner] * nl + q_label, ms[qi], me[qi], mt, ms, me, big)
        slot = owner * nl + q_label
        alone = hi == lo
        np.add.at(observed, slot[alone], (ml[qi][alone] ** 2).astype(np.int64))
        if count_overlaps:
            own2, ti = _expand(lo, hi)
            query = qi[own2]
            distance = (ms[query] - ms[ti]) ** 2 + (me[query] - me[ti]) ** 2
            np.add.at(observed, slot[own2], distance.astype(np.int64))

    au_n = _sum_by(mt, np.ones(mt.size), n_tracks)
    au_f = _sum_by(mt, ml * (ml - 1) * (2 * ml - 1) // 3, n_tracks)
    au_q = _sum_by(mt, ml * (ml - 1), n_tracks)

    # Gaps of every track: before each unit, and after the last (or the whole article).
    track_length = lengths[r_art[np.arange(n_tracks) // nl]]
    previous_end = np.zeros(mt.size, dtype=np.int64)
    if mt.size:
        previous_end[1:] = np.where(mt[1:] == mt[:-1], me[:-1], 0)
    last = np.ones(mt.size, dtype=bool)
    last[:-1] = mt[1:] != mt[:-1]
    tail_end = np.zeros(n_tracks, dtype=np.int64)
    tail_end[mt[last]] = me[last]
    gap_track = np.concatenate((mt, np.arange(n_tracks)))
    gap_length = np.concatenate((ms - previous_end, track_length - tail_end))
    useful = gap_length > 0
    gap_key = np.sort(gap_track[useful] * big + gap_length[useful])
    gap_len_sorted = gap_key % big
    gap_cum = np.concatenate(([0], np.cumsum(gap_len_sorted)))
    gap_first = np.searchsorted(gap_key, np.arange(n_tracks + 1) * big)

    # Cross term: each unit against the gaps of every editor of its article (itself too).
    unit_rater = mt // nl
    unit_label = mt % nl
    art = r_art[unit_rater]
    owner, partner = _expand(r_off[art], r_off[art + 1])
    length = ml[owner]
    track = partner * nl + unit_label[owner]
    at = np.searchsorted(gap_key, track * big + length, "left")
    end = gap_first[track + 1]
    at = np.minimum(at, end)
    longer = end - at
    longer_sum = gap_cum[end] - gap_cum[at]
    cross = length * length * (longer_sum - (length - 1) * longer)
    x_sizes = per_article * per_article * nl
    x_base = np.concatenate(([0], np.cumsum(x_sizes)))
    m_art = per_article[art[owner]]
    e_local = unit_rater[owner] - r_off[art[owner]]
    f_local = partner - r_off[art[owner]]
    slot = x_base[art[owner]] + (e_local * m_art + f_local) * nl + unit_label[owner]
    au_x = _sum_by(slot, cross, int(x_base[-1]))
    return observed.reshape(n_pairs, nl), au_n, au_f, au_q, au_x, x_base


# --- using stored statistics -------------------------------------------------------------


def subsets_to_store(editors: int) -> list[tuple[int, ...]]:
    """Editor subsets whose unitizing expectation a total keeps (all of size >= 2 up to
    MAX_SUBSET_EDITORS editors, else only the full set)."""
    if editors > MAX_SUBSET_EDITORS:
        return [tuple(range(editors))]
    return [
        subset for size in range(2, editors + 1) for subset in combinations(range(editors), size)
    ]


def subset_key(subset: Iterable[int]) -> str:
    return ",".join(str(i) for i in subset)


def expected_au(stats: dict, subset: Sequence[int]) -> list[int]:
    """Unitizing alpha's expected sum per label for the editors `subset` (indices into
    ``stats["editors"]``), in millionths (see measures.alpha_u_expected_from_parts).
    Stored for the usual subsets (``stats["au_e"]``); computed here for the others."""
    stored = stats.get("au_e", {}).get(subset_key(subset))
    if stored is not None:
        return stored
    n_labels = len(stats["au_n"][0])
    m = len(stats["editors"])
    length = float(stats["length"])
    size = len(subset)
    result = []
    for label in range(n_labels):
        n = float(sum(stats["au_n"][i][label] for i in subset))
        f = float(sum(stats["au_f"][i][label] for i in subset))
        q = float(sum(stats["au_q"][i][label] for i in subset))
        x = float(
            sum(stats["au_x"][(i * m + j) * n_labels + label] for i in subset for j in subset)
        )
        denominator = size * length * (size * length - 1) - q
        expected = size * (size - 1) * length * ((n - 1) * f + x) / denominator
        result.append(round(expected * AU_SCALE) if denominator > 0 else 0)
    return result


PAIR_FIELDS = ("confusion", "presence", "spans", "overlaps", "au_o")


def contribution(stats: dict) -> dict:
    """What one article adds to the total of its editor group."""
    return {
        "articles": 1,
        "units": stats["units"],
        "length": stats["length"],
        **{name: stats[name] for name in PAIR_FIELDS},
        "au_e": stats["au_e"],
    }


def _add_lists(a: list, b: list, sign: int) -> list:
    return [
        _add_lists(x, y, sign) if isinstance(x, list) else x + sign * y
        for x, y in zip(a, b, strict=True)
    ]


def add(total: dict | None, part: dict, sign: int = 1) -> dict:
    """``total + sign * part`` for totals and contributions (exact: all integers)."""
    if total is None:
        total = {
            "articles": 0,
            "units": 0,
            "length": 0,
            **{name: [[0] * len(row) for row in part[name]] for name in PAIR_FIELDS},
            "au_e": {},
        }
    result = {
        "articles": total["articles"] + sign * part["articles"],
        "units": total["units"] + sign * part["units"],
        "length": total["length"] + sign * part["length"],
    }
    for name in PAIR_FIELDS:
        result[name] = _add_lists(total[name], part[name], sign)
    au_e = dict(total["au_e"])
    for key, values in part["au_e"].items():
        base = au_e.get(key, [0] * len(values))
        au_e[key] = [x + sign * y for x, y in zip(base, values, strict=True)]
    result["au_e"] = au_e
    return result


def align(stats: dict, old: Sequence[int], new: Sequence[int]) -> dict:
    """Re-index per-label statistics from label list `old` to `new` (label ids).

    Labels only in `new` get zero counts (nobody could use them); units of labels only in
    `old` count as "none" in the confusion matrices.
    """
    if list(old) == list(new):
        return stats
    where = {label: i for i, label in enumerate(old)}
    pick = [where.get(label) for label in new]
    n_old, n_new = len(old), len(new)
    k_old = n_old + 1
    category = [0] + [pick.index(i) + 1 if i in pick else 0 for i in range(n_old)]

    def per_label(row: list, width: int) -> list:
        out = []
        for i in pick:
            out.extend(row[i * width : (i + 1) * width] if i is not None else [0] * width)
        return out

    def confusion(row: list) -> list:
        out = [0] * ((n_new + 1) ** 2)
        for c in range(k_old):
            for d in range(k_old):
                out[category[c] * (n_new + 1) + category[d]] += row[c * k_old + d]
        return out

    def overlaps(row: list) -> list:
        return [
            row[i * n_old + j] if i is not None and j is not None else 0 for i in pick for j in pick
        ]

    result = dict(stats)
    per_label_fields = {"presence": 3, "spans": 5, "au_o": 1}
    if "confusion" in stats:
        result["confusion"] = [confusion(row) for row in stats["confusion"]]
    for name, width in per_label_fields.items():
        if name in stats:
            result[name] = [per_label(row, width) for row in stats[name]]
    if "overlaps" in stats:
        result["overlaps"] = [overlaps(row) for row in stats["overlaps"]]
    if "au_e" in stats:
        result["au_e"] = {key: per_label(row, 1) for key, row in stats["au_e"].items()}
    if "au_n" in stats:
        m = len(stats["editors"])
        for name in ("au_n", "au_f", "au_q"):
            result[name] = [per_label(row, 1) for row in stats[name]]
        result["au_x"] = [
            value
            for cell in range(m * m)
            for value in per_label(stats["au_x"][cell * n_old : (cell + 1) * n_old], 1)
        ]
    return result


__all__ = [
    "AU_SCALE",
    "CHAR",
    "TOKEN",
    "ArticleSpans",
    "EditorSpans",
    "add",
    "align",
    "compute",
    "compute_with_totals",
    "contribution",
    "expected_au",
    "pair_indices",
    "subset_key",
    "subsets_to_store",
]
