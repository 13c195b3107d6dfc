"""``investigate``, ``validate`` and ``demo``."""

from __future__ import annotations

import asyncio
import functools
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from day2ai.cli.common import cli_errors, echo_json, fail, repo_root
from day2ai.errors import InputError
from day2ai.models import Report


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def _print_report(report: Report, fmt: Format) -> None:
    from day2ai.render import report_markdown, report_rich
    from day2ai.safetext import clean

    if fmt is Format.JSON:
        echo_json(report.to_contract())
    elif fmt is Format.MARKDOWN:
        print(clean(report_markdown(report)))
    else:
        Console().print(report_rich(report))


def _open_knowledge(index: Path | None) -> Any:
    if index is None:
        return None
    if not index.is_dir():
        raise InputError(f"--knowledge {index}: no knowledge index there (create one with "
                         f"'day2ai kb ingest DIR --index {index}')")
    from day2ai.knowledge import KnowledgeBase

    return KnowledgeBase(path=index)


DEFAULT_DEADLINE = 60.0
_GRACE = 15.0  # after the deadline, requests stop; this is the time left to write the report


async def _run(bundle: Path | None, config: Path | None, service: str | None, since: str,
               model: str | None, base_url: str | None, knowledge: Path | None, deadline: float,
               detected_at: str | None = None, llm_options: dict[str, Any] | None = None) -> Report:
    """Investigate a bundle, or live backends from a site config (closing their clients after)."""
    from day2ai.errors import InvestigationError
    from day2ai.sources.http import overall_deadline

    try:
        async with asyncio.timeout(deadline + _GRACE):
            with overall_deadline(deadline, process_wide=True):
                return await _investigate(bundle, config, service, since, model, base_url, knowledge, detected_at,
                                          llm_options=llm_options)
    except TimeoutError:
        raise InvestigationError(f"the investigation did not finish within --deadline {deadline:g} s "
                                 f"(+{_GRACE:g} s to write the report)") from None


async def _investigate(bundle: Path | None, config: Path | None, service: str | None, since: str,
                       model: str | None, base_url: str | None, knowledge: Path | None,
                       detected_at: str | None = None, llm_options: dict[str, Any] | None = None) -> Report:
    from day2ai.api import ainvestigate

    if model and llm_options:  # --timeout/--max-steps/--context-window: the LLM agent built here (helper G)
        from day2ai.agent.llm import build_investigator

        llm = build_investigator(model, base_url, **llm_options)
        ainvestigate = functools.partial(ainvestigate, investigator=llm)

    kb = _open_knowledge(knowledge)
    if config is None:
        if bundle is None:
            raise InputError("give a BUNDLE_DIR, or --config SITE.yaml --service NAME")
        # One investigation per CLI process: no event loop to keep free, so no worker process
        # (its start-up would only add to the wait); the tool steps stay cancellation points.
        return await ainvestigate(bundle, model=model, base_url=base_url, knowledge=kb, offload=False)
    from day2ai.sources.config import close_sources, live_incident, load_site_config

    if not service:
        raise InputError("--config needs --service (the service the symptom is on)")
    site = load_site_config(config)
    try:
        incident = live_incident(service, since)
    except InputError as exc:
        raise InputError(f"--since {since!r}: {exc}") from None
    if detected_at:
        incident = _with_detected_at(incident, detected_at)
    sources = site.build_sources()
    try:
        return await ainvestigate((incident, sources), model=model, base_url=base_url, knowledge=kb)
    finally:
        await close_sources(sources)


def _with_detected_at(incident: Any, when: str) -> Any:
    """The live incident with the alert time given by --detected-at (ISO 8601, inside the window)."""
    from datetime import UTC, datetime

    try:
        at = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--detected-at {when!r}: not an ISO 8601 time (e.g. 2026-12-04T18:40:00Z)") from None
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    w = incident.window
    if not w.start_s <= at.timestamp() <= w.end_s:
        raise InputError(f"--detected-at {when!r}: outside the investigated window {w.start} .. {w.end} (see --since)")
    return incident.model_copy(update={"detected_at": at})


def _check_strict(bundle: Path | None) -> None:
    """--strict: any data problem in the bundle is bad input (exit 2), named like ``validate`` does."""
    from day2ai.sources.bundle import validate_bundle

    if bundle is not None and (problems := validate_bundle(bundle)):
        more = f" (and {len(problems) - 1} more; run 'day2ai validate')" if len(problems) > 1 else ""
        raise InputError(f"--strict: {problems[0]}{more}")


def _warn_gaps(report: Report) -> None:
    """One stderr line per gap: data that was dropped or could not be checked is never silent."""
    from day2ai.safetext import clean

    for gap in report.gaps:
        print(f"day2ai: warning: not checked: {clean(gap.source)}: {clean(gap.reason)}", file=sys.stderr)


