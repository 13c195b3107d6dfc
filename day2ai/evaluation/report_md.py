"""Markdown report of an evaluation result, with a PNG plot next to it.

``render_markdown`` is pure text. ``plot_scores``/``plot_confusion`` draw with matplotlib (the
``notebook`` extra), imported only when called; ``write_markdown`` writes ``R.md`` and, when
matplotlib is installed, ``R.png`` (without it, the report says the plot was skipped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from day2ai.evaluation.results import CaseResult, SuiteResult

MAX_MISSES = 50


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _cell(text: object) -> str:
    """Table-safe text: case data is untrusted, so no pipes, newlines or HTML survive."""
    s = str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return s.replace("<", "&lt;").replace(">", "&gt;")[:160]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def score_rows(result: SuiteResult) -> list[list[str]]:
    """(name, value) rows of the headline scores."""
    return [
        ["cases", str(result.cases)], ["errors", str(result.errors)],
        ["AC@1", _num(result.ac_at_1)], ["AC@3", _num(result.ac_at_3)], ["AC@5", _num(result.ac_at_5)],
        ["Avg@5", _num(result.avg_at_5)], ["fault accuracy", _num(result.fault_accuracy)],
        ["remediation hit rate", f"{_num(result.remediation_hit_rate)} (of {result.remediation_cases})"],
        ["evidence grounding", _num(result.grounding_rate)],
        ["seconds per case (mean / median)", f"{result.mean_seconds:.3f} / {result.median_seconds:.3f}"],
        ["tokens per case (mean)", f"{result.mean_tokens:.1f}"],
    ]


def confusion_labels(result: SuiteResult) -> tuple[list[str], list[str]]:
    rows = list(result.confusion)
    cols = sorted({p for row in result.confusion.values() for p in row})
    return rows, cols


def _miss_row(c: CaseResult) -> list[str]:
    return [c.id, f"{c.truth_service}/{c.truth_fault}", ", ".join(c.ranked_services[:3]) or "–",
            str(c.predicted_fault or "–"), "miss" if c.rank is None else str(c.rank), c.error or ""]


def render_markdown(result: SuiteResult, *, title: str | None = None, plot: str | None = None) -> str:
    """The report as Markdown; ``plot`` is the relative path of the PNG to embed, if any."""
    lines = [f"# {title or 'Evaluation: ' + (result.investigator or 'investigator')}", ""]
    lines += [f"Suite `{_cell(result.suite)}`, investigator `{_cell(result.investigator)}`.", ""]
    lines += [*_table(["score", "value"], score_rows(result)), ""]
    if plot:
        lines += [f"![scores]({plot})", ""]
    lines += ["## Per fault", ""]
    lines += [*_table(["truth fault", "cases", "AC@1", "AC@3", "Avg@5", "fault accuracy"],
                      [[f, str(s.cases), _num(s.ac_at_1), _num(s.ac_at_3), _num(s.avg_at_5),
                        _num(s.fault_accuracy)] for f, s in result.per_fault.items()]), ""]
    rows, cols = confusion_labels(result)
    lines += ["## Confusion of fault words", "",
              "Rows: truth fault; columns: fault of the first hypothesis.", ""]
    lines += [*_table(["truth \\ predicted", *cols],
                      [[r, *(str(result.confusion[r].get(c, 0) or "") for c in cols)] for r in rows]), ""]
    misses = result.misses()
    lines += [f"## Misses ({len(misses)})", ""]
    if misses:
        lines += _table(["case", "truth", "top 3", "predicted fault", "rank", "error"],
                        [_miss_row(c) for c in misses[:MAX_MISSES]])
        if len(misses) > MAX_MISSES:
            lines += ["", f"… and {len(misses) - MAX_MISSES} more (see the JSON result)."]
    else:
        lines.append("None: every truth service was ranked first.")
    return "\n".join(lines) + "\n"


def plot_scores(result: SuiteResult) -> Any:
    """A matplotlib Figure (no pyplot state): headline scores, and AC@1 per truth fault."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    names = ["AC@1", "AC@3", "AC@5", "Avg@5", "fault acc."]
    values = [result.ac_at_1, result.ac_at_3, result.ac_at_5, result.avg_at_5, result.fault_accuracy]
    left.bar(names, values, color="#4c72b0")
    left.set_ylim(0, 1.05)
    left.set_title(f"{result.investigator}: {result.cases} cases")
    for i, v in enumerate(values):
        left.text(i, v + 0.02, f"{v:.2f}", ha="center", fontsize=8)
    faults = list(result.per_fault)
    labels = [f"{f} ({result.per_fault[f].cases})" for f in faults]
    right.barh(labels, [result.per_fault[f].ac_at_1 for f in faults], color="#55a868")
    right.set_xlim(0, 1.05)
    right.set_title("AC@1 per truth fault (cases)")
    right.invert_yaxis()
    fig.tight_layout()
    return fig


def plot_confusion(result: SuiteResult) -> Any:
    """A matplotlib Figure: the confusion matrix of fault words as a heat map."""
    from matplotlib.figure import Figure

    rows, cols = confusion_labels(result)
    grid = [[result.confusion[r].get(c, 0) for c in cols] for r in rows]
    fig = Figure(figsize=(2.5 + 0.7 * max(len(cols), 1), 1.5 + 0.45 * max(len(rows), 1)))
    ax = fig.subplots()
    ax.imshow(grid or [[0]], cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("fault of the first hypothesis")
    ax.set_ylabel("truth fault")
    for i, row in enumerate(grid):
        for j, n in enumerate(row):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def write_markdown(result: SuiteResult, path: str | Path, *, title: str | None = None) -> Path:
    """Write ``path`` (Markdown) and the PNG plot beside it (same stem); return the Markdown path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    png = out.with_suffix(".png")
    plot: str | None = png.name
    try:
        fig = plot_scores(result)
    except ImportError:
        plot = None
    else:
        fig.savefig(png, dpi=100, metadata={"Software": None})
    text = render_markdown(result, title=title, plot=plot)
    if plot is None:
        text += "\n_(plot skipped: matplotlib is not installed; `pip install day2ai[notebook]`)_\n"
    out.write_text(text, encoding="utf-8")
    return out
