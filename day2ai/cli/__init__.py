"""The ``day2ai`` command line (see shared/spec/cli-contract.md)."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click
import typer

app = typer.Typer(name="day2ai",
                  help="Investigate production incidents: ranked, evidence-backed root causes.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

# Each module adds its commands with ``register(app)``; one module per command family.
_COMMAND_MODULES = ("core", "logs", "kb", "simulate", "eval", "record")

for _name in _COMMAND_MODULES:
    if importlib.util.find_spec(f"day2ai.cli.{_name}") is not None:
        importlib.import_module(f"day2ai.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``day2ai`` script."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2 if exc.exit_code in (1, 2) else exc.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except typer.TyperException as exc:  # typer vendors click: its usage errors are not click's
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"day2ai: error: {message}", file=sys.stderr)
        return 2
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())


def run() -> None:
    sys.exit(main())
