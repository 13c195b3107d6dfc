"""Write notebooks/02_evaluate.ipynb (run after editing the cells below)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Evaluate an investigator\n\n"
        "This notebook runs the **offline investigator** over the `smoke` suite (small simulated incidents "
        "whose root cause is known), then shows the scores, the confusion of fault words and the cases it "
        "missed. The same numbers come from the command line:\n\n"
        "```\nday2ai eval evals/suites/smoke --out smoke.json --markdown smoke.md\n```"),
    new_code_cell(
        "%matplotlib inline\n"
        "from pathlib import Path\n\n"
        "from IPython.display import display\n\n"
        "from day2ai import OfflineInvestigator\n"
        "from day2ai.evaluation import LoudestSymptomInvestigator, aevaluate, compare, discover_cases\n"
        "from day2ai.evaluation.report_md import plot_confusion, plot_scores\n\n"
        "SUITE = Path('../evals/suites/smoke')\n"
        "cases = discover_cases(SUITE)\n"
        "print(len(cases), 'cases:', ', '.join(p.name for p in cases))"),
    new_markdown_cell(
        "## Run the suite\n\nEach bundle is investigated without its `truth.yaml`; the harness reads "
        "the truth only afterwards to score the report. A case that fails is a scored miss with its error."),
    new_code_cell(
        "result = await aevaluate(SUITE, OfflineInvestigator(), concurrency=2)\n"
        "print(f'{result.cases} cases, {result.errors} errors, {result.mean_seconds:.2f} s per case')"),
    new_markdown_cell("## Scores\n\nAC@k: the truth service is among the first k services; fault accuracy: "
                      "the first hypothesis names the truth service *and* fault; grounding: hypotheses cite "
                      "evidence that exists in the report."),
    new_code_cell(
        "scores = result.scores_frame()  # a pandas DataFrame built from the result, not from its Markdown\n"
        "display(scores.round(3))\n"
        "plot_scores(result)"),
    new_markdown_cell("## Confusion of fault words\n\nRows are the true fault, columns the fault the first "
                      "hypothesis named."),
    new_code_cell(
        "display(result.confusion_frame())\n"
        "plot_confusion(result)"),
    new_markdown_cell("## Misses\n\nThe cases whose truth service was not ranked first, with what was "
                      "ranked instead. `result.cases_frame()` has one row per case."),
    new_code_cell(
        "per_case = result.cases_frame()\n"
        "misses = per_case[~per_case['hit@1']]\n"
        "print(f'Misses: {len(misses)} of {len(per_case)}')\n"
        "misses[['truth_service', 'truth_fault', 'top', 'predicted_fault', 'rank', 'error']]"),
    new_markdown_cell("The whole result also renders as HTML (scores, confusion matrix, misses):"),
    new_code_cell("result"),
    new_markdown_cell("## Against a naive baseline\n\nThe *loudest symptom* baseline ranks services by how "
                      "much their errors and latency rose. Cases where day2ai does worse than it are "
                      "regressions worth a look."),
    new_code_cell(
        "baseline = await aevaluate(SUITE, LoudestSymptomInvestigator())\n"
        "diff = compare(baseline, result, label_a='loudest', label_b='offline')\n"
        "for s in diff.scores[:5]:\n"
        "    print(f'{s.name:<15} loudest {s.a:.3f}   offline {s.b:.3f}')\n"
        "print('offline worse than the baseline on:', [c.id for c in diff.regressions] or 'no case')"),
]


def main() -> None:
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    out = Path(__file__).resolve().parents[1] / "notebooks" / "02_evaluate.ipynb"
    nbformat.write(nb, out)
    print(out)


if __name__ == "__main__":
    main()
