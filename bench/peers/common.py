"""What bench/peers/run.py's drivers share: a kept virtualenv, starting and stopping a server,
memory of a process tree, and the concurrent clients."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from suite import Http, children, rss_kib  # noqa: E402

OUT = HERE.parent / "out"
WORK = OUT / "peers"
HOST = "127.0.0.1"


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


def tree_pids(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def tree_rss_mib(pid: int) -> float:
    return sum(rss_kib(p) for p in tree_pids(pid)) / 1024


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


def concurrent(
    port: int,
    headers: dict[str, str],
    fetch: Callable[[random.Random], list[str]],
    seconds: float,
    clients: int = 8,
) -> tuple[float, float, int]:
    """`clients` threads, each getting in turn the URLs of one fetch (`fetch(rng)`) for
    `seconds`: requests per second, whole fetches per second, failed requests."""
    deadline = time.monotonic() + seconds
    counts = [[0, 0, 0] for _ in range(clients)]  # requests ok, fetches done, errors

    def client(n: int) -> None:
        http = Http(port, headers)
        rng = random.Random(n)
        while time.monotonic() < deadline:
            whole = True
            for url in fetch(rng):
                try:
                    status, _, _ = http.request("GET", url, "c")
                except Exception:  # noqa: BLE001 -- counted
                    status = 0
                counts[n][0 if status == 200 else 2] += 1
                whole = whole and status == 200
            counts[n][1] += whole

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    return (
        sum(c[0] for c in counts) / took,
        sum(c[1] for c in counts) / took,
        sum(c[2] for c in counts),
    )
