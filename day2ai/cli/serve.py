"""``day2ai serve``: the HTTP service (needs the ``service`` extra: starlette, uvicorn, sse-starlette)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from day2ai.cli.common import cli_errors, fail, missing_extra


def serve(
    host: Annotated[str, typer.Option(help="address to bind (loopback unless you say otherwise)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    bundle_root: Annotated[Path | None, typer.Option(help="bundles are read only from under this directory")] = None,
    config: Annotated[Path | None, typer.Option(help="site YAML of live backends (live runs, Alertmanager)")] = None,
    notify_url: Annotated[str | None, typer.Option(help="POST a Slack message here when a run ends")] = None,
    runbook_base_url: Annotated[str | None, typer.Option(help="make runbook links absolute in messages")] = None,
    min_confidence: Annotated[float, typer.Option(help="fold hypotheses below this in messages")] = 0.15,
    alert_lookback: Annotated[str, typer.Option(help="window investigated before an alert's startsAt")] = "1h",
    concurrency: Annotated[int, typer.Option(help="investigations running at once")] = 4,
    model: Annotated[str | None, typer.Option(help="OpenAI-compatible chat model; offline if absent")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve investigations over HTTP (JSON + server-sent events) with an Alertmanager webhook.

    Set DAY2AI_API_TOKEN to require `Authorization: Bearer <token>` on every endpoint but /healthz.
    """
    try:
        import uvicorn

        from day2ai.service import ServiceSettings, create_app
    except ImportError as exc:
        raise missing_extra("the service", "service", exc) from None
    if bundle_root is not None and not bundle_root.is_dir():
        raise fail(f"--bundle-root: not a directory: {bundle_root}")
    settings = ServiceSettings(token=os.environ.get("DAY2AI_API_TOKEN") or None, bundle_root=bundle_root,
                               config=config, notify_url=notify_url, runbook_base_url=runbook_base_url,
                               min_confidence=min_confidence, alert_lookback=alert_lookback,
                               concurrency=max(1, concurrency), model=model, base_url=base_url)
    if settings.token is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"day2ai: warning: serving on {host} without DAY2AI_API_TOKEN: anyone who can reach it can use it",
              file=sys.stderr)
    app = cli_errors(create_app)(settings)
    # loop="asyncio": the bundle runner watches its worker's pipe with loop.add_reader, which uvloop
    # (uvicorn's default when installed) does not serve reliably for multiprocessing pipes
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, loop="asyncio")


def register(app: typer.Typer) -> None:
    app.command()(serve)
