"""Convert RCAEval benchmark cases (RE1/RE2/RE3) into a day2ai suite of incident bundles.

    .venv/bin/python tools/convert_rcaeval.py data/RE2/RE2-OB evals/suites/re2-ob
    day2ai eval evals/suites/re2-ob --out re2-ob.json

ROOT is any directory above the ``<service>_<fault>/<run>/`` case directories. The mapping from
RCAEval fault names to day2ai faults is documented in ``day2ai/evaluation/rcaeval.py``.
Exit codes: 0 done, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from day2ai.errors import InputError
from day2ai.evaluation.rcaeval import METRICS_FILES, convert_tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="directory holding RCAEval case directories")
    parser.add_argument("out", type=Path, help="suite directory to write bundles into")
    parser.add_argument("--prefix", help="bundle id prefix (default: the root directory name)")
    parser.add_argument("--metrics-file", choices=METRICS_FILES,
                        help="metrics CSV to read (default: the first present of %(choices)s)")
    parser.add_argument("--detection-delay", type=float, default=0.0,
                        help="seconds between injection and detection (RCAEval's t_delta)")
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz files")
    args = parser.parse_args(argv)
    try:
        result = convert_tree(args.root, args.out, prefix=args.prefix, metrics_file=args.metrics_file,
                              detection_delay=args.detection_delay, compress=args.gzip)
    except InputError as exc:
        print(f"convert_rcaeval: error: {exc}", file=sys.stderr)
        return 2
    for why in result.skipped:
        print(f"skipped {why}", file=sys.stderr)
    print(f"{len(result.bundles)} bundles written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
