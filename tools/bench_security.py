"""What hostile inputs of at most 10 MB cost one ``day2ai investigate`` run (#16).

    .venv/bin/python tools/bench_security.py [--out evals/results/bench-security.json]

Builds each case of tests/security/hostile.py in a temp dir and runs the CLI once per case in a
fresh process, measuring wall time and the peak RSS of the process and its children. The targets
are at most 1 GB RSS and 60 s per input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.security.hostile import build_cases, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the raw results as JSON here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="day2ai-hostile-") as tmp:
        for name, argv in build_cases(Path(tmp)).items():
            cost = measure(argv)
            rows.append({"case": name, "exit": cost.code, "seconds": round(cost.seconds, 2),
                         "max_rss_mb": round(cost.max_rss_mb, 1)})
            print(f"| {name} | {cost.code} | {cost.seconds:.1f} | {cost.max_rss_mb:.0f} |", flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": "2-core shared VM", "cases": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
