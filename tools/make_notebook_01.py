"""Write notebooks/01_investigate_an_incident.ipynb (run after editing the cells below)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Investigate an incident\n\n"
        "This notebook loads the sample incident bundle, looks at the incident and a few of its metrics, "
        "runs the **offline investigator** (no API key needed) and displays the ranked root-cause hypotheses."),
    new_code_cell(
        "from pathlib import Path\n\n"
        "import day2ai\n"
        "from day2ai.sources.base import MetricQuery\n\n"
        "BUNDLE = Path('../examples/demo-bundle')\n"
        "bundle = day2ai.load_bundle(BUNDLE)\n"
        "incident = bundle.incident\n"
        "print(incident.title)\n"
        "print('window  :', incident.window.start, '->', incident.window.end)\n"
        "print('detected:', incident.detected_at)\n"
        "print('symptom :', incident.symptom.service, '-', incident.symptom.description)\n"
        "print('files   :', sorted(bundle.files))"),
    new_markdown_cell("## What the telemetry shows\n\nLatency and error ratio of every service, "
                      "with the detection time marked. The symptom is where the alert fired, "
                      "not necessarily where the fault is."),
    new_code_cell(
        "%matplotlib inline\n"
        "import matplotlib.pyplot as plt\n"
        "from datetime import datetime, timezone\n\n"
        "names = ('request_latency_p99_seconds', 'request_error_ratio')\n"
        "series = [s async for s in bundle.sources.metrics.series(MetricQuery(names=names))]\n"
        "fig, axes = plt.subplots(1, 2, figsize=(13, 4))\n"
        "for ax, name in zip(axes, names):\n"
        "    for s in series:\n"
        "        if s.name == name:\n"
        "            ax.plot([datetime.fromtimestamp(t, timezone.utc) for t in s.timestamps], s.values,\n"
        "                    lw=1, label=s.labels.get('pod', s.service))\n"
        "    ax.axvline(incident.detected_at, color='red', ls='--', lw=1)\n"
        "    ax.set_title(name)\n"
        "    ax.tick_params(axis='x', labelrotation=30)\n"
        "axes[0].legend(fontsize=6, ncol=2)\n"
        "plt.tight_layout()"),
    new_markdown_cell("## Investigate\n\nThe offline investigator scores anomalies against the baseline, mines log "
                      "templates, follows the call graph and recent changes, and ranks the components."),
    new_code_cell("report = day2ai.investigate(bundle)\nreport"),
    new_markdown_cell("## The evidence behind the top hypothesis, and what was not checked"),
    new_code_cell(
        "top = report.hypotheses[0]\n"
        "by_id = report.evidence_by_id()\n"
        "for eid in top.supporting:\n"
        "    print(f'[{eid}]', by_id[eid].source.value, '-', by_id[eid].summary)\n"
        "print()\n"
        "for gap in report.gaps:\n"
        "    print('gap:', gap.source, '-', gap.reason)\n"
        "print(f'{report.usage.tool_calls} tool calls in {report.usage.seconds:.2f} s')"),
    new_markdown_cell("## The same report as a chat bot would post it"),
    new_code_cell("from day2ai.render import report_markdown\nprint(report_markdown(report))"),
]


def main() -> None:
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    out = Path(__file__).resolve().parents[1] / "notebooks" / "01_investigate_an_incident.ipynb"
    nbformat.write(nb, out)
    print(out)


if __name__ == "__main__":
    main()
