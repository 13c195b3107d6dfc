"""What every CLI command shares: the error-to-exit-code translation and output helpers.

Exit codes (cli-contract.md): 0 success, 2 bad input (one line on stderr naming what and where),
1 any other failure. No command prints a traceback unless DAY2AI_DEBUG=1.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

from day2ai.errors import Day2AIError, InputError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one ``day2ai: error: ...`` line on stderr and return the Exit to raise."""
    from day2ai.safetext import clean

    print(f"day2ai: error: {clean(message)}", file=sys.stderr)
    return typer.Exit(code)


def missing_extra(what: str, extra: str, exc: ImportError) -> typer.Exit:
    """``fail`` (exit 1) for a command whose optional dependencies are not installed."""
    return fail(f"{what} needs the '{extra}' extra: pip install 'day2ai[{extra}]' ({exc.name} missing)", 1)


def cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Translate day2ai errors (and unexpected ones) into the contract's exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InputError as exc:
            raise fail(str(exc), 2) from None
        except Day2AIError as exc:
            raise fail(str(exc), 1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("DAY2AI_DEBUG"):
                raise
            raise fail(f"internal error: {type(exc).__name__}: {exc} (set DAY2AI_DEBUG=1 for a traceback)",
                       1) from None

    return wrapper


def repo_root() -> Path | None:
    """The source checkout this package runs from, if any (for demo data in a clone)."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        for cand in (base, *base.parents):
            if (cand / "pyproject.toml").is_file() and (cand / "day2ai").is_dir():
                return cand
    return None


def echo_json(data: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
