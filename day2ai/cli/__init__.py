"""The ``day2ai`` command line (docs/cli-contract.md).

Start-up is kept short: ``day2ai --help`` imports no command module, no pydantic model and no
rich. The top-level group knows each command's name, module and one-line help (``COMMANDS``; a
test checks it against what the modules register) and imports a command's module, through
typer, only when that command runs or shows its own help. A command missing from the table is
still found, by importing every module of ``_COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import typer
from typer.core import TyperGroup

HELP = "Investigate production incidents: ranked, evidence-backed root causes."

# Each module adds its commands with ``register(app)``; one module per command family.
_COMMAND_MODULES = ("core", "logs", "kb", "simulate", "eval", "record", "serve", "mcp", "scan")

#: name -> (module, one-line help), in the order ``day2ai --help`` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "investigate": ("core", "Investigate one incident and print ranked root-cause hypotheses."),
    "schema": ("core", "Print the JSON schemas of the public types (Incident, Evidence, Hypothesis, Report...)."),
    "validate": ("core", "Check a bundle against the spec; exit 2 naming file, line and field if it is broken."),
    "demo": ("core", "Investigate the sample incident offline, with the sample runbooks, and print the report."),
    "simulate": ("simulate", "Write realistic incident bundles (with truth.yaml) for evaluation."),
    "record": ("record", "Snapshot what the backends return for an incident into a bundle (baseline + window)."),
    "serve": ("serve", "Serve investigations over HTTP (JSON + server-sent events) with an Alertmanager webhook."),
    "mcp": ("mcp", "Serve day2ai's tools to MCP clients over stdio (investigate_bundle, search_runbooks, ...)."),
    "scan": ("scan", "Scan an ops history (or live backends with --config): Day-2 findings and the health "
                     "scorecard."),
    "simulate-history": ("scan", "Write simulated ops histories with planted findings, decoys and truth.yaml."),
    "scan-eval": ("scan", "Scan every history and score it against its truth.yaml (precision/recall per kind, "
                          "health within 1%)."),
    "logs": ("logs", "Log-template mining."),
    "kb": ("kb", "Knowledge base: runbooks and postmortems."),
    "eval": ("eval", "Score an investigator on a suite of bundles, or compare two results."),
}

_LOADED: dict[str, dict[str, Any]] = {}  # module -> its click commands, once imported


def module_commands(module: str) -> dict[str, Any]:
    """The click commands ``day2ai.cli.<module>`` registers (imported on first call)."""
    if module not in _LOADED:
        sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        importlib.import_module(f"day2ai.cli.{module}").register(sub)
        _LOADED[module] = dict(typer.main.get_group(sub).commands)
    return _LOADED[module]


def _available_modules() -> list[str]:
    return [m for m in _COMMAND_MODULES if importlib.util.find_spec(f"day2ai.cli.{m}") is not None]


class LazyGroup(TyperGroup):
    """The top-level group: lists commands from ``COMMANDS``, imports one only when it is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is not None and entry[0] in _available_modules():
            found = module_commands(entry[0]).get(cmd_name)
            if found is not None:
                return found
        for module in _available_modules():  # a command the table does not know yet
            found = module_commands(module).get(cmd_name)
            if found is not None:
                return found
        return None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        available = set(_available_modules())
        rows = [(name, text) for name, (module, text) in COMMANDS.items() if module in available]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def build_app() -> typer.Typer:
    """Every command registered eagerly on one Typer app (for tests and documentation tools)."""
    app = typer.Typer(name="day2ai", help=HELP, no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)
    for module in _available_modules():
        importlib.import_module(f"day2ai.cli.{module}").register(app)
    return app


cli = LazyGroup(name="day2ai", help=HELP, no_args_is_help=True, rich_markup_mode=None)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``day2ai`` script."""
    try:
        rv = cli.main(args=argv, prog_name="day2ai", standalone_mode=False)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except typer.TyperException as exc:  # usage errors (typer vendors click)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare ``day2ai``: the help, as a usage error
            print(message, file=sys.stderr)
            return 2
        print(f"day2ai: error: {message}", file=sys.stderr)
        code = getattr(exc, "exit_code", 2)
        return 2 if code in (1, 2) else int(code)
    return rv if isinstance(rv, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
