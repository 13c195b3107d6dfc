"""Tests of the leave-systems-out selection in tools/bench_logparse_lso.py (no data needed)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from bench_logparse_lso import GA_TIE, leave_systems_out

SYSTEMS = ["a", "b", "c", "d"]


def test_each_split_is_chosen_on_its_training_systems_and_scored_on_the_others() -> None:
    # candidate 0 is good on a/b only, candidate 1 good on c/d only, candidate 2 middling everywhere
    table = [
        ({"k": 0}, {"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (0.2, 0.2), "d": (0.2, 0.2)}),
        ({"k": 1}, {"a": (0.2, 0.2), "b": (0.2, 0.2), "c": (1.0, 1.0), "d": (1.0, 1.0)}),
        ({"k": 2}, {"a": (0.7, 0.7), "b": (0.7, 0.7), "c": (0.7, 0.7), "d": (0.7, 0.7)}),
    ]
    result = leave_systems_out(table, SYSTEMS, held_out=2)
    splits = {tuple(s["test"]): s for s in result["splits"]}  # type: ignore[union-attr]
    assert len(splits) == 6
    assert splits[("c", "d")]["chosen"] == {"k": 0} and splits[("c", "d")]["test_GA"] == 0.2
    assert splits[("a", "b")]["chosen"] == {"k": 1} and splits[("a", "b")]["test_GA"] == 0.2
    assert splits[("a", "c")]["chosen"] == {"k": 2} and splits[("a", "c")]["test_GA"] == 0.7
    assert result["held_out_min_GA"] == 0.2
    assert result["all_systems_choice"] == {"k": 2}
    assert abs(result["held_out_mean_GA"] - (0.2 * 2 + 0.7 * 4) / 6) < 1e-9  # type: ignore[operator]


def test_near_ties_in_ga_are_decided_by_pa() -> None:
    low_pa = {s: (0.9, 0.1) for s in SYSTEMS}
    high_pa = {s: (0.9 - GA_TIE / 2, 0.9) for s in SYSTEMS}
    result = leave_systems_out([({"k": 0}, low_pa), ({"k": 1}, high_pa)], SYSTEMS, held_out=2)
    assert result["all_systems_choice"] == {"k": 1}
    clear = {s: (0.9 - 2 * GA_TIE, 0.9) for s in SYSTEMS}
    result = leave_systems_out([({"k": 0}, low_pa), ({"k": 1}, clear)], SYSTEMS, held_out=2)
    assert result["all_systems_choice"] == {"k": 0}


def test_ablations_run_the_protocol_on_each_subset_of_candidates() -> None:
    from bench_logparse_lso import ablations

    systems = [f"s{i}" for i in range(8)]  # 70 splits of 4/4, as in the benchmark
    good = {s: (1.0, 0.9) for s in systems}
    poor = {s: (0.5, 0.4) for s in systems}
    table = [
        ({"shared_values": True, "min_distinct_values": 4}, good),
        ({"shared_values": False, "min_distinct_values": 4}, poor),
        ({"masking": {"enabled": []}}, good),
    ]
    summary = ablations(table, systems)
    off = summary["shared_values off (grid rows)"]
    assert off["candidates"] == 1 and off["held_out_mean_GA"] == 0.5 and off["splits_below_0.93_GA"] == 70
    assert summary["shared_values on (grid rows)"]["held_out_min_PA"] == 0.9
    assert summary["min_distinct_values fixed at 4 (shared_values on)"]["candidates"] == 1
    assert "min_distinct_values fixed at 2 (shared_values on)" not in summary  # no such rows
