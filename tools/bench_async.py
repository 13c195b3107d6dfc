"""Benchmark the async API from a bot's point of view: loop stalls, timeouts, concurrency.

    .venv/bin/python tools/bench_async.py [SUITE_DIR] [--json evals/results/bench-async.json]

With a 10 ms heartbeat task on the loop it measures, for the offloaded runs (the default) and the
old in-loop behaviour (``offload=False``) side by side:
* the loop's longest stall while 3 investigations run concurrently (target <= 100 ms);
* how long ``asyncio.wait_for(ainvestigate(...), 0.2)`` takes to raise (target <= 0.5 s);
* 5 investigations with ``asyncio.gather`` vs the same 5 one after another (target >= 1.6x),
  in A B B A order, averaged.
The forkserver is warmed up first (one investigation, not timed), as a long-running bot would be.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from day2ai.api import ainvestigate  # noqa: E402
from tools.bench_executors import control  # noqa: E402


class Heartbeat:
    """A task ticking every 10 ms; ``stall`` is the longest gap beyond the tick."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.gaps.append(now - last - 0.01)
            last = now

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    @property
    def stall_ms(self) -> float:
        return round(1000 * max(self.gaps, default=0.0), 1)

    @property
    def p99_ms(self) -> float:
        gaps = sorted(self.gaps)
        return round(1000 * gaps[int(0.99 * (len(gaps) - 1))], 1) if gaps else 0.0


async def idle_stall(seconds: float = 5.0) -> dict[str, float]:
    """The heartbeat alone: how much of a stall the busy machine causes by itself."""
    async with Heartbeat() as beat:
        await asyncio.sleep(seconds)
    return {"longest_ms": beat.stall_ms, "p99_ms": beat.p99_ms}


async def measure(cases: list[Path], offload: bool) -> dict[str, Any]:
    async with Heartbeat() as beat:
        started = time.perf_counter()
        await asyncio.gather(*(ainvestigate(c, offload=offload) for c in cases[:3]))
        three_s = time.perf_counter() - started
    started = time.perf_counter()
    try:
        await asyncio.wait_for(ainvestigate(cases[0], offload=offload), 0.2)
        timeout_raised = False
    except TimeoutError:
        timeout_raised = True
    timeout_s = time.perf_counter() - started
    five = cases[:5]

    async def sequential() -> float:
        started = time.perf_counter()
        for c in five:
            await ainvestigate(c, offload=offload)
        return time.perf_counter() - started

    async def concurrent() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(ainvestigate(c, offload=offload) for c in five))
        return time.perf_counter() - started

    # A B B A: on a shared machine whose load drifts, both orders see the same drift
    sequential_s = await sequential()
    concurrent_s = await concurrent()
    concurrent_s = (concurrent_s + await concurrent()) / 2
    sequential_s = (sequential_s + await sequential()) / 2
    return {
        "offload": offload,
        "three_concurrent_s": round(three_s, 2),
        "longest_loop_stall_ms": beat.stall_ms,
        "p99_loop_stall_ms": beat.p99_ms,
        "wait_for_0.2_raised": timeout_raised,
        "wait_for_0.2_returned_after_s": round(timeout_s, 3),
        "five_sequential_s": round(sequential_s, 2),
        "five_concurrent_s": round(concurrent_s, 2),
        "concurrency_speedup": round(sequential_s / concurrent_s, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", nargs="?", default=str(REPO / "evals/suites/dev"))
    parser.add_argument("--json", type=Path, default=REPO / "evals/results/bench-async.json")
    args = parser.parse_args()
    cases = sorted(p for p in Path(args.suite).iterdir() if (p / "incident.yaml").is_file())[:5]
    await ainvestigate(cases[0])  # warm the forkserver (imports day2ai once)
    await ainvestigate(cases[0], offload=False)  # and this process's imports, for the in-loop row
    idle = await idle_stall()
    control_before = await asyncio.to_thread(control, 5, 5)
    rows = [await measure(cases, offload=True), await measure(cases, offload=False)]
    load = os.getloadavg()[0]
    result = {"machine": "2-core shared VM", "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
              "load_average_1m_at_end": round(load, 2), "suite": args.suite, "cases": [c.name for c in cases],
              "idle_heartbeat_stall": idle, "rows": rows, "control_pure_cpu_before": control_before,
              "control_pure_cpu_after": await asyncio.to_thread(control, 5, 5)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
