"""Generalisation measures for the log-template miner (used by ``tools/bench_logparse.py``).

Leave-systems-out (LSO): every setting and rule switch of :class:`MinerConfig` in :data:`GRID`,
and whether each masking rule is on, is chosen on four Loghub systems (the candidate with the
best mean GA there, near-ties (:data:`GA_TIE`) broken by mean PA: GA is the issue's first
target) and scored on the
other four, for every one of the 70 ways to split eight systems 4/4. The held-out
mean over splits is the estimate of accuracy on systems nobody tuned for; the all-systems mean
of the configuration chosen on all eight is what tuning on everything would report.

Nezha: the Java application logs of the Train Ticket cases (no labels) streamed through one
miner, case after case (one template-id space), measuring template counts, how many ids were
later merged away (id churn), whether the grouping depends on the order of the cases, and how
many distinct error templates each case produces.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

from day2ai.analysis.logmining import MinerConfig, TemplateMiner
from day2ai.analysis.logmining.masking import DEFAULT_ENABLED

#: Candidate values of every setting the LSO protocol chooses (the product is the candidate set).
GRID: dict[str, list[object]] = {
    "similarity_threshold": [0.4, 0.6],
    "min_distinct_values": [2, 3, 4, 6],
    "prefix_tokens": [0, 1],
    "caps_words_differ": [True, False],
    "unit_words": [True, False],
    "similarity_of_constants": [True, False],
    "max_word_differences": [1, 8],
    "shared_values": [True, False],
}

Scores = dict[str, tuple[float, float]]  # system -> (GA, PA)
Scorer = Callable[[MinerConfig, str], tuple[float, float]]


def candidates(grid: dict[str, list[object]] = GRID) -> list[dict[str, object]]:
    """Every combination of the grid's values, then each built-in masking rule switched off alone
    (on the default settings), as MinerConfig overrides."""
    names = list(grid)
    rows = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    for rule in DEFAULT_ENABLED:
        rows.append({"masking": {"enabled": [r for r in DEFAULT_ENABLED if r != rule]}})
    return rows


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


#: Mean-GA differences below this are ties, decided by mean PA: 0.002 is 4 lines of a 2,000-line
#: system, the size of one rare template (declared before the final runs, not fitted).
GA_TIE = 0.002


def _choose(table: list[tuple[dict[str, object], Scores]], systems: Sequence[str]) -> int:
    """Index of the candidate with the best mean GA on ``systems`` (near-ties: best mean PA; then first)."""
    ga = [_mean([scores[s][0] for s in systems]) for _, scores in table]
    pa = [_mean([scores[s][1] for s in systems]) for _, scores in table]
    top = max(ga)
    return max((i for i in range(len(table)) if ga[i] >= top - GA_TIE), key=lambda i: (pa[i], -i))


def leave_systems_out(
    table: list[tuple[dict[str, object], Scores]], systems: Sequence[str], held_out: int = 4
) -> dict[str, object]:
    """Choose a candidate on each training set, score it on the held-out systems (all splits)."""
    splits = []
    for test in itertools.combinations(systems, held_out):
        train = [s for s in systems if s not in test]
        best_index = _choose(table, train)
        chosen, scores = table[best_index]
        splits.append(
            {
                "train": train,
                "test": list(test),
                "chosen": chosen,
                "train_GA": _mean([scores[s][0] for s in train]),
                "train_PA": _mean([scores[s][1] for s in train]),
                "test_GA": _mean([scores[s][0] for s in test]),
                "test_PA": _mean([scores[s][1] for s in test]),
            }
        )
    best_all = _choose(table, systems)
    chosen_all, scores_all = table[best_all]
    test_ga = [float(str(s["test_GA"])) for s in splits]
    test_pa = [float(str(s["test_PA"])) for s in splits]
    picks = Counter(json.dumps(s["chosen"], sort_keys=True) for s in splits)
    return {
        "splits": splits,
        "held_out_mean_GA": _mean(test_ga),
        "held_out_mean_PA": _mean(test_pa),
        "held_out_min_GA": min(test_ga),
        "held_out_min_PA": min(test_pa),
        "all_systems_choice": chosen_all,
        "all_systems_mean_GA": _mean([scores_all[s][0] for s in systems]),
        "all_systems_mean_PA": _mean([scores_all[s][1] for s in systems]),
        "choices": dict(picks.most_common()),
        "candidates": len(table),
        "table": [
            {
                "overrides": overrides,
                "GA": {s: v[0] for s, v in scores.items()},
                "PA": {s: v[1] for s, v in scores.items()},
            }
            for overrides, scores in table
        ],
    }


#: Subsets of the candidate table whose leave-systems-out results show what one setting does
#: (rows are subsets of one table, so the comparison is like with like).
def _fixed_count(n: int) -> Callable[[dict[str, object]], bool]:
    return lambda o: o.get("shared_values") is True and o.get("min_distinct_values") == n


ABLATIONS: dict[str, Callable[[dict[str, object]], bool]] = {
    "shared_values off (grid rows)": lambda o: o.get("shared_values") is False,
    "shared_values on (grid rows)": lambda o: o.get("shared_values") is True,
    **{f"min_distinct_values fixed at {n} (shared_values on)": _fixed_count(n) for n in (2, 3, 4, 6)},
}


def ablations(table: list[tuple[dict[str, object], Scores]], systems: Sequence[str]) -> dict[str, dict[str, float]]:
    """Held-out summary of the leave-systems-out protocol run on each subset of :data:`ABLATIONS`."""
    out: dict[str, dict[str, float]] = {}
    for name, keep in ABLATIONS.items():
        rows = [row for row in table if keep(row[0])]
        if not rows:
            continue
        result = leave_systems_out(rows, systems)
        splits = cast(list[dict[str, object]], result["splits"])
        out[name] = {
            "candidates": float(len(rows)),
            **{k: float(str(result[k])) for k in _SUMMARY},
            "splits_below_0.93_GA": float(sum(float(str(s["test_GA"])) < 0.93 for s in splits)),
        }
    return out


_SUMMARY = (
    "held_out_mean_GA",
    "held_out_mean_PA",
    "held_out_min_GA",
    "held_out_min_PA",
    "all_systems_mean_GA",
    "all_systems_mean_PA",
)


def score_table(systems: Sequence[str], score: Scorer) -> list[tuple[dict[str, object], Scores]]:
    """(overrides, per-system scores) of every candidate, the default configuration first."""
    table: list[tuple[dict[str, object], Scores]] = []
    default = MinerConfig().model_dump()
    rows = candidates()
    rows.sort(key=lambda c: any(default[k] != v for k, v in c.items()))  # default first (wins ties)
    for overrides in rows:
        config = MinerConfig.model_validate(overrides)
        table.append((overrides, {s: score(config, s) for s in systems}))
    return table


# -- Nezha Java logs --------------------------------------------------------------------------

_ERROR = re.compile(r"\b(?:error|exception|fail(?:ed|ure)?|refused|timed? ?out)\b", re.IGNORECASE)


def nezha_cases(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "logs.jsonl.gz").exists())


def case_records(case: Path) -> Iterator[tuple[str, bool]]:
    """(headline, is an error) of each record of a case."""
    with gzip.open(case / "logs.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            message = str(record.get("message", "")).split("\n", 1)[0]
            level = str(record.get("level", "")).upper()
            yield message, level in ("ERROR", "FATAL") or _ERROR.search(message) is not None


def _stream(cases: Sequence[list[tuple[str, bool]]], config: MinerConfig) -> tuple[TemplateMiner, list[list[str]]]:
    miner = TemplateMiner(config)
    return miner, [miner.add_many([m for m, _ in records]) for records in cases]


def _same_groups(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of lines whose group (as a set of lines) is the same under both labellings."""
    pairs = Counter(zip(a, b, strict=True))
    size_a, size_b = Counter(a), Counter(b)
    same = sum(n for (x, y), n in pairs.items() if size_a[x] == n == size_b[y])
    return same / len(a) if a else 1.0


