"""``day2ai eval SUITE --out R.json`` and ``day2ai eval compare A.json B.json``."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from day2ai.agent.base import Investigator
from day2ai.cli.common import cli_errors, echo_json, fail
from day2ai.errors import InputError
from day2ai.evaluation.results import CaseResult, SuiteResult


class InvestigatorName(StrEnum):
    OFFLINE = "offline"
    RANDOM = "random"
    LOUDEST = "loudest"


class CompareFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class _RunByDefault(TyperGroup):
    """``day2ai eval SUITE ...`` means ``day2ai eval run SUITE ...``; sub-commands keep their names."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's vendored click Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(cls=_RunByDefault, no_args_is_help=True, add_completion=False,
                       help="Score an investigator on a suite of bundles, or compare two results.")


def build_investigator(name: InvestigatorName, model: str | None, base_url: str | None,
                       seed: int) -> Investigator:
    """The investigator the options name (imports the offline and LLM ones lazily)."""
    from day2ai.evaluation.baselines import LoudestSymptomInvestigator, RandomInvestigator

    if model and name is not InvestigatorName.OFFLINE:
        raise InputError(f"--model runs the LLM investigator; drop --investigator {name}")
    if name is InvestigatorName.RANDOM:
        return RandomInvestigator(seed=seed)
    if name is InvestigatorName.LOUDEST:
        return LoudestSymptomInvestigator()
    from day2ai.api import default_investigator

    try:
        return default_investigator(model, base_url)
    except ImportError as exc:
        what = f"the LLM investigator (model {model})" if model else "the offline investigator"
        hint = "; install day2ai[llm]" if model else ""
        raise fail(f"{what} is not available: {exc}{hint}", 1) from None


def _open_knowledge(index: Path | None) -> Any:
    if index is None:
        return None
    if not index.exists():
        raise InputError(f"{index}: no knowledge index there (create one with day2ai kb ingest)")
    try:
        from day2ai.knowledge import KnowledgeBase
    except ImportError as exc:
        raise fail(f"the knowledge base is not available ({exc}); install day2ai[kb]", 1) from None
    return KnowledgeBase(path=index)


def _case_line(case: CaseResult) -> str:
    if case.error:
        status = f"ERROR {case.error}"
    else:
        status = "hit" if case.rank == 1 else ("miss" if case.rank is None else f"rank {case.rank}")
    return f"  {case.id}: {status} ({case.seconds:.2f} s)"


@contextlib.contextmanager
def _progress_bar(total: int, quiet: bool) -> Iterator[Callable[[CaseResult], None] | None]:
    """A rich progress bar on stderr (cases in completion order), with one line per case above it."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    columns = (TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("cases", total=total)

        def on_case(case: CaseResult) -> None:
            bar.console.print(_case_line(case), markup=False)
            bar.advance(task)

        yield on_case


def _summary(result: SuiteResult) -> str:
    rem = "-" if result.remediation_hit_rate is None else f"{result.remediation_hit_rate:.3f}"
    ground = "-" if result.grounding_rate is None else f"{result.grounding_rate:.3f}"
    return (f"{result.investigator}: {result.cases} cases, {result.errors} errors | "
            f"AC@1 {result.ac_at_1:.3f}  AC@3 {result.ac_at_3:.3f}  AC@5 {result.ac_at_5:.3f}  "
            f"Avg@5 {result.avg_at_5:.3f}  fault {result.fault_accuracy:.3f}  remediation {rem}  "
            f"grounding {ground} | {result.mean_seconds:.2f} s/case")


@eval_app.command("run")
@cli_errors
def run(
    suite: Annotated[Path, typer.Argument(help="directory whose sub-directories are bundles")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="result JSON (stdout if absent)")] = None,
    investigator: Annotated[InvestigatorName, typer.Option(help="offline, random or loudest")] =
    InvestigatorName.OFFLINE,
    model: Annotated[str | None, typer.Option(help="OpenAI-compatible chat model (LLM investigator)")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL")] = None,
    knowledge: Annotated[Path | None, typer.Option(help="knowledge index path (day2ai kb ingest)")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="cases investigated at once on one event loop")] = 1,
    workers: Annotated[int | None, typer.Option(
        min=0, help="run cases in N local worker processes (0: one per core)")] = None,
    ray: Annotated[str | None, typer.Option(
        help="run cases on Ray: auto (running cluster, else local), local, or a cluster address")] = None,
    timeout: Annotated[float | None, typer.Option(
        min=0.001, help="seconds allowed per case; a case over it is stopped and scored as an error")] = None,
    markdown: Annotated[Path | None, typer.Option(help="also write a Markdown report (+ PNG plot)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the random baseline")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no per-case progress on stderr")] = False,
    min_ac1: Annotated[float | None, typer.Option(help="exit 1 if AC@1 is below this")] = None,
) -> None:
    """Investigate every bundle under SUITE, score it against its truth.yaml, write the result."""
    from day2ai._sync import run_sync
    from day2ai.evaluation.harness import aevaluate, discover_cases
    from day2ai.evaluation.results import save_result

    cases = discover_cases(suite)  # bad input fails before any investigator is built
    inv = build_investigator(investigator, model, base_url, seed)
    kb = _open_knowledge(knowledge)
    with _progress_bar(len(cases), quiet) as on_case:
        if workers is not None or ray:
            from day2ai.evaluation.harness import evaluate_with
            from day2ai.executors import get_executor

            executor = get_executor(workers=workers or (os.cpu_count() or 1), ray=ray)
            result = evaluate_with(executor, suite, inv, timeout=timeout, knowledge=kb, on_case=on_case)
        else:
            result = run_sync(aevaluate(suite, inv, concurrency=concurrency, timeout=timeout, knowledge=kb,
                                        on_case=on_case))
    if out is None:
        echo_json(result.to_json())
    else:
        save_result(result, out)
    if markdown is not None:
        from day2ai.evaluation.report_md import write_markdown

        write_markdown(result, markdown)
    print(_summary(result), file=sys.stderr)
    if min_ac1 is not None and result.ac_at_1 < min_ac1:
        raise fail(f"AC@1 {result.ac_at_1:.3f} is below --min-ac1 {min_ac1}", 1)


@eval_app.command("compare")
@cli_errors
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="reference result JSON (before)")],
    b: Annotated[Path, typer.Argument(help="candidate result JSON (after)")],
    format: Annotated[CompareFormat, typer.Option("--format", "-f", help="text or json")] =
    CompareFormat.TEXT,
    fail_on_regression: Annotated[bool, typer.Option(help="exit 1 if any case regressed")] = False,
) -> None:
    """Show score deltas and the cases that regressed or improved from A to B."""
    from day2ai.evaluation.compare import compare, render_comparison
    from day2ai.evaluation.results import load_result

    cmp = compare(load_result(a), load_result(b), label_a=str(a), label_b=str(b))
    if format is CompareFormat.JSON:
        data = cmp.model_dump(mode="json")
        for s, d in zip(data["scores"], cmp.scores, strict=True):
            s["delta"] = d.delta
        data["regressions"] = [c.id for c in cmp.regressions]
        data["improvements"] = [c.id for c in cmp.improvements]
        echo_json(data)
    else:
        print(render_comparison(cmp))
    if fail_on_regression and cmp.regressions:
        raise fail(f"{len(cmp.regressions)} case(s) regressed", 1)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
