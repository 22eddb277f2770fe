"""Run every benchmark in this folder, one after the other; each prints its own table.

Run: .venv/bin/python bench/run_all.py [--quick]
(`--quick` uses smaller sizes, for a smoke run; the README's figures come from the defaults.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("labelling_page.py", [], ["--runs", "5", "--browser-runs", "3"]),
    ("versions.py", [], ["--versions", "100", "--runs", "20"]),
    ("agreement.py", [], ["--articles", "500"]),
    ("export_memory.py", [], ["--sizes", "100", "1000"]),
    ("conll_long_article.py", [], ["--counts", "2000", "4000"]),
    ("facts_save.py", ["--db", "sqlite"], ["--db", "sqlite", "--articles", "10"]),
    ("search.py", [], ["--articles", "2000", "--repeat", "3"]),
    ("suggestions.py", [], ["--db", "sqlite", "--gold-spans", "10000", "--repeat", "5"]),
    ("predictions.py", [], ["--db", "sqlite", "--articles", "500"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    failed = []
    for script, full, quick in BENCHMARKS:
        print(f"\n=== {script} ===", flush=True)
        argv = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        if subprocess.run(argv, check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
