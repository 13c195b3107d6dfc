"""Run an investigator over a suite of incident bundles and score it.

A suite is a directory whose sub-directories are bundles (each holding ``incident.yaml``;
a sub-directory with only a ``truth.yaml`` is a broken bundle and is scored as one). Cases run
concurrently on one event loop, at most ``concurrency`` at a time, each optionally under a
timeout. The truth of a case is read only after its investigation has returned. Any failure of
one case (a bundle that does not load, an investigator that raises or times out, a missing or
invalid truth) becomes a scored miss with its ``error``; it never stops the run.

Timeouts interrupt an investigation at its next ``await``; an investigator that computes for a
long time without awaiting can only be stopped when it yields.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from day2ai._sync import run_sync
from day2ai.agent.base import Investigator
from day2ai.errors import BundleError, InputError
from day2ai.evaluation.results import CaseResult, SuiteResult
from day2ai.evaluation.scoring import aggregate, miss_case, score_case
from day2ai.models import Report, Truth
from day2ai.sources.bundle import load_bundle, read_truth

CaseCallback = Callable[[CaseResult], None]


def discover_cases(suite: str | Path) -> list[Path]:
    """The bundle directories directly under ``suite``, sorted by name."""
    root = Path(suite)
    if not root.is_dir():
        raise InputError(f"{root}: not a suite directory")
    cases = [p for p in sorted(root.iterdir())
             if p.is_dir() and ((p / "incident.yaml").is_file() or (p / "truth.yaml").is_file())]
    if not cases:
        raise InputError(f"{root}: no bundles (sub-directories with an incident.yaml)")
    return cases


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutError: investigation timed out"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _truth_or_error(path: Path) -> tuple[Truth | None, str | None]:
    try:
        truth = read_truth(path)
    except BundleError as exc:
        return None, f"truth: {exc}"
    return (truth, None) if truth is not None else (None, "truth: truth.yaml is missing")


async def _investigate(path: Path, investigator: Investigator, knowledge: Any,
                       timeout: float | None) -> tuple[str, Report]:
    bundle = load_bundle(path)
    coro = investigator.investigate(bundle.incident, bundle.sources, knowledge=knowledge)
    report = await (asyncio.wait_for(coro, timeout) if timeout else coro)
    if not isinstance(report, Report):
        raise TypeError(f"investigator returned {type(report).__name__}, not a Report")
    return bundle.incident.id, report


async def run_case(path: str | Path, investigator: Investigator, *, knowledge: Any = None,
                   timeout: float | None = None) -> CaseResult:
    """Investigate and score one bundle; never raises for a failure of the case itself."""
    path = Path(path)
    start = time.perf_counter()
    case_id = path.name
    try:
        case_id, report = await _investigate(path, investigator, knowledge, timeout)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a failing case is a scored miss, whatever went wrong
        truth, _ = _truth_or_error(path)
        return miss_case(case_id, _describe(exc), time.perf_counter() - start, truth, bundle=path.name)
    seconds = time.perf_counter() - start
    truth, problem = _truth_or_error(path)
    if truth is None:
        return miss_case(case_id, problem or "truth: unavailable", seconds, bundle=path.name)
    return score_case(case_id, report, truth, seconds, bundle=path.name)


async def aevaluate(
    suite: str | Path | Sequence[str | Path],
    investigator: Investigator,
    *,
    concurrency: int = 1,
    timeout: float | None = None,
    knowledge: Any = None,
    on_case: CaseCallback | None = None,
) -> SuiteResult:
    """Investigate every bundle of a suite (a directory, or a list of bundle paths) and score it.

    ``on_case`` is called with each case's score as it completes (progress display);
    the returned result lists cases sorted by id whatever the completion order.
    """
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    if timeout is not None and timeout <= 0:
        raise InputError(f"timeout must be positive, got {timeout}")
    if isinstance(suite, str | Path):
        paths, label = discover_cases(suite), str(suite)
    else:
        paths, label = [Path(p) for p in suite], ""
    gate = asyncio.Semaphore(concurrency)

    async def one(path: Path) -> CaseResult:
        async with gate:
            result = await run_case(path, investigator, knowledge=knowledge, timeout=timeout)
        if on_case is not None:
            on_case(result)
        return result

    results = await asyncio.gather(*(one(p) for p in paths))
    name = getattr(investigator, "name", type(investigator).__name__)
    return aggregate(results, suite=label, investigator=str(name))


def evaluate(
    suite: str | Path | Sequence[str | Path],
    investigator: Investigator,
    *,
    concurrency: int = 1,
    timeout: float | None = None,
    knowledge: Any = None,
    on_case: CaseCallback | None = None,
) -> SuiteResult:
    """Synchronous :func:`aevaluate` (inside a running loop, e.g. Jupyter, it runs in a thread)."""
    return run_sync(aevaluate(suite, investigator, concurrency=concurrency, timeout=timeout,
                                 knowledge=knowledge, on_case=on_case))
