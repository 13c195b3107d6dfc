"""Time the RCAEval converter on one synthetic case the size of an RE2-OB case.

    .venv/bin/python tools/bench_rcaeval.py [--spans 400000] [--logs 50000] [--columns 417]

RE2-OB cases measure ~1441 metric rows x 417 columns and 200k-410k spans (median ~400k).
The data is random but in RCAEval's column layout; the numbers are conversion throughput only.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from day2ai.evaluation.rcaeval import convert_tree

INJECT = 1_705_354_566


def make_case(d: Path, columns: int, spans: int, logs: int) -> None:
    rng = random.Random(7)
    d.mkdir(parents=True)
    (d / "inject_time.txt").write_text(str(INJECT))
    services = [f"svc{i}" for i in range(12)]
    cols = [f"{services[i % 12]}_metric-{i}" for i in range(columns - 1)]
    with open(d / "metrics.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", *cols])
        for t in range(INJECT - 720, INJECT + 721):
            w.writerow([t, *(f"{rng.random():.6f}" for _ in cols)])
    with open(d / "traces.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "traceID", "spanID", "serviceName", "methodName", "operationName",
                    "startTimeMillis", "startTime", "duration", "statusCode", "parentSpanID"])
        for i in range(spans):
            start_us = (INJECT - 720) * 10**6 + i * 3600
            w.writerow(["10:07", f"t{i // 6}", f"s{i}", services[i % 7], "GET", f"/op{i % 20}",
                        start_us // 1000, start_us, rng.randint(100, 90_000), "0.0",
                        f"s{i - 1}" if i % 6 else ""])
    with open(d / "logs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "timestamp", "container_name", "message", "level", "req_path", "error"])
        for i in range(logs):
            w.writerow(["10:07", (INJECT - 720) * 10**9 + i * 28_000_000, services[i % 12],
                        f"request {i} served in {rng.randint(1, 900)} ms", "info", "/cart", ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=400_000)
    ap.add_argument("--logs", type=int, default=50_000)
    ap.add_argument("--columns", type=int, default=417)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "RE2-OB"
        make_case(root / "svc3_cpu" / "1", args.columns, args.spans, args.logs)
        size = sum(p.stat().st_size for p in (root / "svc3_cpu" / "1").iterdir()) / 1e6
        for compress in (False, True):
            t = time.perf_counter()
            convert_tree(root, Path(tmp) / f"out-{compress}", metrics_file="metrics.csv", compress=compress)
            dt = time.perf_counter() - t
            print(f"gzip={compress}: {size:.0f} MB of CSV ({args.columns} columns x 1441 rows, "
                  f"{args.spans} spans, {args.logs} logs) converted in {dt:.1f} s "
                  f"({args.spans / dt:,.0f} spans/s overall)")


if __name__ == "__main__":
    main()