def nezha_report(root: Path, config: MinerConfig) -> dict[str, object]:
    """Template statistics of the Nezha Java logs (see module doc)."""
    paths = nezha_cases(root)
    cases = [list(case_records(p)) for p in paths]
    miner, ids = _stream(cases, config)
    final = [[miner.resolve(t) for t in case] for case in ids]
    churn = sum(a != b for case, res in zip(ids, final, strict=True) for a, b in zip(case, res, strict=True))
    lines = sum(len(c) for c in cases)
    back_miner, backwards = _stream(cases[::-1], config)
    flat = [t for case in final for t in case]
    flat_back = [back_miner.resolve(t) for case in backwards[::-1] for t in case]
    seen: set[str] = set()
    per_case = []
    for path, records, case_ids in zip(paths, cases, final, strict=True):
        templates = set(case_ids)
        errors = {t for t, (_, bad) in zip(case_ids, records, strict=True) if bad}
        per_case.append(
            {
                "case": path.name,
                "lines": len(records),
                "templates": len(templates),
                "new_templates": len(templates - seen),
                "error_templates": len(errors),
                "new_error_templates": len(errors - seen),
            }
        )
        seen |= templates
    return {
        "cases": len(paths),
        "lines": lines,
        "templates": len(miner.templates()),
        "id_churn": churn / lines if lines else 0.0,
        "order_agreement": _same_groups(flat, flat_back),
        "mean_templates_per_case": _mean([float(str(c["templates"])) for c in per_case]),
        "mean_error_templates_per_case": _mean([float(str(c["error_templates"])) for c in per_case]),
        "per_case": per_case,
    }
