"""``day2ai simulate --out DIR --cases N --seed S``: write simulated incident bundles with truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from day2ai.cli.common import cli_errors
from day2ai.errors import InputError
from day2ai.models import Fault

_SUITES: dict[str, dict[str, float | int]] = {
    "smoke": {"cases": 5, "seed": 7, "scale": 0.35, "n_components": 12, "window_minutes": 45, "gzip": 1},
    "dev": {"cases": 60, "seed": 2026},
}


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)


@cli_errors
def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="directory to write case-0000, case-0001, ... into")],
    cases: Annotated[int | None, typer.Option("--cases", min=1, help="number of cases")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed; same seed, same bundles")] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", help="preset: smoke (5 small cases) or dev (60)")
    ] = None,
    difficulty: Annotated[
        str | None, typer.Option("--difficulty", help="easy | medium | hard (default: mixed)")
    ] = None,
    fault: Annotated[str | None, typer.Option("--fault", help="inject only this fault word")] = None,
    scale: Annotated[float, typer.Option("--scale", min=0.01, help="multiplies log lines and spans")] = 1.0,
    services: Annotated[
        int | None, typer.Option("--services", min=6, max=80, help="components per case")
    ] = None,
    minutes: Annotated[int | None, typer.Option("--minutes", min=20, max=360, help="window length")] = None,
    log_lines: Annotated[
        int | None, typer.Option("--log-lines", min=0, help="about this many log lines")
    ] = None,
    spans: Annotated[int | None, typer.Option("--spans", min=0, help="about this many spans")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="worker processes")] = 1,
    gzip_all: Annotated[bool, typer.Option("--gzip", help="write every JSONL file gzip-compressed")] = False,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="tidy (default) or real: the shapes of real datasets (1-min metrics, "
            "a short baseline, logs/spans only around the fault, no span status, topology, changes)",
        ),
    ] = "tidy",
) -> None:
    """Write realistic incident bundles (with truth.yaml) for evaluation."""
    from day2ai.evaluation.simulator import Difficulty, simulate

    preset: dict[str, float | int] = {}
    if suite is not None:
        if suite not in _SUITES:
            raise InputError(f"--suite: unknown suite {suite!r} (known: {', '.join(_SUITES)})")
        preset = dict(_SUITES[suite])
    try:
        diff = Difficulty(difficulty) if difficulty else None
        flt = Fault(fault) if fault else None
    except ValueError as exc:
        raise InputError(f"--difficulty/--fault: {exc}") from None
    if flt is Fault.OTHER:
        raise InputError("--fault: the simulator does not inject 'other'")
    n = cases if cases is not None else int(preset.get("cases", 0))
    s = seed if seed is not None else int(preset.get("seed", 0))
    if n <= 0:
        raise InputError("--cases: give a number of cases (or --suite)")
    if mode not in ("tidy", "real"):
        raise InputError(f"--mode: {mode!r} is not tidy or real")
    started = time.perf_counter()
    paths = simulate(
        out,
        n,
        s,
        difficulty=diff,
        fault=flt,
        scale=scale * float(preset.get("scale", 1.0)),
        n_components=services or _opt_int(preset, "n_components"),
        window_minutes=minutes or _opt_int(preset, "window_minutes"),
        log_lines=log_lines,
        spans=spans,
        jobs=jobs,
        gzip_all=gzip_all or bool(preset.get("gzip", 0)),
    )
    if mode == "real":
        from day2ai.evaluation.simulator.realmode import to_real_mode

        for path in paths:
            to_real_mode(path)
    typer.echo(f"wrote {len(paths)} bundles to {out} in {time.perf_counter() - started:.1f} s (seed {s})")


def _opt_int(preset: dict[str, float | int], key: str) -> int | None:
    value = preset.get(key)
    return int(value) if value is not None else None
