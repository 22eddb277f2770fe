"""The peers, measured now: Label Studio (and doccano) on this machine, same workloads.

    .venv/bin/python bench/peers/run.py [--quick] [--venv PATH]

For each peer it makes a throwaway virtualenv under bench/out/peers/ (gitignored; kept for
the next run, since installing takes minutes; ``--venv`` names one that already has it),
``pip install``s the pinned release, starts it on 127.0.0.1 with SQLite and analytics and
update checks off, and through its REST API runs the equivalents of workloads 3, 4 and 5 of
bench/suite.py on the sizes the recorded figures used: import 1,000 news-like articles of
about 5,000 characters in one call; save 40 spans on 200 of them, twice (two annotations
each: 16,000 spans), p50/p95 of one save; fetch one task 500 times; 8 concurrent clients
for 20 s; export everything as JSON and CoNLL-2003; the server's memory afterwards.
It prints the figures and writes bench/out/peers.json, which bench/suite.py's table reads
(figures not measured now come from bench/peers/anchors.json, marked "recorded").

doccano 1.8.4 needs a celery worker for its upload and download tasks and one request per
span; it is not driven here yet: its figures stay "recorded".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from suite import (  # noqa: E402
    LABELS,
    Http,
    children,
    choose_spans,
    news_text,
    pct,
    rss_kib,
    sentence,
)

OUT = HERE.parent / "out"
WORK = OUT / "peers"
HOST = "127.0.0.1"
LABEL_STUDIO = "label-studio==1.23.2"
LABEL_CONFIG = (
    '<View><Labels name="label" toName="text">'
    + "".join(f'<Label value="{key}"/>' for key in LABELS)
    + '</Labels><Text name="text" value="$text"/></View>'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def venv(name: str, packages: list[str], timeout: float) -> Path:
    folder = WORK / name
    python = folder / "bin" / "python"
    if not (folder / ".installed").exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        print(f"{name}: pip install {' '.join(packages)} (minutes)", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *packages], check=True, timeout=timeout
        )
        (folder / ".installed").write_text(" ".join(packages))
    return folder


def tree_rss_mib(pid: int) -> float:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return sum(rss_kib(p) for p in pids) / 1024


def wait_http(port: int, path: str, process: subprocess.Popen, seconds: float) -> None:
    import urllib3

    deadline = time.monotonic() + seconds
    pool = urllib3.HTTPConnectionPool(HOST, port, retries=False, timeout=5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited at start")
        try:
            if pool.request("GET", path).status < 500:
                return
        except Exception:  # noqa: BLE001 -- not up yet
            pass
        time.sleep(1)
    raise RuntimeError(f"no answer on port {port} after {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


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
    rps, errors = concurrent(port, token, ids, 5 if quick else 20)
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


def concurrent(port: int, token: str, ids: list[int], seconds: float) -> tuple[float, int]:
    deadline = time.monotonic() + seconds
    counts = [[0, 0] for _ in range(8)]

    def client(n: int) -> None:
        http = Http(port, {"Authorization": f"Token {token}"})
        rng = random.Random(n)
        while time.monotonic() < deadline:
            try:
                status, _, _ = http.request("GET", f"/api/tasks/{rng.choice(ids)}/", "c")
                counts[n][0 if status == 200 else 1] += 1
            except Exception:  # noqa: BLE001 -- counted
                counts[n][1] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    return sum(c[0] for c in counts) / took, sum(c[1] for c in counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", help=f"a virtualenv that already has {LABEL_STUDIO}")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    try:
        results["label-studio"] = label_studio(args.quick, args.venv)
    except Exception as error:  # noqa: BLE001 -- reported; the table falls back to anchors
        print(f"label-studio: not measured ({error})", file=sys.stderr)
        results["label-studio"] = {"ok": False, "error": str(error)}
    for name, figures in results.items():
        print(f"\n{name}")
        for key, value in figures.items():
            print(
                f"  {key:<26} {value:,.1f}" if isinstance(value, float) else f"  {key:<26} {value}"
            )
    (OUT / "peers.json").write_text(
        json.dumps({"quick": args.quick, "measured_at": time.time(), "peers": results}, indent=1)
    )
    return 0 if all(f.get("ok") for f in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
