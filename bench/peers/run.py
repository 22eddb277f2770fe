"""The peers, measured now: Label Studio and doccano on this machine, same workloads.

    .venv/bin/python bench/peers/run.py [--peer label-studio|doccano|both] [--quick]
                                        [--venv PATH] [--doccano-venv PATH]

For each peer it makes a throwaway virtualenv under bench/out/peers/ (gitignored; kept for
the next run, since installing takes minutes; ``--venv`` / ``--doccano-venv`` name one that
already has it), ``pip install``s the pinned release, starts it on 127.0.0.1 with SQLite
(Label Studio with analytics and update checks off) and through its REST API runs the
equivalents of workloads 3, 4 and 5 of bench/suite.py on the sizes the recorded figures
used: import 1,000 news-like articles of about 5,000 characters; save 40 spans on 200 of
them, twice (two annotations each: 16,000 spans), p50/p95 of one save; fetch one article
with its annotations 500 times; 8 concurrent clients fetching for 20 s; export everything
(Label Studio: JSON and CoNLL-2003; doccano: JSONL, it offers no CoNLL); the server's memory
afterwards. ``--quick``: 200 articles, 40 annotated, 100 fetches, 5 s of concurrency.

Label Studio 1.23.2 runs as ``label-studio start`` (runserver, one process) and takes the
import and each annotation in one request. doccano 1.8.4 (bench/peers/doccano.py) runs as
gunicorn plus a celery worker for its upload and download tasks, and takes one request per
span; its docstring says how it is started and what is timed.

It prints the figures and writes bench/out/peers.json, which bench/suite.py's table reads
(figures not measured now come from bench/peers/anchors.json, marked "recorded"); running
one peer keeps what an earlier run measured of the other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import HOST, OUT, WORK, concurrent, free_port, stop, tree_rss_mib, venv, wait_http
from doccano import doccano
from suite import LABELS, Http, choose_spans, news_text, pct, sentence

LABEL_STUDIO = "label-studio==1.23.2"
LABEL_CONFIG = (
    '<View><Labels name="label" toName="text">'
    + "".join(f'<Label value="{key}"/>' for key in LABELS)
    + '</Labels><Text name="text" value="$text"/></View>'
)


def label_studio(quick: bool, existing: str | None) -> dict:
    folder = Path(existing) if existing else venv("label-studio", [LABEL_STUDIO], timeout=1500)
    data = WORK / "label-studio-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    port, token = free_port(), secrets.token_hex(20)
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "COLLECT_ANALYTICS": "false",
        "LATEST_VERSION_CHECK": "false",
        "DJANGO_DB": "sqlite",
    }
    argv = [
        str(folder / "bin" / "label-studio"), "start", "--no-browser",
        "--host", HOST, "--internal-host", HOST, "--port", str(port),
        "--data-dir", str(data),
        "--username", "bench@example.org", "--password", secrets.token_hex(12),
        "--user-token", token, "--enable-legacy-api-token",
    ]  # fmt: skip
    log = open(data / "server.log", "w")  # noqa: SIM115 -- closed below
    process = subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_http(port, "/health", process, 600)
        return drive_label_studio(port, token, process.pid, quick)
    finally:
        stop(process)
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def drive_label_studio(port: int, token: str, pid: int, quick: bool) -> dict:
    http = Http(port, {"Authorization": f"Token {token}", "Content-Type": "application/json"})

    def call(method: str, url: str, body: object = None) -> object:
        raw = None if body is None else json.dumps(body).encode()
        status, answer, _ = http.request(method, url, "peer", raw)
        if status >= 400:
            raise RuntimeError(f"{method} {url}: {status} {answer[:300]!r}")
        return json.loads(answer) if answer else None

    project = call("POST", "/api/projects/", {"title": "bench", "label_config": LABEL_CONFIG})
    pid_ = project["id"]
    rng = random.Random(1_000)
    count, annotated = (200, 40) if quick else (1_000, 200)
    tasks = [{"text": news_text(rng, 5_000), "title": sentence(rng)} for _ in range(count)]
    started = time.perf_counter()
    call("POST", f"/api/projects/{pid_}/import", tasks)
    import_s = time.perf_counter() - started
    listing = call("GET", f"/api/tasks/?project={pid_}&page_size={count}")
    rows = listing["tasks"] if isinstance(listing, dict) else listing
    ids = sorted(row["id"] for row in rows)[:annotated]
    texts = {row["id"]: row["data"]["text"] for row in rows}

    saves = []
    spans_total = 0
    for _round in range(2):
        for task in ids:
            result = [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": s, "end": e, "text": texts[task][s:e], "labels": [lab]},
                }
                for s, e, lab in choose_spans(texts[task], rng, 40)
            ]
            body = json.dumps({"result": result}).encode()
            status, answer, ms = http.request("POST", f"/api/tasks/{task}/annotations/", "s", body)
            if status >= 400:
                raise RuntimeError(f"annotation: {status} {answer[:300]!r}")
            saves.append(ms)
            spans_total += len(result)
    fetches = []
    for n in range(100 if quick else 500):
        status, _, ms = http.request("GET", f"/api/tasks/{ids[n % len(ids)]}/", "f")
        fetches.append(ms)
    rps, _, errors = concurrent(
        port,
        {"Authorization": f"Token {token}"},
        lambda chooser: [f"/api/tasks/{chooser.choice(ids)}/"],
        5 if quick else 20,
    )
    exports = {}
    for kind in ("JSON", "CONLL2003"):
        started = time.perf_counter()
        status, size, _ = http.stream(f"/api/projects/{pid_}/export?exportType={kind}", "e")
        if status != 200:
            raise RuntimeError(f"export {kind}: {status}")
        exports[kind] = (time.perf_counter() - started, size)
    figures = {
        "ok": True,
        "version": LABEL_STUDIO.split("==")[1],
        "server": "label-studio start (as shipped), SQLite",
        "import_articles_per_s": count / import_s,
        "import_note": f"{count:,} articles in {import_s:.2f} s, one API call",
        "save_p50_ms": statistics.median(saves),
        "save_p95_ms": pct(saves, 0.95),
        "fetch_p50_ms": statistics.median(fetches),
        "fetch_p95_ms": pct(fetches, 0.95),
        "concurrent_rps": rps,
        "concurrent_errors": errors,
        "export_json_spans_per_s": spans_total / exports["JSON"][0],
        "export_json_note": f"{spans_total:,} spans in {exports['JSON'][0]:.2f} s "
        f"({exports['JSON'][1] / 1e6:.1f} MB)",
        "export_conll_spans_per_s": spans_total / exports["CONLL2003"][0],
        "export_conll_note": f"{spans_total:,} spans in {exports['CONLL2003'][0]:.2f} s",
        "memory_after_mib": tree_rss_mib(pid),
    }
    return figures


PEERS = {"label-studio": label_studio, "doccano": doccano}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=[*PEERS, "both"], default="both")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--venv", help=f"a virtualenv that already has {LABEL_STUDIO}")
    parser.add_argument("--doccano-venv", help="a virtualenv that already has doccano 1.8.4")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    existing = {"label-studio": args.venv, "doccano": args.doccano_venv}
    results: dict[str, dict] = {}
    for name in PEERS if args.peer == "both" else [args.peer]:
        try:
            figures = PEERS[name](args.quick, existing[name])
        except Exception as error:  # noqa: BLE001 -- reported; the table falls back to anchors
            print(f"{name}: not measured ({error})", file=sys.stderr)
            figures = {"ok": False, "error": str(error)}
        results[name] = {**figures, "quick": args.quick, "measured_at": time.time()}
    for name, figures in results.items():
        print(f"\n{name}")
        for key, value in figures.items():
            print(
                f"  {key:<26} {value:,.1f}" if isinstance(value, float) else f"  {key:<26} {value}"
            )
    write_results(results)
    return 0 if all(f.get("ok") for f in results.values()) else 1


def write_results(results: dict[str, dict]) -> None:
    """Into bench/out/peers.json, keeping what an earlier run measured of the other peer."""
    path = OUT / "peers.json"
    peers = {}
    if path.exists():
        earlier = json.loads(path.read_text())
        peers = {
            name: {"quick": earlier.get("quick", False), **figures}
            for name, figures in earlier.get("peers", {}).items()
        }
    peers.update(results)
    path.write_text(json.dumps({"peers": peers}, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
