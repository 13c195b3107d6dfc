"""``day2ai record``: snapshot live backends into an incident bundle for replay and evaluation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from day2ai.cli.common import cli_errors, fail
from day2ai.sources.record import RecordSummary


def _record(config: Path, service: str, since: str, out: Path, until: str | None, title: str | None,
            only_service: bool, max_logs: int, force: bool) -> RecordSummary:
    from day2ai.sources.config import close_sources, live_incident, load_site_config
    from day2ai.sources.record import record_bundle
    from day2ai.timeutil import parse_timestamp

    site = load_site_config(config)
    now = None
    if until is not None:
        try:
            now = parse_timestamp(until)
        except ValueError as exc:
            from day2ai.errors import InputError

            raise InputError(f"--until: {exc}") from None
    incident = live_incident(service, since, now=now, title=title)
    sources = site.build_sources()

    async def run() -> RecordSummary:
        try:
            return await record_bundle(incident, sources, out, services=(service,) if only_service else None,
                                       max_logs=max_logs, overwrite=force)
        finally:
            await close_sources(sources)

    return asyncio.run(run())


def record(
    config: Annotated[Path, typer.Option(help="site YAML describing the live backends")],
    service: Annotated[str, typer.Option(help="the service the symptom is on")],
    out: Annotated[Path, typer.Option(help="bundle directory to write")],
    since: Annotated[str, typer.Option(help="how far back the incident window reaches, e.g. 1h, 30m")] = "1h",
    until: Annotated[str | None, typer.Option(help="window end (RFC 3339 or epoch); default now")] = None,
    title: Annotated[str | None, typer.Option(help="incident title")] = None,
    only_service: Annotated[bool, typer.Option(help="record only --service, not every service")] = False,
    max_logs: Annotated[int, typer.Option(help="stop recording logs after this many records")] = 200_000,
    force: Annotated[bool, typer.Option(help="replace an existing bundle at --out")] = False,
) -> None:
    """Snapshot what the backends return for an incident into a bundle (baseline + window)."""
    summary = cli_errors(_record)(config, service, since, out, until, title, only_service, max_logs, force)
    counts = ", ".join(f"{k}: {v}" for k, v in summary.counts.items()) or "nothing"
    print(f"recorded {out} ({counts}) in {summary.seconds:.1f} s")
    for gap in summary.gaps:
        print(f"  gap: {gap.source}: {gap.reason}")
    for note in summary.truncated:
        print(f"  truncated: {note}")
    if not any(v for k, v in summary.counts.items() if k != "topology"):
        # a bundle with no telemetry would replay as a healthy system: say so and fail (validate refuses it too)
        raise fail(f"recorded no telemetry at all (0 series, log lines, spans and changes): {out} is empty; "
                   "check the backends named above", 1)


def register(app: typer.Typer) -> None:
    app.command()(record)
