"""Write notebooks/03_explore_a_real_incident.ipynb (run after editing the cells below).

The notebook reads a real bundle at run time from ``../shared/data/nezha-tt-dev`` next to the
repository (or the directory in ``DAY2AI_NEZHA_DIR``); the data is never copied into the repo.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Explore a real incident\n\n"
        "A real fault from the Train Ticket microservice system (about 40 Java services on Kubernetes), "
        "recorded for the Nezha paper (Yu et al., ESEC/FSE 2023, MIT licence) and converted into an "
        "incident bundle. Nobody here generated this telemetry: it is as messy as production data.\n\n"
        "We load it, look at the metrics around the onset and at the log templates that appeared, "
        "investigate, and then check each hypothesis's evidence against plots of the data it cites. "
        "The bundle is read where it lies (`../shared/data/nezha-tt-dev` next to the repository, or the "
        "directory in `DAY2AI_NEZHA_DIR`)."),
    new_code_cell(
        "%matplotlib inline\n"
        "import os\n"
        "from datetime import timedelta\n"
        "from pathlib import Path\n\n"
        "import pandas as pd\n"
        "from IPython.display import display\n"
        "from matplotlib.figure import Figure\n\n"
        "from day2ai import investigate, load_bundle\n"
        "from day2ai.models import EvidenceSource\n\n"
        "REPO = Path.cwd().parent  # notebooks run from notebooks/\n"
        "DATA = Path(os.environ.get('DAY2AI_NEZHA_DIR', REPO.parent / 'shared' / 'data' / 'nezha-tt-dev'))\n"
        "CASE = DATA / 'nezha-tt-25'\n"
        "if not (CASE / 'incident.yaml').is_file():\n"
        "    raise FileNotFoundError(f'{CASE}: the Nezha bundles are not there; set DAY2AI_NEZHA_DIR')\n"
        "bundle = load_bundle(CASE)\n"
        "bundle.incident"),
    new_markdown_cell(
        "## The telemetry as DataFrames\n\n"
        "Every frame is in long format with a timezone-aware UTC index: one row per metric point, log line, "
        "span or change, with the labels as columns."),
    new_code_cell(
        "metrics = bundle.metrics_frame()\n"
        "spans = bundle.spans_frame()\n"
        "logs = bundle.logs_frame(templates=True)\n"
        "print(f'{len(metrics):,} metric points in {metrics.series.nunique()} series, '\n"
        "      f'{len(spans):,} spans, {len(logs):,} log lines in {logs.template_id.nunique()} templates')\n"
        "metrics.head()"),
    new_markdown_cell(
        "## Metrics around the onset\n\n"
        "The alert fires 90 s after the fault is injected in this dataset. For every series we compare the "
        "minutes after that point with the 20 minutes before it (a robust z-score) and plot the series that "
        "moved most, from 30 minutes before the onset."),
    new_code_cell(
        "inc = bundle.incident\n"
        "onset = pd.Timestamp(inc.detected_at - timedelta(seconds=90))\n"
        "before = metrics[(metrics.index < onset) & (metrics.index >= onset - pd.Timedelta('20min'))]\n"
        "after = metrics[metrics.index >= onset]\n"
        "base = before.groupby('series')['value'].agg(['median', lambda v: (v - v.median()).abs().median()])\n"
        "base.columns = ['median', 'mad']\n"
        "moved = (after.groupby('series')['value'].median() - base['median']).abs() / (1.4826 * base['mad'] + 1e-9)\n"
        "top = moved.replace([float('inf')], float('nan')).dropna().sort_values(ascending=False).head(6)\n"
        "display(top.rename('robust z').to_frame())\n"
        "fig = Figure(figsize=(12, 6))\n"
        "for ax, key in zip(fig.subplots(2, 3).flat, top.index):\n"
        "    part = metrics[(metrics.series == key) & (metrics.index >= onset - pd.Timedelta('30min'))]\n"
        "    ax.plot(part.index, part.value, marker='.', linewidth=1)\n"
        "    ax.axvline(onset, color='#c0392b', linestyle='--')\n"
        "    ax.set_title(key[:60], fontsize=7)\n"
        "    ax.tick_params(labelsize=6)\n"
        "fig.tight_layout()\n"
        "fig"),
    new_markdown_cell(
        "## New log templates\n\n"
        "Templates seen after the onset but never before it, per service: new exception types, new error "
        "messages. (The dataset's explicit fault-free minute is also before-onset data when it lies earlier.)"),
    new_code_cell(
        "seen_before = set(zip(logs[logs.index < onset].service, logs[logs.index < onset].template_id))\n"
        "late = logs[logs.index >= onset]\n"
        "is_new = [(s, t) not in seen_before for s, t in zip(late.service, late.template_id)]\n"
        "new = late[is_new].groupby(['service', 'template']).size().sort_values(ascending=False)\n"
        "print(len(new), 'new (service, template) pairs')\n"
        "new.head(10).to_frame('lines')"),
    new_markdown_cell(
        "## Investigate\n\n"
        "The offline investigator (no LLM) reads the same bundle and returns ranked hypotheses, each citing "
        "evidence by id."),
    new_code_cell(
        "report = investigate(bundle)\n"
        "report"),
    new_code_cell(
        "display(report.hypotheses_frame()[['service', 'fault', 'confidence', 'supporting', 'grounded']].head())\n"
        "report.evidence_frame()[['source', 'service', 'strength', 'metric', 'template_id', 'caller', 'callee']]"),
    new_markdown_cell(
        "## Check each hypothesis against the data it cites\n\n"
        "Every piece of evidence keeps a *selector*: the exact series, log template or span edge it was "
        "computed from, the baseline it was compared with and the onset. `evidence.plot(bundle)` draws that "
        "data (grey: baseline, orange: cited period, red: onset), so a claim can be checked by eye. Pass "
        "`ax=` to draw into your own figure."),
    new_code_cell(
        "by_id = report.evidence_by_id()\n"
        "for rank, h in enumerate(report.hypotheses[:3], start=1):\n"
        "    display(h)  # the hypothesis with its evidence inline\n"
        "    cited = [by_id[i] for i in h.supporting if i in by_id and by_id[i].source != EvidenceSource.KNOWLEDGE]\n"
        "    if not cited:\n"
        "        print(f'hypothesis {rank} cites no plottable evidence')\n"
        "        continue\n"
        "    for ev in cited[:3]:\n"
        "        display(ev.plot(bundle))  # a baseline far from the incident gets its own panel"),
    new_markdown_cell(
        "## What really happened\n\n"
        "The bundle's `truth.yaml` is the evaluation label: investigators never read it. Reading it *after* "
        "the investigation tells us whether the ranking was right, and the plot of the true root cause's CPU "
        "shows what the evidence should have found."),
    new_code_cell(
        "from day2ai.sources.bundle import read_truth\n\n"
        "truth = read_truth(CASE)\n"
        "ranked = report.ranked_services()\n"
        "rank = ranked.index(truth.root_cause.service) + 1 if truth.root_cause.service in ranked else None\n"
        "print(f'truth: {truth.root_cause.service} / {truth.root_cause.fault.value}; ranked {rank or \"not\"} '\n"
        "      f'of {len(ranked)} by the offline investigator')\n"
        "cpu = metrics[(metrics.service == truth.root_cause.service) & (metrics.metric == 'cpu_usage_ratio')]\n"
        "fig = Figure(figsize=(10, 3))\n"
        "ax = fig.subplots()\n"
        "for key, part in cpu.groupby('series'):\n"
        "    ax.plot(part.index, part.value, label=key[:70])\n"
        "ax.axvline(onset, color='#c0392b', linestyle='--', label='onset')\n"
        "ax.legend(fontsize=7)\n"
        "fig"),
]


def main() -> None:
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    out = Path(__file__).resolve().parents[1] / "notebooks" / "03_explore_a_real_incident.ipynb"
    nbformat.write(nb, out)
    print(out)


if __name__ == "__main__":
    main()
