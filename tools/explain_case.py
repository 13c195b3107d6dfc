"""Show why the offline investigator ranked a bundle's candidates as it did (developer aid).

Usage: .venv/bin/python tools/explain_case.py BUNDLE_DIR [--top 4]
Prints, for the top candidates and the truth service (if the bundle has a truth.yaml), the fusion
features, the ranking factors and the fault scores.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from day2ai.analysis.fusion import build_features, rank
from day2ai.sources.bundle import load_bundle, read_truth
from day2ai.tools.base import Investigation
from day2ai.tools.rca import signals as rca_signals


async def explain(bundle: Path, top: int) -> None:
    b = load_bundle(bundle)
    incident = b.incident
    inv = Investigation(incident=incident, sources=b.sources)
    signals = await rca_signals(inv)
    feats = build_features(signals)
    cands = rank(signals, top=50)
    truth = read_truth(bundle)
    names = [c.service for c in cands[:top]]
    if truth is not None:
        print(f"truth: {truth.root_cause.service}/{truth.root_cause.fault.value}")
        if truth.root_cause.service not in names:
            names.append(truth.root_cause.service)
    print(f"onset {signals.periods.onset:.0f} gaps={[g.source for g in inv.gaps]}")
    by_name = {c.service: (i, c) for i, c in enumerate(cands, 1)}
    for n in names:
        i, c = by_name.get(n, (None, None))
        f = feats.get(n)
        print(f"\n#{i} {n}")
        if c is not None:
            fs = sorted(c.fault_scores.items(), key=lambda kv: -kv[1])[:4]
            print(
                f"  score={c.score} own={c.own} victim={c.victim} explains={c.explains} fault={c.fault.value}"
                f" onset={c.onset} reasons={c.reasons}"
            )
            print("  faults:", ", ".join(f"{k.value}={v:.2f}" for k, v in fs))
        if f is not None:
            skip = {"service", "keys"}
            data = {}
            for k, v in f.model_dump().items():
                if k in skip or v in (0.0, {}, None, [], False):
                    continue
                if isinstance(v, dict) and k != "change":
                    v = {getattr(a, "value", a): round(b, 2) for a, b in v.items() if abs(b) >= 0.1}
                elif k == "change":
                    v = f"{v['kind'].value} prox={v['proximity']} min_before={v['minutes_before_onset']}"
                elif isinstance(v, float):
                    v = round(v, 3)
                data[k] = getattr(v, "value", v)
            print("  feats:", data)
            print(
                "  breadth",
                round(f.breadth(), 3),
                "blamed",
                round(f.blamed(), 3),
                "callers",
                signals.graph.callers(n)[:5],
                "callees",
                signals.graph.callees(n)[:6],
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--top", type=int, default=4)
    args = ap.parse_args()
    asyncio.run(explain(args.bundle, args.top))


if __name__ == "__main__":
    main()