def investigate(
    bundle: Annotated[Path | None, typer.Argument(help="incident bundle directory")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="text, json or markdown")] = Format.TEXT,
    model: Annotated[str | None, typer.Option(help="OpenAI-compatible chat model; offline if absent")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL")] = None,
    knowledge: Annotated[Path | None, typer.Option(help="knowledge index path (day2ai kb ingest)")] = None,
    config: Annotated[Path | None, typer.Option(help="site YAML describing live backends")] = None,
    service: Annotated[str | None, typer.Option(help="with --config: the symptom service")] = None,
    since: Annotated[str, typer.Option(help="with --config: how far back, e.g. 1h, 30m")] = "1h",
    strict: Annotated[bool, typer.Option(help="exit 2 on any data problem in the bundle (bad or skipped "
                                         "lines, limits hit) instead of investigating what is readable")] = False,
    deadline: Annotated[float, typer.Option(min=1.0, help="seconds for the whole investigation; backends "
                                            "still answering then become gaps")] = DEFAULT_DEADLINE,
    detected_at: Annotated[str | None, typer.Option(help="with --config: when the alert fired (ISO 8601); "
                                                    "default now")] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="with --model: seconds per model request (a "
                                           "timed-out request is not retried)")] = 60.0,
    max_steps: Annotated[int, typer.Option(min=1, help="with --model: most tool-calling steps")] = 8,
    context_window: Annotated[int | None, typer.Option(min=512, help="with --model: the server's context "
                                                       "window in tokens (default: asked or learnt)")] = None,
    max_output_tokens: Annotated[int, typer.Option(min=1, help="with --model: most tokens per model "
                                                   "reply")] = 1024,
) -> None:
    """Investigate one incident and print ranked root-cause hypotheses."""
    from day2ai._sync import run_sync

    if strict:
        cli_errors(_check_strict)(bundle if config is None else None)
    llm_options = {"timeout_s": timeout, "max_steps": max_steps, "context_window": context_window,
                   "deadline_s": deadline, "max_output_tokens": max_output_tokens}
    report = cli_errors(lambda: run_sync(_run(bundle, config, service, since, model, base_url, knowledge,
                                              deadline, detected_at, llm_options=llm_options)))()
    _print_report(report, format)
    _warn_gaps(report)


def validate(
    bundle: Annotated[Path, typer.Argument(help="incident bundle directory")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.TEXT,
) -> None:
    """Check a bundle against the spec; exit 2 naming file, line and field if it is broken."""
    from day2ai.sources.bundle import validate_bundle

    problems = validate_bundle(bundle)
    if format is Format.JSON:
        echo_json({"bundle": str(bundle), "valid": not problems,
                   "problems": [{"file": p.file, "line": p.line, "field": p.field, "problem": p.problem}
                                for p in problems]})
        if problems:
            raise typer.Exit(2)
        return
    if problems:
        from day2ai.safetext import clean

        for extra in problems[1:]:
            print(f"  also: {clean(str(extra))}")
        raise fail(str(problems[0]), 2)
    print(f"{bundle}: valid")


def demo(
    bundle: Annotated[Path | None, typer.Option(help="bundle to investigate")] = None,
    corpus: Annotated[Path | None, typer.Option(help="runbooks/postmortems to link remediations to")] = None,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.TEXT,
) -> None:
    """Investigate the sample incident offline, with the sample runbooks, and print the report."""
    root = repo_root()
    bundle = bundle or (root / "examples" / "demo-bundle" if root else None)
    if bundle is None or not bundle.is_dir():
        raise fail("no sample bundle found; pass --bundle DIR (the sample ships in the source checkout)")
    corpus = corpus or (root / "evals" / "knowledge" if root else None)
    knowledge = None
    with tempfile.TemporaryDirectory(prefix="day2ai-demo-kb-") as tmp:
        if corpus is not None and corpus.is_dir():
            try:
                from day2ai.knowledge import KnowledgeBase

                knowledge = KnowledgeBase(path=Path(tmp))
                knowledge.ingest(corpus)
            except ImportError:
                print("(knowledge extra not installed: remediations will not link runbooks)")
        from day2ai.api import investigate as run

        report = cli_errors(run)(bundle, knowledge=knowledge)
        _print_report(report, format)


def schema() -> None:
    """Print the JSON schemas of the public types (Incident, Evidence, Hypothesis, Report...)."""
    from day2ai.models import json_schemas

    echo_json(json_schemas())


def register(app: typer.Typer) -> None:
    app.command()(investigate)
    app.command()(schema)
    app.command()(validate)
    app.command()(demo)
