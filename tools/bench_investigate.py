"""Benchmark the offline investigator on a suite of bundles: accuracy, speed, dossier size.

    .venv/bin/python tools/bench_investigate.py SUITE_DIR [--json out.json] [--verbose]
    .venv/bin/python tools/bench_investigate.py --scale-case DIR --repeat 5   # timing + peak RSS

For each case (a bundle directory with truth.yaml) the offline investigator runs once; we report
AC@1/3/5, fault accuracy, AC@1 per fault word, median/p95 seconds, and the dossier's token count
and whether it names the true root cause with evidence (its service appears in a hypothesis or
an evidence line of the dossier).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from day2ai.agent.offline import OfflineInvestigator  # noqa: E402
from day2ai.sources.bundle import load_bundle, read_truth  # noqa: E402
from day2ai.tokens import count_tokens  # noqa: E402


def _covered(dossier: str, service: str) -> bool:
    """The dossier names the true service on a hypothesis line or a cited evidence line."""
    s = service.lower()
    for line in dossier.lower().splitlines():
        if s in line and ("[e" in line or line[:3].strip().rstrip(".").isdigit()):
            return True
    return False


async def run_case(path: Path, inv: OfflineInvestigator) -> dict[str, Any]:
    bundle = load_bundle(path)
    truth = read_truth(path)
    started = time.perf_counter()
    report, dossier = await inv.triage(bundle.incident, bundle.sources)
    seconds = time.perf_counter() - started
    ranked = report.ranked_services()
    row: dict[str, Any] = {
        "case": path.name,
        "seconds": round(seconds, 3),
        "ranked": ranked[:5],
        "fault": report.hypotheses[0].fault.value if report.hypotheses else None,
        "confidence": report.hypotheses[0].confidence if report.hypotheses else 0.0,
        "dossier_tokens": count_tokens(dossier),
        "gaps": [g.source for g in report.gaps],
    }
    if truth is not None:
        svc = truth.root_cause.service
        rank = next((i for i, s in enumerate(ranked, 1) if s.lower() == svc.lower()), None)
        row.update(
            truth_service=svc,
            truth_fault=truth.root_cause.fault.value,
            rank=rank,
            fault_ok=rank == 1 and row["fault"] == truth.root_cause.fault.value,
            dossier_covers=_covered(dossier, svc),
        )
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scored = [r for r in rows if "rank" in r]
    n = max(1, len(scored))

    def ac(k: int) -> float:
        return round(sum(1 for r in scored if r["rank"] is not None and r["rank"] <= k) / n, 3)

    per_fault: dict[str, list[int]] = defaultdict(list)
    for r in scored:
        per_fault[r["truth_fault"]].append(int(r["rank"] == 1))
    secs = sorted(r["seconds"] for r in rows)
    toks = [r["dossier_tokens"] for r in rows]
    return {
        "cases": len(rows),
        "AC@1": ac(1),
        "AC@3": ac(3),
        "AC@5": ac(5),
        "fault_accuracy": round(sum(r["fault_ok"] for r in scored) / n, 3),
        "per_fault_AC@1": {f: f"{sum(v)}/{len(v)}" for f, v in sorted(per_fault.items())},
        "median_s": round(statistics.median(secs), 3) if secs else None,
        "p95_s": round(secs[min(len(secs) - 1, int(0.95 * len(secs)))], 3) if secs else None,
        "dossier_tokens_median": statistics.median(toks) if toks else None,
        "dossier_tokens_max": max(toks) if toks else None,
        "dossier_covers": round(sum(r.get("dossier_covers", False) for r in scored) / n, 3),
        "calibration": calibration(scored),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def calibration(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """Top-1 confidence against top-1 hit rate, overall and in three confidence bins."""
    if not scored:
        return {}
    bins: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in scored:
        c = float(r["confidence"])
        label = "<0.4" if c < 0.4 else "0.4-0.7" if c < 0.7 else ">=0.7"
        bins[label].append((c, int(r["rank"] == 1)))
    out: dict[str, Any] = {
        "mean_confidence": round(statistics.mean(float(r["confidence"]) for r in scored), 3),
        "brier": round(statistics.mean((float(r["confidence"]) - int(r["rank"] == 1)) ** 2 for r in scored), 3),
    }
    for label, items in sorted(bins.items()):
        out[label] = {
            "n": len(items),
            "mean_conf": round(statistics.mean(c for c, _ in items), 3),
            "hit_rate": round(statistics.mean(h for _, h in items), 3),
        }
    return out


async def main_async(args: argparse.Namespace) -> int:
    inv = OfflineInvestigator()
    if args.scale_case:
        path = Path(args.scale_case)
        times, cpu = [], []
        for _ in range(args.repeat):
            c0 = time.process_time()
            row = await run_case(path, inv)
            cpu.append(round(time.process_time() - c0, 3))
            times.append(row["seconds"])
        out = {
            "case": str(path),
            "runs": times,
            "median_s": statistics.median(times),
            "cpu_runs": cpu,
            "median_cpu_s": statistics.median(cpu),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        print(json.dumps(out, indent=2))
        return 0
    suite = Path(args.suite)
    cases = sorted(p for p in suite.iterdir() if (p / "incident.yaml").is_file())
    rows = []
    for path in cases:
        row = await run_case(path, inv)
        rows.append(row)
        if args.verbose:
            mark = "OK " if row.get("rank") == 1 else "-- "
            print(
                f"{mark}{row['case']} truth={row.get('truth_service')}/{row.get('truth_fault')} "
                f"got={row['ranked'][:3]}/{row['fault']} rank={row.get('rank')} {row['seconds']}s "
                f"tok={row['dossier_tokens']}",
                flush=True,
            )
    summary = summarize(rows)
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "cases": rows}, indent=2))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite", nargs="?", help="directory of bundles")
    ap.add_argument("--json", help="write per-case rows and the summary here")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--scale-case", help="time one bundle repeatedly instead")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if not args.suite and not args.scale_case:
        ap.error("give a suite directory or --scale-case")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
