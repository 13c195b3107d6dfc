"""Benchmark day2ai's log-template miner against drain3 on the Loghub-2k corrected samples.

For every system under ``--data`` (``<System>/<System>_2k.log_structured_corrected.csv``), the
``Content`` column is streamed through both miners in the same process; we report grouping
accuracy (GA), parsing accuracy (PA, exact template text after whitespace normalisation) and
lines per second (best of ``--repeat`` runs, each on a fresh miner), and the aggregate throughput
(all lines over the sum of the best-run seconds, stored under ``aggregate``). ``--stream N`` also
streams N synthetic lines (the loghub contents cycled, with their numbers perturbed) through
a single miner and reports lines/s and peak RSS.

    .venv/bin/python tools/bench_logparse.py                     # accuracy + speed table
    .venv/bin/python tools/bench_logparse.py --stream 1000000    # + 1M-line streaming run
    .venv/bin/python tools/bench_logparse.py --lso-json evals/results/logparse-lso.json \
        --nezha-json evals/results/logparse-nezha.json          # generalisation measures

``--lso-json`` runs the leave-systems-out protocol (with ``--shuffle SEED`` on each system's lines
in a random order: how much the result depends on the order of the stream) and ``--nezha-json``
the unlabelled Nezha Java-log stream (see ``tools/bench_logparse_lso.py``).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from day2ai.analysis.logmining import MinerConfig, TemplateMiner  # noqa: E402
from day2ai.analysis.logmining.masking import normalize_text  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_logparse_lso import (  # noqa: E402
    ablations,
    case_records,
    leave_systems_out,
    nezha_cases,
    nezha_report,
    score_table,
)

SYSTEMS = ("HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Linux", "Proxifier")


def load(data: Path, system: str) -> tuple[list[str], list[str], list[str]]:
    """(contents, ground-truth event ids, ground-truth templates) of one system."""
    path = data / system / f"{system}_2k.log_structured_corrected.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["Content"] for r in rows], [r["EventId"] for r in rows], [r["EventTemplate"] for r in rows]


def grouping_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of lines whose predicted group equals their true group as a set of lines."""
    truth_sizes = Counter(truth)
    members: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(predicted):
        members[group].append(i)
    correct = 0
    for lines in members.values():
        labels = {truth[i] for i in lines}
        if len(labels) == 1 and truth_sizes[truth[lines[0]]] == len(lines):
            correct += len(lines)
    return correct / len(truth)


