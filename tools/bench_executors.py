"""Benchmark the executors on an evaluation suite: in-process vs local processes vs local Ray.

    .venv/bin/python tools/bench_executors.py [SUITE_DIR] [--workers 2] [--no-ray]
        [--json evals/results/bench-executors.json]

Each mode scores the same suite with the offline investigator (``day2ai.evaluation.harness.
evaluate_with``); the scores must be identical. On a shared machine the load changes by the minute,
so the suite is cut into ``--rounds`` chunks and the modes take turns chunk by chunk; a pure-CPU
control (the same jobs in 1 vs N processes) is measured before and after. From the measured in-process cost per case and
the measured Ray efficiency it also projects what 10,000 cases take on a 64-core Ray cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from day2ai.agent.offline import OfflineInvestigator  # noqa: E402
from day2ai.evaluation.harness import discover_cases, evaluate_with  # noqa: E402
from day2ai.evaluation.results import CaseResult, SuiteResult  # noqa: E402
from day2ai.evaluation.scoring import aggregate  # noqa: E402
from day2ai.executors import Executor, InProcessExecutor, ProcessExecutor  # noqa: E402


def spin(n: int) -> int:
    """A fixed amount of pure CPU work (the control job)."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def control(workers: int, jobs: int = 4, n: int = 5_000_000) -> dict[str, float]:
    """The same pure-CPU jobs in 1 process vs ``workers`` processes: the parallelism this machine
    gives this benchmark right now (on a shared VM with the kernel's session autogroups, a session
    gets its fair share whatever its process count, so this can read 1.0x while others are busy)."""
    times = []
    for count in (1, workers):
        started = time.perf_counter()
        list(ProcessExecutor(count).map(spin, [n] * jobs))
        times.append(time.perf_counter() - started)
    return {"one_process_s": round(times[0], 2), f"{workers}_processes_s": round(times[1], 2),
            "speedup": round(times[0] / times[1], 2)}


def scores(result: SuiteResult) -> list[tuple[str, Any, Any, Any]]:
    return [(c.id, c.rank, c.predicted_fault, c.error) for c in result.per_case]


def run(executor: Executor, cases: list[Path]) -> tuple[list[CaseResult], float]:
    started = time.perf_counter()
    result = evaluate_with(executor, cases, OfflineInvestigator())
    return list(result.per_case), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", nargs="?", default=str(REPO / "evals/suites/dev"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--rounds", type=int, default=4, help="chunks of the suite; modes alternate per chunk")
    parser.add_argument("--json", type=Path, default=REPO / "evals/results/bench-executors.json")
    args = parser.parse_args()
    modes: list[tuple[str, Executor]] = [("in-process", InProcessExecutor()),
                                         (f"processes x{args.workers}", ProcessExecutor(args.workers))]
    if not args.no_ray:
        from day2ai.executors.ray import RayExecutor

        ray_started = time.perf_counter()
        modes.append((f"ray local x{args.workers}", RayExecutor("local", workers=args.workers)))
        ray_init_s = time.perf_counter() - ray_started
    control_before = control(args.workers)
    cases = discover_cases(args.suite)
    chunks = [cases[i::args.rounds] for i in range(args.rounds)]  # modes alternate chunk by chunk
    results: dict[str, list[CaseResult]] = {name: [] for name, _ in modes}
    seconds: dict[str, float] = {name: 0.0 for name, _ in modes}
    for number, chunk in enumerate(chunks, start=1):
        for name, executor in modes:
            got, took = run(executor, chunk)
            results[name] += got
            seconds[name] += took
            print(f"round {number}/{args.rounds} {name}: {took:.1f} s", flush=True)
    rows: list[dict[str, Any]] = []
    reference = scores(aggregate(results[modes[0][0]]))
    for name, _ in modes:
        result = aggregate(results[name])
        rows.append({"mode": name, "seconds": round(seconds[name], 1), "cases": result.cases,
                     "errors": result.errors, "ac@1": result.ac_at_1, "ac@3": result.ac_at_3,
                     "identical_scores": scores(result) == reference, "mean_case_s": result.mean_seconds})
        print(rows[-1], flush=True)
    base = rows[0]["seconds"]
    for row in rows:
        row["speedup"] = round(base / row["seconds"], 2)
    per_case = base / rows[0]["cases"]
    out: dict[str, Any] = {"machine": "2-core shared VM", "date": time.strftime("%Y-%m-%d"),
                           "cpus": os.cpu_count(), "suite": args.suite, "rows": rows,
                           "in_process_s_per_case": round(per_case, 3),
                           "load_average_1m_at_end": round(os.getloadavg()[0], 2),
                           "control_pure_cpu_before": control_before, "control_pure_cpu_after": control(args.workers)}
    if not args.no_ray:
        ray_row = rows[-1]
        efficiency = min(1.0, ray_row["speedup"] / args.workers)
        out["ray_init_s"] = round(ray_init_s, 1)
        out["ray_efficiency"] = round(efficiency, 2)
        out["projection_10k_cases_64_cores_min"] = round(10_000 * per_case / (64 * efficiency) / 60, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
