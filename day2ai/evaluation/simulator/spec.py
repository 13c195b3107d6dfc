"""What one simulated case is made of: fault, difficulty, size and the shape of its bundle.

A :class:`CaseSpec` is drawn for case ``index`` of a suite from ``(seed, index)`` alone, so case
7 of seed 2026 is the same bundle whether the suite has 10 cases or 60.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from day2ai.models import Fault

#: every fault word the simulator injects (all of the taxonomy except ``other``)
SIM_FAULTS: tuple[Fault, ...] = tuple(f for f in Fault if f is not Fault.OTHER)

SHAPES: tuple[str, ...] = ("layered", "gateway_fanout", "deep_chain", "mesh", "event_driven", "multi_entry")


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


MetricLayout = Literal["service", "pod", "mixed"]
TimeFormat = Literal["rfc3339_ms", "rfc3339_ns", "rfc3339_offset", "epoch"]


class BundleShape(BaseModel):
    """Which files and fields a bundle holds, and how they are written."""

    model_config = ConfigDict(frozen=True)

    topology: bool = True
    traces: bool = True
    span_status: bool = True
    client_spans: bool = True
    changes: bool = True
    symptom_service: bool = True
    baseline: Literal["adjacent", "short", "none"] = "adjacent"
    step_seconds: int = 15
    metric_layout: MetricLayout = "mixed"
    retransmit_metric: bool = True
    gzip: tuple[str, ...] = ()
    log_time_format: TimeFormat = "rfc3339_ms"
    log_trace_ids: bool = True
    level_case: Literal["upper", "lower"] = "upper"


class CaseSpec(BaseModel):
    """Everything that decides one case; the rest comes from its random stream."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0)
    seed: int
    fault: Fault
    difficulty: Difficulty
    shape: str
    n_components: int = Field(ge=6, le=80)
    window_minutes: int = Field(ge=20, le=360)
    log_lines: int = Field(ge=0)
    spans: int = Field(ge=0)
    decoys: tuple[str, ...] = ()
    bundle: BundleShape = Field(default_factory=BundleShape)


DECOYS: tuple[str, ...] = (
    "unrelated_deploy",
    "batch_cpu",
    "pre_existing_errors",
    "loud_victim",
    "pod_eviction",
)

_DIFFICULTY_CYCLE: tuple[Difficulty, ...] = (
    Difficulty.EASY,
    Difficulty.MEDIUM,
    Difficulty.HARD,
    Difficulty.MEDIUM,
    Difficulty.EASY,
    Difficulty.HARD,
    Difficulty.MEDIUM,
    Difficulty.HARD,
    Difficulty.EASY,
    Difficulty.MEDIUM,
)


def case_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The random stream of one case (``stream`` separates independent uses)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, index, stream, 0x5EED])


def fault_for(seed: int, index: int) -> Fault:
    """Faults in shuffled rounds of the 13 words: any run of 13 cases covers each once."""
    block, pos = divmod(index, len(SIM_FAULTS))
    order = np.random.default_rng([seed & 0xFFFFFFFF, block, 0xFA17]).permutation(len(SIM_FAULTS))
    return SIM_FAULTS[int(order[pos])]


def difficulty_for(seed: int, index: int) -> Difficulty:
    return _DIFFICULTY_CYCLE[(index + seed) % len(_DIFFICULTY_CYCLE)]


def _bundle_shape(rng: np.random.Generator, difficulty: Difficulty, fault: Fault) -> BundleShape:
    def chance(p: float) -> bool:
        return bool(rng.random() < p)

    gz_all = ("metrics", "logs", "traces", "changes")
    gz: tuple[str, ...] = gz_all if chance(0.35) else tuple(k for k in gz_all if chance(0.2))
    fmt: TimeFormat = ("rfc3339_ms", "rfc3339_ns", "rfc3339_offset", "epoch")[
        int(rng.choice(4, p=[0.5, 0.2, 0.15, 0.15]))
    ]
    common = {
        "gzip": gz,
        "log_time_format": fmt,
        "retransmit_metric": chance(0.8),
        "level_case": "lower" if chance(0.25) else "upper",
        "client_spans": chance(0.7),
        "log_trace_ids": chance(0.85),
    }
    if difficulty is Difficulty.EASY:
        return BundleShape(metric_layout="mixed" if chance(0.6) else "service", **common)
    if difficulty is Difficulty.MEDIUM:
        missing = str(rng.choice(["topology", "span_status", "changes", "symptom_service", "none"]))
        return BundleShape(
            topology=missing != "topology",
            span_status=missing != "span_status",
            changes=missing != "changes",
            symptom_service=missing != "symptom_service",
            baseline="adjacent" if chance(0.6) else "none",
            step_seconds=60 if chance(0.3) else 15,
            metric_layout=("mixed", "service", "pod")[int(rng.integers(3))],
            **common,
        )
    return BundleShape(
        topology=chance(0.4),
        span_status=chance(0.5),
        changes=chance(0.6),
        symptom_service=chance(0.75),
        traces=chance(0.9),
        baseline="short" if chance(0.6) else "none",
        step_seconds=60 if chance(0.6) else 15,
        metric_layout="pod" if chance(0.6) else "mixed",
        **common,
    )


def make_spec(
    seed: int,
    index: int,
    *,
    fault: Fault | None = None,
    difficulty: Difficulty | None = None,
    scale: float = 1.0,
    n_components: int | None = None,
    window_minutes: int | None = None,
    log_lines: int | None = None,
    spans: int | None = None,
) -> CaseSpec:
    """Draw the spec of case ``index``; explicit arguments override the draw."""
    rng = case_rng(seed, index, 1)
    fault = fault or fault_for(seed, index)
    difficulty = difficulty or difficulty_for(seed, index)
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    n = n_components or int(rng.integers(10, 41))
    minutes = window_minutes or int(rng.integers(45, 91))
    size = float(rng.uniform(0.5, 1.0)) * scale
    lines = log_lines if log_lines is not None else int(12000 * size * n / 25)
    span_target = spans if spans is not None else int(7000 * size * n / 25)
    n_decoys = {
        Difficulty.EASY: int(rng.random() < 0.3),
        Difficulty.MEDIUM: 1,
        Difficulty.HARD: int(rng.integers(2, 5)),
    }[difficulty]
    decoys = tuple(str(d) for d in rng.choice(DECOYS, size=n_decoys, replace=False))
    return CaseSpec(
        index=index,
        seed=seed,
        fault=fault,
        difficulty=difficulty,
        shape=shape,
        n_components=n,
        window_minutes=minutes,
        log_lines=lines,
        spans=span_target,
        decoys=decoys,
        bundle=_bundle_shape(rng, difficulty, fault),
    )
