"""Benchmark ``day2ai scan`` on a 60-day, 30-service ops history at 5-minute resolution.

    .venv/bin/python tools/bench_scan.py [--dir DIR] [--services 30] [--days 60] [--step 300] [--repeat 3]

Writes the history once (epoch-number metrics, and a copy with Prometheus-style RFC 3339 string
timestamps and string values), then scans each in a fresh subprocess, ``--repeat`` times, reporting
wall seconds of the whole process (median), the scan's own wall and CPU seconds (CPU time is what a
busy shared VM does not inflate) and the child's peak RSS (VmHWM). Prints one JSON object (also written to --out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

# the child measures itself: wall and CPU seconds from before the import, and its own peak RSS (VmHWM;
# ru_maxrss of a vfork'ed child would include the parent's pages)
# CPU includes the metric-parsing worker processes (os.times counts waited-for children); the workers'
# own peak RSS is reported apart (forked, they share most pages with the scan process).
CHILD = ("import os, resource, sys, time; t0 = time.perf_counter(); "
         "from day2ai.scan.engine import scan_path; r = scan_path(sys.argv[1]); tm = os.times(); "
         "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
         "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
         "print(time.perf_counter() - t0, sum(tm[:4]), int(hwm) / 1024, len(r.findings), kids)")


def _rfc_copy(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("metrics.jsonl"))
    with open(src / "metrics.jsonl", "rb") as fin, open(dst / "metrics.jsonl", "wb") as fout:
        for line in fin:
            obj = orjson.loads(line)
            obj["values"] = [[datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), repr(v)]
                             for t, v in obj["values"]]
            fout.write(orjson.dumps(obj) + b"\n")


def _run(history: Path) -> tuple[float, float, float, float, int, float]:
    """(process wall s, scan wall s incl. imports, CPU s incl. workers, peak RSS MiB, findings, workers' RSS)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(history)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    inner, cpu, hwm, findings, kids = proc.stdout.split()
    return wall, float(inner), float(cpu), float(hwm), int(findings), float(kids)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("evals/histories/bench"))
    ap.add_argument("--services", type=int, default=30)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--step", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("evals/results/bench-scan.json"))
    args = ap.parse_args()
    from day2ai.scan.sim import simulate_history

    epoch_dir, rfc_dir = args.dir / "epoch", args.dir / "rfc3339"
    t0 = time.perf_counter()
    simulate_history(epoch_dir, 4242, services=args.services, days=args.days, step=args.step)
    gen = time.perf_counter() - t0
    _rfc_copy(epoch_dir, rfc_dir)
    with open(epoch_dir / "metrics.jsonl", "rb") as fh:
        series = sum(1 for _ in fh)
    points = series * (args.days * 86400 // args.step)
    result: dict[str, object] = {
        "machine": "2-core shared VM", "date": "2026-12-04", "cpus": os.cpu_count(),
        "history": {"services": args.services, "days": args.days, "step_seconds": args.step,
                    "series": series, "points": points,
                    "metrics_mb": round((epoch_dir / "metrics.jsonl").stat().st_size / 1e6, 1),
                    "metrics_rfc3339_mb": round((rfc_dir / "metrics.jsonl").stat().st_size / 1e6, 1)},
        "simulate_seconds": round(gen, 2),
    }
    for name, d in (("epoch", epoch_dir), ("rfc3339", rfc_dir)):
        runs = [_run(d) for _ in range(args.repeat)]  # RUSAGE_CHILDREN's max is cumulative: read it per format
        result[name] = {"wall_seconds_median": round(statistics.median(r[0] for r in runs), 2),
                        "wall_seconds_all": [round(r[0], 2) for r in runs],
                        "scan_wall_seconds_median": round(statistics.median(r[1] for r in runs), 2),
                        "scan_cpu_seconds_median": round(statistics.median(r[2] for r in runs), 2),
                        "peak_rss_mib": round(max(r[3] for r in runs), 1),
                        "worker_peak_rss_mib": round(max(r[5] for r in runs), 1), "findings": runs[0][4]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
