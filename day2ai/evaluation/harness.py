"""Run an investigator over a suite of incident bundles and score it.

A suite is a directory whose sub-directories are bundles (each holding ``incident.yaml``;
a sub-directory with only a ``truth.yaml`` is a broken bundle and is scored as one). The truth of
a case is read only after its investigation has returned. Any failure of one case (a bundle that
does not load or whose data files had to be skipped in part, an investigator that raises or times
out, a worker that dies, a missing or invalid truth) becomes a scored miss with its ``error``; it
never stops the run.

Two ways to run the cases:

* on this event loop (default), at most ``concurrency`` at a time, each the way
  :func:`day2ai.ainvestigate` runs it (the offline investigator in a child process, stopped at
  its ``timeout``);
* over an executor (``workers=N`` local processes, or ``ray=...``; :mod:`day2ai.executors`): each
  job gets the bundle's path, investigates and scores it in the worker, and only the small score
  comes back. Scores are identical in every mode.
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from day2ai._sync import run_sync
from day2ai.agent.base import Investigator
from day2ai.errors import BundleError, InputError
from day2ai.evaluation.results import CaseResult, SuiteResult
from day2ai.evaluation.scoring import aggregate, miss_case, score_case
from day2ai.executors._child import describe
from day2ai.models import Report, Truth
from day2ai.sources.bundle import read_truth

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
    return describe(exc)


def _truth_or_error(path: Path) -> tuple[Truth | None, str | None]:
    try:
        truth = read_truth(path)
    except BundleError as exc:
        return None, f"truth: {exc}"
    return (truth, None) if truth is not None else (None, "truth: truth.yaml is missing")


def data_problem(report: Report) -> str | None:
    """The first bundle file whose records had to be skipped (the case's data is broken), if any."""
    for gap in report.gaps:
        if gap.source.startswith("bundle:") and "long text field" not in gap.reason:
            return f"data problem: {gap.source.removeprefix('bundle:')}: {gap.reason}"
    return None


async def _investigate(path: Path, investigator: Investigator, knowledge: Any, timeout: float | None,
                       offload: bool) -> Report:
    from day2ai.api import ainvestigate

    coro = ainvestigate(path, investigator=investigator, knowledge=knowledge, offload=offload)
    report = await (asyncio.wait_for(coro, timeout) if timeout else coro)
    if not isinstance(report, Report):
        raise TypeError(f"investigator returned {type(report).__name__}, not a Report")
    return report


async def run_case(path: str | Path, investigator: Investigator, *, knowledge: Any = None,
                   timeout: float | None = None, offload: bool = True) -> CaseResult:
    """Investigate and score one bundle; never raises for a failure of the case itself."""
    path = Path(path)
    start = time.perf_counter()
    try:
        report = await _investigate(path, investigator, knowledge, timeout, offload)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a failing case is a scored miss, whatever went wrong
        return failed_case(path, _describe(exc), time.perf_counter() - start)
    seconds = time.perf_counter() - start
    case_id = report.incident.id
    problem = data_problem(report)
    truth, truth_problem = _truth_or_error(path)
    if problem is not None or truth is None:
        return miss_case(case_id, problem or truth_problem or "truth: unavailable", seconds, truth,
                         bundle=path.name)
    return score_case(case_id, report, truth, seconds, bundle=path.name)


def failed_case(path: Path, error: str, seconds: float) -> CaseResult:
    """The scored miss of a case that produced no report."""
    truth, _ = _truth_or_error(path)
    return miss_case(path.name, error, seconds, truth, bundle=path.name)


def _paths(suite: str | Path | Sequence[str | Path]) -> tuple[list[Path], str]:
    if isinstance(suite, str | Path):
        return discover_cases(suite), str(suite)
    return [Path(p) for p in suite], ""


def _check(concurrency: int, timeout: float | None) -> None:
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    if timeout is not None and timeout <= 0:
        raise InputError(f"timeout must be positive, got {timeout}")


def _or_offline(investigator: Investigator | None) -> Investigator:
    """The investigator to score: the one given, else the default offline investigator."""
    if investigator is not None:
        return investigator
    from day2ai.agent.offline import OfflineInvestigator

    return OfflineInvestigator()


def _name(investigator: Investigator) -> str:
    return str(getattr(investigator, "name", type(investigator).__name__))


async def aevaluate(
    suite: str | Path | Sequence[str | Path],
    investigator: Investigator | None = None,
    *,
    concurrency: int = 1,
    timeout: float | None = None,
    knowledge: Any = None,
    on_case: CaseCallback | None = None,
) -> SuiteResult:
    """Investigate every bundle of a suite (a directory, or a list of bundle paths) on this loop.

    ``on_case`` is called with each case's score as it completes (progress display);
    the returned result lists cases sorted by id whatever the completion order.
    """
    _check(concurrency, timeout)
    investigator = _or_offline(investigator)
    paths, label = _paths(suite)
    gate = asyncio.Semaphore(concurrency)

    async def one(path: Path) -> CaseResult:
        async with gate:
            result = await run_case(path, investigator, knowledge=knowledge, timeout=timeout)
        if on_case is not None:
            on_case(result)
        return result

    results = await asyncio.gather(*(one(p) for p in paths))
    return aggregate(results, suite=label, investigator=_name(investigator))


# ------------------------------------------------------------------------------ executors
def evaluate_case(job: dict[str, Any]) -> CaseResult:
    """The executor job: investigate and score the bundle at ``job["path"]`` in this worker."""
    from day2ai.runner import open_knowledge

    investigator = job["investigator"]
    if investigator is None:
        from day2ai.agent.offline import OfflineInvestigator

        investigator = OfflineInvestigator()
    knowledge = open_knowledge(job["knowledge"])
    return asyncio.run(run_case(job["path"], investigator, knowledge=knowledge, offload=False))


def _jobs(paths: list[Path], investigator: Investigator, knowledge: Any) -> list[dict[str, Any]]:
    from day2ai.runner import knowledge_spec

    sendable, kb = knowledge_spec(knowledge)
    if not sendable:
        raise InputError("the knowledge base cannot be sent to worker processes; pass its index path instead")
    try:
        pickle.dumps(investigator)
    except Exception as exc:
        raise InputError(f"investigator {_name(investigator)} cannot be sent to worker processes "
                         f"({describe(exc)}); evaluate it without workers") from None
    return [{"path": str(p), "investigator": investigator, "knowledge": kb} for p in paths]


def evaluate_with(
    executor: Any,
    suite: str | Path | Sequence[str | Path],
    investigator: Investigator,
    *,
    timeout: float | None = None,
    knowledge: Any = None,
    on_case: CaseCallback | None = None,
) -> SuiteResult:
    """Score a suite over an :class:`~day2ai.executors.Executor` (cases stream back as they finish)."""
    _check(1, timeout)
    paths, label = _paths(suite)
    results: list[CaseResult] = []
    for done in executor.map(evaluate_case, _jobs(paths, investigator, knowledge), timeout=timeout):
        path = Path(done.item["path"])
        if done.error is not None or not isinstance(done.value, CaseResult):
            case = failed_case(path, done.error or "worker returned no result", done.seconds)
        else:
            case = done.value
        results.append(case)
        if on_case is not None:
            on_case(case)
    return aggregate(results, suite=label, investigator=_name(investigator))


def evaluate(
    suite: str | Path | Sequence[str | Path],
    investigator: Investigator | None = None,
    *,
    concurrency: int = 1,
    timeout: float | None = None,
    knowledge: Any = None,
    on_case: CaseCallback | None = None,
    workers: int | None = None,
    ray: str | None = None,
) -> SuiteResult:
    """Score a suite. By default on an event loop (:func:`aevaluate`; inside a running loop, e.g.
    Jupyter, in a thread); ``workers=N`` over N local processes, ``ray="auto"|ADDRESS`` over Ray.
    Without ``investigator``, the offline investigator is scored."""
    investigator = _or_offline(investigator)
    if workers is not None or ray:
        from day2ai.executors import get_executor

        executor = get_executor(workers=workers, ray=ray)
        try:
            return evaluate_with(executor, suite, investigator, timeout=timeout, knowledge=knowledge,
                                 on_case=on_case)
        finally:
            executor.close()
    return run_sync(aevaluate(suite, investigator, concurrency=concurrency, timeout=timeout,
                              knowledge=knowledge, on_case=on_case))
