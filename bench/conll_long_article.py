"""CoNLL export of one long article: time against the number of spans.

    .venv/bin/python bench/conll_long_article.py [--root PATH]

The hardening issue's case: one 200,000-character article with 10,000 spans, exported as
CoNLL, in four shapes of spans, each also at 2,000 / 4,000 / 8,000 spans (on a text cut to
scale) so that the growth shows: linear work doubles when the spans double.

- words: whole words, no overlap (the common case);
- editors: one editor's spans, nested and crossing (the overlap rule has to choose);
- mid-word: edges inside words ("zones" tokenized one by one);
- cjk: Chinese text, which has no spaces: one run of 200,000 characters.

Pure: no database, the records are built in memory and written by annotate.exports.render.
`--root` runs another checkout's annotate/ (e.g. an older commit unpacked with
``git archive <rev> annotate | tar -x -C /tmp/before``) to compare before and after. It
asserts nothing; it prints a table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHARS = 200_000
SPANS = 10_000
SAMPLE = (
    "the army said rebels shelled the town on monday killing three people and wounding "
    "dozens according to local officials who spoke on condition of anonymity"
)
WORDS = SAMPLE.split()
SHAPES = ("words", "editors", "mid-word", "cjk")
HANZI = "北京市政府今天宣布新的措施以应对洪水灾害当地官员表示救援工作正在进行"


def latin_text(rng: random.Random, size: int) -> str:
    parts, length = [], 0
    while length < size:
        sentence = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
        sentence[0] = sentence[0].capitalize()
        parts.append(" ".join(sentence) + ".")
        length += len(parts[-1]) + 1
    return " ".join(parts)[:size]


def cjk_text(rng: random.Random, size: int) -> str:
    chunks = []
    while sum(map(len, chunks)) < size:
        chunks.append("".join(rng.choice(HANZI) for _ in range(rng.randint(10, 30))) + "。")
    return "".join(chunks)[:size]


def word_starts(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c != " " and (i == 0 or text[i - 1] == " ")]


def spans(shape: str, text: str, count: int, rng: random.Random) -> list[dict]:
    labels = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
    found: list[tuple[int, int]] = []
    if shape == "cjk":
        for _ in range(count):
            start = rng.randrange(len(text) - 8)
            found.append((start, start + rng.randint(2, 6)))
    else:
        starts = word_starts(text)
        step = max(1, (len(starts) - 4) // count)
        for n in range(count):
            first = n * step if shape == "words" else rng.randrange(len(starts) - 4)
            start, end = starts[first], starts[first + rng.randint(1, 3)] - 1
            if shape == "mid-word":
                start += 1
            found.append((start, end))
    found.sort()
    return [
        {"start": s, "end": e, "label": rng.choice(labels), "text": text[s:e]} for s, e in found
    ]


def record(text: str, spans_: list[dict]) -> dict:
    return {
        "id": "long",
        "article": 1,
        "title": "",
        "url": "",
        "text": text,
        "spans": spans_,
        "source": "editor",
        "version": 1,
        "annotator": "bench",
        "status": "submitted",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose annotate/ to run")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    parser.add_argument("--counts", type=int, nargs="+", default=[2_000, 4_000, 8_000, SPANS])
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    from annotate.exports import render
    from annotate.exports.tokens import token_pattern

    token_pattern()  # built once per process (about a second); not part of any export
    print(f"{'shape':>9} {'chars':>8} {'spans':>7} {'seconds':>8} {'us/span':>8}")
    for shape in args.shapes:
        for count in args.counts:
            rng = random.Random(count)
            size = CHARS * count // SPANS
            text = cjk_text(rng, size) if shape == "cjk" else latin_text(rng, size)
            value = record(text, spans(shape, text, count, rng))
            started = time.perf_counter()
            size_out = sum(len(chunk) for chunk in render("conll", [value]))
            seconds = time.perf_counter() - started
            assert size_out > 0
            print(
                f"{shape:>9} {len(text):>8,} {count:>7,} {seconds:>8.3f} "
                f"{seconds / count * 1e6:>8.1f}"
            )


if __name__ == "__main__":
    main()