def parsing_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of lines whose predicted template equals the truth (whitespace-normalised)."""
    same = sum(normalize_text(t) == normalize_text(p) for t, p in zip(truth, predicted, strict=True))
    return same / len(truth)


CONFIG = MinerConfig()


def run_day2ai(contents: Sequence[str], config: MinerConfig | None = None) -> tuple[list[str], list[str], float]:
    miner = TemplateMiner(config or CONFIG)
    start = time.perf_counter()
    ids = miner.add_many(contents)
    seconds = time.perf_counter() - start
    ids = [miner.resolve(i) for i in ids]
    texts = {info.template_id: info.template for info in miner.templates()}
    return ids, [texts[i] for i in ids], seconds


# The masking instructions of drain3's own example configuration (examples/drain3.ini), with
# every mask rendered as <*> so PA compares like with like.
DRAIN3_EXAMPLE_MASKING = [
    r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)",
    r"(?<=executed cmd )(\".+?\")",
]


def run_drain3_masked(contents: Sequence[str]) -> tuple[list[str], list[str], float]:
    return run_drain3(contents, masking=True)


def run_drain3(contents: Sequence[str], masking: bool = False) -> tuple[list[str], list[str], float]:
    import logging

    from drain3 import TemplateMiner as Drain3Miner
    from drain3.template_miner_config import TemplateMinerConfig

    logging.getLogger("drain3").setLevel(logging.WARNING)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th = 0.4
    config.drain_depth = 4
    config.parametrize_numeric_tokens = True
    if masking:
        from drain3.masking import MaskingInstruction

        config.masking_instructions = [MaskingInstruction(p, "*") for p in DRAIN3_EXAMPLE_MASKING]
    miner = Drain3Miner(config=config)
    start = time.perf_counter()
    ids = [miner.add_log_message(line)["cluster_id"] for line in contents]
    seconds = time.perf_counter() - start
    texts = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [str(i) for i in ids], [texts[i] for i in ids], seconds


Runner = Callable[[Sequence[str]], tuple[list[str], list[str], float]]


def evaluate(
    runner: Runner, contents: list[str], ids: list[str], templates: list[str], repeat: int
) -> dict[str, float]:
    best = float("inf")
    groups: list[str] = []
    texts: list[str] = []
    for _ in range(repeat):
        groups, texts, seconds = runner(contents)
        best = min(best, seconds)
    return {
        "GA": grouping_accuracy(ids, groups),
        "PA": parsing_accuracy(templates, texts),
        "lines_per_s": len(contents) / best,
        "lines": float(len(contents)),
        "seconds": best,
        "templates": float(len(set(groups))),
    }


def aggregate(per_system: dict[str, dict[str, float]]) -> dict[str, float]:
    """Throughput over all systems: total lines / total best-run seconds."""
    lines = sum(v["lines"] for v in per_system.values())
    seconds = sum(v["seconds"] for v in per_system.values())
    return {"lines": lines, "seconds": seconds, "lines_per_s": lines / seconds}


_NUMBER = re.compile(r"\d+")


def synthetic_stream(pool: Sequence[str], total: int, seed: int = 7) -> Iterator[str]:
    """Cycle through ``pool``, replacing every number with a random one of the same width."""
    rng = random.Random(seed)

    def perturb(match: re.Match[str]) -> str:
        width = len(match.group(0))
        return str(rng.randrange(10 ** (width - 1) if width > 1 else 0, 10**width))

    for i in range(total):
        yield _NUMBER.sub(perturb, pool[i % len(pool)])


def stream_run(pool: Sequence[str], total: int, chunk: int = 10_000) -> dict[str, float]:
    """Stream ``total`` synthetic lines through one miner, in chunks generated outside the timer.

    ``seconds`` is the miner's time only; ``wall_seconds`` includes generating the lines.
    """
    miner = TemplateMiner(CONFIG)
    lines = synthetic_stream(pool, total)
    seconds = 0.0
    wall = time.perf_counter()
    done = 0
    while done < total:
        batch = [next(lines) for _ in range(min(chunk, total - done))]
        start = time.perf_counter()
        miner.add_many(batch)
        seconds += time.perf_counter() - start
        done += len(batch)
    wall = time.perf_counter() - wall
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "lines": float(total),
        "seconds": seconds,
        "wall_seconds": wall,
        "lines_per_s": total / seconds,
        "templates": float(len(miner.templates())),
        "peak_rss_mb": peak_kib / 1024,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "loghub-2k")
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS))
    parser.add_argument("--repeat", type=int, default=3, help="speed: best of N runs per system")
    parser.add_argument("--no-drain3", action="store_true", help="skip the drain3 comparison")
    parser.add_argument("--stream", type=int, default=0, help="also stream N synthetic lines (peak RSS)")
    parser.add_argument("--stream-only", action="store_true", help="only the streaming run")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--show-errors", type=int, default=0, help="print N mismatched templates per system")
    parser.add_argument("--config", default="{}", help="MinerConfig overrides as JSON (default: none)")
    parser.add_argument("--lso-json", type=Path, help="run leave-systems-out; write its results here")
    parser.add_argument(
        "--shuffle", type=int, default=0, help="leave-systems-out on each system's lines shuffled with this seed"
    )
    parser.add_argument("--nezha-json", type=Path, help="mine the Nezha Java logs; write the results here")
    parser.add_argument("--nezha", type=Path, default=REPO.parent / "shared" / "data" / "nezha-tt-dev")
    args = parser.parse_args(argv)
    global CONFIG
    CONFIG = MinerConfig.model_validate(json.loads(args.config))
    if args.lso_json:
        run_lso(args.data, args.systems, args.lso_json, args.shuffle)
    if args.nezha_json:
        run_nezha(args.nezha, args.nezha_json)

    results: dict[str, dict[str, dict[str, float]]] = {"day2ai": {}, "drain3": {}, "drain3+mask": {}}
    pool: list[str] = []
    for system in args.systems:
        contents, ids, templates = load(args.data, system)
        pool.extend(contents)
        if args.stream_only:
            continue
        results["day2ai"][system] = evaluate(run_day2ai, contents, ids, templates, args.repeat)
        if not args.no_drain3:
            results["drain3"][system] = evaluate(run_drain3, contents, ids, templates, args.repeat)
            results["drain3+mask"][system] = evaluate(run_drain3_masked, contents, ids, templates, args.repeat)
        if args.show_errors:
            show_errors(contents, templates, args.show_errors)
    if not args.stream_only:
        print_table(results, args.systems)
        totals = {name: aggregate(per) for name, per in results.items() if per}
        results["aggregate"] = totals
        base = totals.get("day2ai")
        for name, total in totals.items():
            ratio = ""
            if base and name != "day2ai":
                ratio = f" (day2ai: {base['lines_per_s'] / total['lines_per_s']:.2f}x)"
            print(
                f"aggregate {name}: {total['lines']:.0f} lines in {total['seconds'] * 1000:.1f} ms = "
                f"{total['lines_per_s']:,.0f} lines/s{ratio}"
            )
    if args.stream:
        stream = stream_run(pool, args.stream)
        results["stream"] = {"day2ai": stream}
        print(
            f"\nstream: {stream['lines']:.0f} lines in {stream['seconds']:.1f} s of mining "
            f"({stream['wall_seconds']:.1f} s with line generation) = "
            f"{stream['lines_per_s']:,.0f} lines/s, {stream['templates']:.0f} templates, "
            f"peak RSS {stream['peak_rss_mb']:.1f} MB"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def shuffled(rows: tuple[list[str], list[str], list[str]], seed: int) -> tuple[list[str], list[str], list[str]]:
    """The same lines (contents, ids, templates) in a random order (``seed`` 0: unchanged)."""
    if not seed:
        return rows
    order = list(range(len(rows[0])))
    random.Random(seed).shuffle(order)
    contents, ids, templates = rows
    return [contents[i] for i in order], [ids[i] for i in order], [templates[i] for i in order]


def run_lso(data: Path, systems: Sequence[str], out: Path, shuffle: int = 0) -> None:
    loaded = {s: shuffled(load(data, s), shuffle) for s in systems}

    def score(config: MinerConfig, system: str) -> tuple[float, float]:
        contents, ids, templates = loaded[system]
        groups, texts, _ = run_day2ai(contents, config)
        return grouping_accuracy(ids, groups), parsing_accuracy(templates, texts)

    table = score_table(systems, score)
    result = leave_systems_out(table, systems)
    summary = ablations(table, systems)
    result["ablations"] = summary
    default = table[0][1]
    result["default_config_GA"] = {s: default[s][0] for s in systems}
    result["default_config_PA"] = {s: default[s][1] for s in systems}
    result["shuffle_seed"] = shuffle
    print(
        f"leave-systems-out ({len(result['splits'])} splits of 4/4, {result['candidates']} candidates): "  # type: ignore[arg-type]
        f"held-out mean GA {result['held_out_mean_GA']:.3f} PA {result['held_out_mean_PA']:.3f} "
        f"(worst split GA {result['held_out_min_GA']:.3f} PA {result['held_out_min_PA']:.3f}); "
        f"all-systems mean GA {result['all_systems_mean_GA']:.3f} PA {result['all_systems_mean_PA']:.3f} "
        f"with {result['all_systems_choice']}"
    )
    for name, row in summary.items():
        print(
            f"  {name} ({row['candidates']:.0f} candidates): held-out GA {row['held_out_mean_GA']:.3f} "
            f"PA {row['held_out_mean_PA']:.3f}, worst split GA {row['held_out_min_GA']:.3f} "
            f"PA {row['held_out_min_PA']:.3f}, {row['splits_below_0.93_GA']:.0f} splits < 0.93"
        )
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def run_nezha(root: Path, out: Path) -> None:
    start = time.perf_counter()
    result = nezha_report(root, CONFIG)
    result["seconds"] = time.perf_counter() - start
    messages = [m for case in nezha_cases(root) for m, _ in case_records(case)]
    speed = {}
    for name, runner in (("day2ai", run_day2ai), ("drain3", run_drain3)):
        _, _, seconds = runner(messages)
        speed[name] = len(messages) / seconds
    result["lines_per_s"] = speed
    print(
        f"nezha speed, one stream of {len(messages)} lines: "
        + ", ".join(f"{k} {v:,.0f} lines/s" for k, v in speed.items())
    )
    print(
        f"nezha: {result['lines']} lines of {result['cases']} cases -> {result['templates']} templates; "
        f"{result['mean_templates_per_case']:.1f} templates and {result['mean_error_templates_per_case']:.1f} "
        f"error templates per case; id churn {result['id_churn']:.4f}, "
        f"order agreement {result['order_agreement']:.3f}"
    )
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def show_errors(contents: list[str], templates: list[str], limit: int) -> None:
    _, predicted, _ = run_day2ai(contents)
    seen: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], str] = {}
    for content, truth, guess in zip(contents, templates, predicted, strict=True):
        if normalize_text(truth) != normalize_text(guess):
            seen[(truth, guess)] += 1
            example.setdefault((truth, guess), content)
    for (truth, guess), n in seen.most_common(limit):
        print(
            f"  {n:4d}  truth: {truth[:140]}\n        ours : {guess[:140]}\n"
            f"        line : {example[(truth, guess)][:140]}"
        )


def print_table(results: dict[str, dict[str, dict[str, float]]], systems: Sequence[str]) -> None:
    names = [name for name in ("day2ai", "drain3", "drain3+mask") if results[name]]
    header = f"{'system':<10}" + "".join(f"{name + ' GA':>16}{name + ' PA':>16}{name + ' l/s':>17}" for name in names)
    print(header)
    for system in [*systems, "mean"]:
        row = f"{system:<10}"
        for name in names:
            if system == "mean":
                values = list(results[name].values())
                cell = {k: sum(v[k] for v in values) / len(values) for k in ("GA", "PA", "lines_per_s")}
            else:
                cell = results[name][system]
            row += f"{cell['GA']:>16.3f}{cell['PA']:>16.3f}{cell['lines_per_s']:>17,.0f}"
        print(row)


if __name__ == "__main__":
    raise SystemExit(main())
