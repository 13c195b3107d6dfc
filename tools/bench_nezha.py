"""Honest measurement on real incidents (nezha-tt-dev): plain scores and leave-one-out over any setting
chosen by looking at the cases.

    .venv/bin/python tools/bench_nezha.py [SUITE] [--json out.json]
    .venv/bin/python tools/bench_nezha.py SUITE --grid day2ai.analysis.metrics.PERSIST_SHARE=0,0.3333,0.6667
    .venv/bin/python tools/bench_nezha.py SUITE --grid MOD.A=1,2 --grid MOD.B=x,y   # every combination

Without ``--grid`` it runs the offline investigator once per case with the code's settings (no
setting of the offline investigator was fitted on these cases; the write-up says how each constant was
chosen). With ``--grid MODULE.ATTR=v1,v2,...`` every value is run on every case; the leave-one-out
figure then picks, for each case, the value that scores best on the *other* cases (AC@1, then AC@3,
then fault accuracy; ties go to the first value, which should be the code's default) and scores the
left-out case with it. That figure is printed first: it is what the setting is worth on a case it was
not chosen on. The plain figure (the first value on every case) follows.

``--no-baseline`` drops each incident's explicit ``baseline`` before investigating (the cases are
not changed on disk): the same real telemetry in the shape a user without a declared fault-free
period gives it, an input shape nothing was tuned on. ``--alert-shift S`` moves each alert time by S
seconds (the cases' alerts fire 90 s after the injection; -60 and +60 ask how the result depends on
a faster or slower alert).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import itertools
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from day2ai.agent.offline import OfflineInvestigator  # noqa: E402
from day2ai.sources.bundle import load_bundle, read_truth  # noqa: E402

DEFAULT_SUITE = REPO.parent / "shared" / "data" / "nezha-tt-dev"


async def run_case(path: Path, no_baseline: bool = False, alert_shift: float = 0.0) -> dict[str, Any]:
    bundle = load_bundle(path)
    truth = read_truth(path)
    incident = bundle.incident.model_copy(update={"baseline": None}) if no_baseline else bundle.incident
    if alert_shift:
        incident = incident.model_copy(update={"detected_at": incident.detected_at + timedelta(seconds=alert_shift)})
    started = time.perf_counter()
    report = await OfflineInvestigator().investigate(incident, bundle.sources)
    seconds = time.perf_counter() - started
    ranked = report.ranked_services()
    fault = report.hypotheses[0].fault.value if report.hypotheses else None
    row: dict[str, Any] = {"case": path.name, "seconds": round(seconds, 3), "ranked": ranked[:5], "fault": fault}
    if truth is not None:
        svc = truth.root_cause.service
        rank = next((i for i, s in enumerate(ranked, 1) if s == svc), None)
        row.update(
            truth=svc,
            truth_fault=truth.root_cause.fault.value,
            rank=rank,
            fault_ok=rank == 1 and fault == truth.root_cause.fault.value,
        )
    return row


def score(rows: list[dict[str, Any]]) -> dict[str, float]:
    n = max(len(rows), 1)
    ranks = [r.get("rank") for r in rows]
    return {
        "cases": len(rows),
        "ac1": sum(k == 1 for k in ranks) / n,
        "ac3": sum(k is not None and k <= 3 for k in ranks) / n,
        "ac5": sum(k is not None and k <= 5 for k in ranks) / n,
        "fault": sum(bool(r.get("fault_ok")) for r in rows) / n,
        "median_s": statistics.median(r["seconds"] for r in rows) if rows else 0.0,
    }


def _key(s: dict[str, float]) -> tuple[float, float, float]:
    return (s["ac1"], s["ac3"], s["fault"])


def leave_one_out(by_value: dict[str, list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Per case, the row under the value that scores best on the other cases."""
    values = list(by_value)
    n = len(by_value[values[0]])
    out, chosen = [], dict.fromkeys(values, 0)
    for i in range(n):
        best = max(
            values,
            key=lambda v: (_key(score([r for j, r in enumerate(by_value[v]) if j != i])), -values.index(v)),
        )
        chosen[best] += 1
        out.append({**by_value[best][i], "value": best})
    return out, chosen


def _set(target: str, value: str) -> None:
    module, _, attr = target.rpartition(".")
    mod = importlib.import_module(module)
    current = getattr(mod, attr)
    setattr(mod, attr, type(current)(value))


def _fmt(s: dict[str, float]) -> str:
    return (
        f"AC@1 {s['ac1']:.3f}  AC@3 {s['ac3']:.3f}  AC@5 {s['ac5']:.3f}  fault {s['fault']:.3f}"
        f"  median {s['median_s']:.2f} s/case  ({int(s['cases'])} cases)"
    )


async def main_async(args: argparse.Namespace) -> int:
    suite = Path(args.suite)
    cases = sorted(p for p in suite.iterdir() if (p / "truth.yaml").exists())
    if not cases:
        print(f"no cases with truth.yaml under {suite}", file=sys.stderr)
        return 2
    settings = [(t, [v for v in vals.split(",") if v]) for t, _, vals in (g.partition("=") for g in args.grid or [])]
    combos = [dict(zip([t for t, _ in settings], c, strict=True)) for c in itertools.product(*(v for _, v in settings))]
    by_value: dict[str, list[dict[str, Any]]] = {}
    for combo in combos:
        for target, value in combo.items():
            _set(target, value)
        label = ";".join(f"{t.rpartition('.')[2]}={v}" for t, v in combo.items())
        by_value[label] = [await run_case(c, args.no_baseline, args.alert_shift) for c in cases]
    plain = next(iter(by_value.values()))
    result: dict[str, Any] = {"suite": str(suite), "plain": score(plain), "rows": plain}
    if len(by_value) > 1:
        loo, chosen = leave_one_out(by_value)
        names = [t for t, _ in settings]
        result.update(grid={"settings": dict(settings), "chosen": chosen}, leave_one_out=score(loo))
        result["per_value"] = {v: score(rows) for v, rows in by_value.items()}
        print(f"leave-one-out over {names} (chosen {chosen}): {_fmt(result['leave_one_out'])}")
    print(f"plain: {_fmt(result['plain'])}")
    misses = [r for r in plain if r.get("rank") != 1 or not r.get("fault_ok")]
    for r in misses if args.verbose else []:
        print(f"  {r['case']}: rank {r.get('rank')} fault {r['fault']} truth {r.get('truth')}/{r.get('truth_fault')}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite", nargs="?", default=str(DEFAULT_SUITE))
    ap.add_argument("--json", help="write scores and per-case rows here")
    ap.add_argument(
        "--grid",
        action="append",
        help="MODULE.ATTR=v1,v2,...: leave-one-out over a data-chosen setting (repeat: over all combinations)",
    )
    ap.add_argument("--no-baseline", action="store_true", help="drop each incident's explicit baseline")
    ap.add_argument("--alert-shift", type=float, default=0.0, help="move each alert time by this many seconds")
    ap.add_argument("--verbose", "-v", action="store_true")
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
