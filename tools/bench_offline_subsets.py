"""How the offline investigator ranks when a bundle has only some of its sources.

    .venv/bin/python tools/bench_offline_subsets.py evals/suites/dev --cases 30

For each subset (metrics only, logs only, traces only, no traces/topology) every case runs with
the other sources removed; prints AC@1 and AC@3 per subset.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from day2ai.agent.offline import OfflineInvestigator
from day2ai.sources.bundle import load_bundle, read_truth

KINDS = ("metrics", "logs", "traces", "changes", "topology")
SUBSETS = {
    "metrics only": ("metrics",),
    "logs only": ("logs",),
    "traces only": ("traces",),
    "no traces/topology": ("metrics", "logs", "changes"),
}


async def main_async(suite: Path, n: int, verbose: bool = False) -> None:
    cases = sorted(p for p in suite.iterdir() if (p / "incident.yaml").is_file())[:n]
    for label, keep in SUBSETS.items():
        hit1 = hit3 = 0
        for path in cases:
            bundle, truth = load_bundle(path), read_truth(path)
            if truth is None:
                continue
            src = dataclasses.replace(
                bundle.sources, **{k: getattr(bundle.sources, k) if k in keep else None for k in KINDS}
            )
            ranked = (await OfflineInvestigator().investigate(bundle.incident, src)).ranked_services()
            hit1 += ranked[:1] == [truth.root_cause.service]
            hit3 += truth.root_cause.service in ranked[:3]
            if verbose:
                rank = ranked.index(truth.root_cause.service) + 1 if truth.root_cause.service in ranked else None
                print(f"  {label}: {path.name} truth={truth.root_cause.service} rank={rank} top={ranked[:1]}")
        print(f"{label}: AC@1 {hit1 / len(cases):.2f} AC@3 {hit3 / len(cases):.2f} ({len(cases)} cases)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite")
    ap.add_argument("--cases", type=int, default=30)
    ap.add_argument("--verbose", "-v", action="store_true", help="one line per case and subset")
    args = ap.parse_args()
    asyncio.run(main_async(Path(args.suite), args.cases, args.verbose))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
