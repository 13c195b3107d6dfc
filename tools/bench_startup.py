"""Benchmark start-up: cold ``import day2ai``, ``day2ai --help``, a cold ``day2ai kb search``, and a
warm in-process knowledge query.

    .venv/bin/python tools/bench_startup.py              # N=7 runs of each cold command
    .venv/bin/python tools/bench_startup.py --runs 15 --skip-chroma
    git archive HEAD | tar -x -C /tmp/before && .venv/bin/python tools/bench_startup.py --before /tmp/before

``--before DIR`` also times the same commands with the package of another checkout (the code before a
change) in the same run, so the ratios are measured side by side on the same machine load.

Every cold figure is the median wall time of N fresh subprocesses (the interpreter's own start,
``python -c pass``, is measured the same way and reported beside them). The knowledge index is
built once from evals/knowledge in a temporary folder with the default embedding. "through chroma"
is the same search with the search snapshot deleted before each run (what every search cost
before the snapshot). Results go to evals/results/bench_startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "evals" / "results" / "bench_startup.json"
CORPUS = ROOT / "evals" / "knowledge"
QUERY = "payments connection pool exhausted"
CLI = [sys.executable, "-c", "import sys; from day2ai.cli import run; sys.argv[0] = 'day2ai'; run()"]


def _timed(cmd: list[str], before: Any = None, root: Path = ROOT) -> float:
    if before is not None:
        before()
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(root)}
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr[-500:]}")
    return seconds


def cold(name: str, cmd: list[str], runs: int, before: Any = None, root: Path = ROOT) -> dict[str, Any]:
    times = [_timed(cmd, before, root) for _ in range(runs)]
    row = {"name": name, "runs": runs, "median_s": round(statistics.median(times), 3),
           "min_s": round(min(times), 3), "max_s": round(max(times), 3)}
    print(f"{name:<34} median {row['median_s']:.3f} s  (min {row['min_s']:.3f}, max {row['max_s']:.3f}, n={runs})")
    return row


def warm_query(index: Path, n: int = 50) -> dict[str, Any]:
    from day2ai.knowledge import KnowledgeBase

    kb = KnowledgeBase(index)
    kb.search(QUERY, k=5)  # loads the model and the snapshot
    times = []
    for i in range(n):
        started = time.perf_counter()
        kb.search(f"{QUERY} {i}", k=5)
        times.append(time.perf_counter() - started)
    row = {"name": "warm in-process kb query", "runs": n, "median_s": round(statistics.median(times), 4),
           "p95_s": round(sorted(times)[int(0.95 * (n - 1))], 4)}
    print(f"{row['name']:<34} median {row['median_s'] * 1000:.1f} ms  (p95 {row['p95_s'] * 1000:.1f} ms, n={n})")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-chroma", action="store_true", help="skip the slow 'through chroma' search")
    parser.add_argument("--before", type=Path, help="another checkout to time side by side (the old code)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    rows = [
        cold("python -c pass", [sys.executable, "-c", "pass"], args.runs),
        cold("import day2ai", [sys.executable, "-c", "import day2ai"], args.runs),
        cold("from day2ai import Report (models)", [sys.executable, "-c", "from day2ai import Report"], args.runs),
        cold("day2ai --help", [*CLI, "--help"], args.runs),
        cold("day2ai investigate --help", [*CLI, "investigate", "--help"], args.runs),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "kb"
        subprocess.run([*CLI, "kb", "ingest", str(CORPUS), "--index", str(index)], check=True, cwd=ROOT,
                       capture_output=True)
        search = [*CLI, "kb", "search", QUERY, "--index", str(index), "--format", "json"]
        rows.append(cold("day2ai kb search (cold)", search, args.runs))
        rows.append(cold("day2ai kb search --mode lexical", [*search, "--mode", "lexical"], args.runs))
        if not args.skip_chroma:
            snap = index / "day2ai-search.npz"
            keep = Path(tmp) / "snapshot.npz"
            shutil.copy2(snap, keep)
            rows.append(cold("day2ai kb search (through chroma)", search, max(3, args.runs // 2),
                             before=lambda: snap.unlink(missing_ok=True)))
            shutil.copy2(keep, snap)
        rows.append(warm_query(index))
        if args.before is not None:
            old = args.before.resolve()
            runs = max(3, args.runs // 2)
            rows.append(cold("BEFORE import day2ai", [sys.executable, "-c", "import day2ai"], runs, root=old))
            rows.append(cold("BEFORE day2ai --help", [*CLI, "--help"], runs, root=old))
            rows.append(cold("BEFORE day2ai kb search (cold)", search, runs, root=old))
    load_end = os.getloadavg()
    print(f"load average at end: {load_end[0]:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": "2-core shared VM", "load_start": load, "load_end": load_end,
                                   "rows": rows}, indent=2) + "\n")
    print(RESULTS)


if __name__ == "__main__":
    main()
