"""``day2ai mcp``: a Model Context Protocol server on stdio (needs the ``service`` extra: mcp)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from day2ai.cli.common import fail, missing_extra


def mcp(
    root: Annotated[Path | None, typer.Option(help="only read bundles and indexes under this directory")] = None,
    index: Annotated[Path | None, typer.Option(help="knowledge index for the knowledge tools")] = None,
) -> None:
    """Serve day2ai's tools to MCP clients over stdio (investigate_bundle, search_runbooks, ...)."""
    try:
        import mcp as _sdk  # noqa: F401 - the SDK must be installed

        from day2ai.mcp import serve_stdio
    except ImportError as exc:
        raise missing_extra("the MCP server", "service", exc) from None
    if root is not None and not root.is_dir():
        raise fail(f"--root: not a directory: {root}")
    serve_stdio(root, index)


def register(app: typer.Typer) -> None:
    app.command()(mcp)
