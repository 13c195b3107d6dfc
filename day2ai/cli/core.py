"""``investigate``, ``validate`` and ``demo``."""

from __future__ import annotations

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

    if fmt is Format.JSON:
        echo_json(report.to_contract())
    elif fmt is Format.MARKDOWN:
        print(report_markdown(report))
    else:
        Console().print(report_rich(report))


def _open_knowledge(index: Path | None) -> Any:
    if index is None:
        return None
    from day2ai.knowledge import KnowledgeBase

    return KnowledgeBase(path=index)


async def _run(bundle: Path | None, config: Path | None, service: str | None, since: str,
               model: str | None, base_url: str | None, knowledge: Path | None) -> Report:
    """Investigate a bundle, or live backends from a site config (closing their clients after)."""
    from day2ai.api import ainvestigate

    kb = _open_knowledge(knowledge)
    if config is None:
        if bundle is None:
            raise InputError("give a BUNDLE_DIR, or --config SITE.yaml --service NAME")
        return await ainvestigate(bundle, model=model, base_url=base_url, knowledge=kb)
    from day2ai.sources.config import close_sources, live_incident, load_site_config

    if not service:
        raise InputError("--config needs --service (the service the symptom is on)")
    sources = load_site_config(config).build_sources()
    try:
        return await ainvestigate((live_incident(service, since), sources), model=model, base_url=base_url,
                                  knowledge=kb)
    finally:
        await close_sources(sources)


def investigate(
    bundle: Annotated[Path | None, typer.Argument(help="incident bundle directory")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="text, json or markdown")] = Format.TEXT,
    model: Annotated[str | None, typer.Option(help="OpenAI-compatible chat model; offline if absent")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL")] = None,
    knowledge: Annotated[Path | None, typer.Option(help="knowledge index path (day2ai kb ingest)")] = None,
    config: Annotated[Path | None, typer.Option(help="site YAML describing live backends")] = None,
    service: Annotated[str | None, typer.Option(help="with --config: the symptom service")] = None,
    since: Annotated[str, typer.Option(help="with --config: how far back, e.g. 1h, 30m")] = "1h",
) -> None:
    """Investigate one incident and print ranked root-cause hypotheses."""
    from day2ai._sync import run_sync

    report = cli_errors(lambda: run_sync(_run(bundle, config, service, since, model, base_url, knowledge)))()
    _print_report(report, format)


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
        for extra in problems[1:]:
            print(f"  also: {extra}")
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
