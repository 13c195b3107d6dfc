"""``day2ai scan HISTORY_DIR``, ``day2ai simulate-history`` and ``day2ai scan-eval`` (Day-2 scans)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from day2ai.cli.common import cli_errors, echo_json
from day2ai.errors import InputError

if TYPE_CHECKING:
    from day2ai.scan.models import ScanGap

# Dev seeds are for looking at results while developing; held-out seeds are only for reporting.
DEV_SEEDS = tuple(range(1, 11))
HELDOUT_SEEDS = tuple(range(7001, 7021))  # fresh: 9001-9010 were looked at during development


class ScanFormat(StrEnum):
    JSON = "json"
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
    app.command("simulate-history")(simulate_history_command)
    app.command("scan-eval")(scan_eval_command)


@cli_errors
def scan_command(
    history: Annotated[Path | None, typer.Argument(help="ops history directory (site.yaml, metrics.jsonl, ...)")]
    = None,
    fmt: Annotated[ScanFormat, typer.Option("--format", help="json | text | markdown | html")] = ScanFormat.TEXT,
    horizon: Annotated[float, typer.Option("--horizon", min=1.0, help="capacity horizon in days")] = 14.0,
    out: Annotated[Path | None, typer.Option("--out", help="write to this file instead of stdout")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="live mode: site configuration of backends")]
    = None,
    since: Annotated[str, typer.Option("--since", help="live mode: how far back (e.g. 30d)")] = "30d",
    ops_site: Annotated[Path | None, typer.Option("--site", help="live mode: ops site.yaml (services)")] = None,
    desired: Annotated[Path | None, typer.Option("--desired", help="live mode: Git checkout of manifests")] = None,
    live: Annotated[Path | None, typer.Option("--live", help="live mode: kubectl get -o yaml dumps (default: "
                                              "the kubernetes backend of --config)")] = None,
    incidents: Annotated[Path | None, typer.Option("--incidents", help="live mode: incidents JSONL, or a "
                                                                        "PagerDuty/Opsgenie .csv export")] = None,
    knowledge: Annotated[Path | None, typer.Option("--knowledge", help="live mode: runbooks/postmortems")] = None,
) -> None:
    """Scan an ops history (or live backends with --config): Day-2 findings and the health scorecard."""
    from day2ai.render.review import review_html, review_markdown, review_text
    from day2ai.scan.engine import analyse, scan_path

    if (history is None) == (config is None):
        raise InputError("give either HISTORY_DIR or --config SITE.yaml (live mode), not both")
    if config is not None:
        import asyncio

        from day2ai.sources.history_live import load_live_history

        loaded = asyncio.run(load_live_history(config, since, ops_site=ops_site, desired_dir=desired, live_dir=live,
                                               incidents_file=incidents, knowledge_dir=knowledge))
        report = analyse(loaded, horizon)
        _warn_gaps(report.gaps)
    else:
        report = scan_path(history, horizon)  # type: ignore[arg-type]
    if fmt is ScanFormat.JSON and out is None:
        echo_json(report.to_contract())
        return
    if fmt is ScanFormat.JSON:
        import orjson

        text = orjson.dumps(report.to_contract(), option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        render = {ScanFormat.TEXT: review_text, ScanFormat.MARKDOWN: review_markdown, ScanFormat.HTML: review_html}
        text = render[fmt](report)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _warn_gaps(gaps: list[ScanGap]) -> None:
    """Live mode: one stderr line per gap, so that a failing backend is never read as an all clear."""
    from day2ai.safetext import clean

    for gap in gaps:
        print(f"day2ai: warning: not checked: {clean(gap.source)}: {clean(gap.reason)}", file=sys.stderr)


@cli_errors
def simulate_history_command(
    out: Annotated[Path, typer.Option("--out", help="directory to write seed-<S>/ histories into")],
    seed: Annotated[int | None, typer.Option("--seed", help="first seed; same seed, same history")] = None,
    count: Annotated[int, typer.Option("--count", min=1, help="number of histories")] = 1,
    suite: Annotated[str | None, typer.Option("--set", help="dev or heldout: the fixed seed lists")] = None,
    services: Annotated[int, typer.Option("--services", min=12, max=200)] = 12,
    days: Annotated[int, typer.Option("--days", min=14, max=400)] = 42,
    step: Annotated[int, typer.Option("--step", min=15, help="metric resolution in seconds")] = 300,
    gzip_metrics: Annotated[bool, typer.Option("--gzip", help="write metrics.jsonl.gz")] = False,
) -> None:
    """Write simulated ops histories with planted findings, decoys and truth.yaml."""
    from day2ai.scan.sim import simulate_history

    if suite is not None:
        sets = {"dev": DEV_SEEDS, "heldout": HELDOUT_SEEDS}
        if suite not in sets:
            raise InputError(f"--set: unknown set {suite!r} (dev or heldout)")
        seeds: tuple[int, ...] = sets[suite][:count] if count > 1 else sets[suite]
    else:
        first = 1 if seed is None else seed
        seeds = tuple(range(first, first + count))
    for s in seeds:
        simulate_history(out / f"seed-{s}", s, services=services, days=days, step=step, compress=gzip_metrics)
    print(f"wrote {len(seeds)} histories to {out}", file=sys.stderr)


@cli_errors
def scan_eval_command(
    histories: Annotated[Path, typer.Argument(help="a history, or a directory of histories, with truth.yaml")],
    out: Annotated[Path | None, typer.Option("--out", help="write the result JSON here")] = None,
) -> None:
    """Scan every history and score it against its truth.yaml (precision/recall per kind, health within 1%)."""
    import orjson

    from day2ai.scan.evaluate import evaluate_histories

    result = evaluate_histories(histories)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    summary = {k: v for k, v in result.items() if k != "per_history"}
    echo_json(summary)
