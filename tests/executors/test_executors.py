"""Executors: completion-order results, failures and dead workers cost only their own item."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from day2ai.errors import InputError
from day2ai.executors import InProcessExecutor, JobResult, ProcessExecutor, get_executor
from tests.executors.jobs import pid, square

ITEMS: list[dict[str, Any]] = [{"n": 2}, {"n": 3, "fail": True}, {"n": 4, "die": True}, {"n": 5}]


def _by_index(results: Iterator[JobResult]) -> dict[int, JobResult]:
    out = {r.index: r for r in results}
    return out


def test_get_executor_picks_the_mode() -> None:
    assert isinstance(get_executor(), InProcessExecutor)
    pool = get_executor(workers=3)
    assert isinstance(pool, ProcessExecutor) and pool.workers == 3
    with pytest.raises(InputError):
        ProcessExecutor(0)
    with pytest.raises(InputError):
        list(get_executor(workers=1).map(square, ITEMS, timeout=0))


def test_in_process_runs_here_and_reports_failures() -> None:
    results = _by_index(InProcessExecutor().map(square, [{"n": 2}, {"n": 3, "fail": True}]))
    assert results[0].value == 4 and results[0].ok
    assert results[1].error == "ValueError: bad item 3" and results[1].value is None
    assert next(InProcessExecutor().map(pid, [0])).value == os.getpid()


def test_process_pool_survives_failing_and_killed_workers() -> None:
    results = _by_index(ProcessExecutor(2).map(square, ITEMS))
    assert sorted(results) == [0, 1, 2, 3]
    assert results[0].value == 4 and results[3].value == 25
    assert results[1].error == "ValueError: bad item 3"
    assert results[2].error is not None and "killed" in results[2].error and "SIGKILL" in results[2].error
    assert all(r.item is ITEMS[i] or r.item == ITEMS[i] for i, r in results.items())
    assert {r.value for r in ProcessExecutor(2).map(pid, range(4))}.isdisjoint({os.getpid()})


def test_process_pool_stops_a_job_at_its_timeout_and_keeps_going() -> None:
    items = [{"n": 1, "sleep": 60}, {"n": 2}, {"n": 3}]
    results = list(ProcessExecutor(2).map(square, items, timeout=2.0))
    by_index = {r.index: r for r in results}
    assert by_index[0].error is not None and "TimeoutError" in by_index[0].error
    assert by_index[0].seconds < 30  # stopped, not waited for
    assert by_index[1].value == 4 and by_index[2].value == 9
    assert results[-1].index == 0  # completion order: the slow one comes last


def test_in_process_with_a_timeout_uses_a_child_to_stop_the_job() -> None:
    results = _by_index(InProcessExecutor().map(square, [{"n": 1, "sleep": 60}, {"n": 2}], timeout=2.0))
    assert "TimeoutError" in (results[0].error or "") and results[1].value == 4


def test_results_stream_as_they_finish() -> None:
    items = [{"n": 1, "sleep": 3.0}, {"n": 2}, {"n": 3}, {"n": 4}]
    order = [r.index for r in ProcessExecutor(2).map(square, items)]
    assert order[-1] == 0 and sorted(order) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in __import__("sys").path if p)}})
    try:
        yield get_executor(ray="auto")
    finally:
        ray.shutdown()


@pytest.mark.ray
@pytest.mark.slow
def test_ray_matches_in_process_and_a_killed_worker_costs_only_its_item(ray_executor: Any) -> None:
    assert ray_executor.workers == 2
    results = _by_index(ray_executor.map(square, ITEMS))
    assert results[0].value == 4 and results[3].value == 25
    assert results[1].error == "ValueError: bad item 3"
    assert results[2].error is not None and results[2].value is None  # the worker died mid-run
    again = _by_index(ray_executor.map(square, [{"n": n} for n in range(6)]))
    local = _by_index(InProcessExecutor().map(square, [{"n": n} for n in range(6)]))
    assert {i: r.value for i, r in again.items()} == {i: r.value for i, r in local.items()}


@pytest.mark.ray
@pytest.mark.slow
def test_ray_stops_a_job_at_its_timeout(ray_executor: Any) -> None:
    results = _by_index(ray_executor.map(square, [{"n": 1, "sleep": 60}, {"n": 2}], timeout=3.0))
    assert "TimeoutError" in (results[0].error or "") and results[1].value == 4


def test_workers_stay_warm_between_jobs_and_a_dead_one_is_replaced() -> None:
    pids = [r.value for r in ProcessExecutor(1).map(pid, range(3))]
    assert len(set(pids)) == 1  # one worker served every job
    items: list[Any] = [{"n": 1}, {"n": 2, "die": True}, {"n": 3}]
    results = _by_index(ProcessExecutor(1).map(square, items))
    assert results[0].value == 1 and results[2].value == 9 and results[1].error is not None
