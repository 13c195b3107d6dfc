"""Scenario simulator: writes realistic incident bundles with their truth.

``simulate(out_dir, cases, seed)`` writes ``cases`` bundles under ``out_dir``; case ``i`` depends
only on ``(seed, i)`` and the options, so output is deterministic for a seed.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from day2ai.evaluation.simulator.case import simulate_case
from day2ai.evaluation.simulator.spec import SIM_FAULTS, CaseSpec, Difficulty, make_spec
from day2ai.models import Fault

__all__ = ["SIM_FAULTS", "CaseSpec", "Difficulty", "make_spec", "simulate", "simulate_case", "specs"]


def specs(
    cases: int,
    seed: int,
    *,
    difficulty: Difficulty | None = None,
    fault: Fault | None = None,
    scale: float = 1.0,
    n_components: int | None = None,
    window_minutes: int | None = None,
    log_lines: int | None = None,
    spans: int | None = None,
) -> list[CaseSpec]:
    """The specs of cases ``0 .. cases-1`` of a suite."""
    return [
        make_spec(
            seed,
            i,
            fault=fault,
            difficulty=difficulty,
            scale=scale,
            n_components=n_components,
            window_minutes=window_minutes,
            log_lines=log_lines,
            spans=spans,
        )
        for i in range(cases)
    ]


def _case_dir(out_dir: Path, spec: CaseSpec) -> Path:
    return out_dir / f"case-{spec.index:04d}"


def _gzipped(spec: CaseSpec) -> CaseSpec:
    every = ("metrics", "logs", "traces", "changes")
    return spec.model_copy(update={"bundle": spec.bundle.model_copy(update={"gzip": every})})


def _run(args: tuple[Path, CaseSpec]) -> Path:
    return simulate_case(args[0], args[1])


def simulate(
    out_dir: Path,
    cases: int,
    seed: int,
    *,
    difficulty: Difficulty | None = None,
    fault: Fault | None = None,
    scale: float = 1.0,
    n_components: int | None = None,
    window_minutes: int | None = None,
    log_lines: int | None = None,
    spans: int | None = None,
    jobs: int = 1,
    gzip_all: bool = False,
) -> list[Path]:
    """Write ``cases`` bundles ``out_dir/case-0000`` ... and return their paths.

    ``gzip_all`` writes every JSONL file as ``.jsonl.gz`` (otherwise each case draws its own mix).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = [
        (_case_dir(out_dir, s), _gzipped(s) if gzip_all else s)
        for s in specs(
            cases,
            seed,
            difficulty=difficulty,
            fault=fault,
            scale=scale,
            n_components=n_components,
            window_minutes=window_minutes,
            log_lines=log_lines,
            spans=spans,
        )
    ]
    if jobs <= 1 or len(todo) <= 1:
        return [_run(t) for t in todo]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run, todo))
