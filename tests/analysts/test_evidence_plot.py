"""Evidence keeps a selector of the data it cites, and evidence.plot draws exactly that data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from day2ai import investigate, load_bundle
from day2ai.errors import InputError
from day2ai.models import Evidence, EvidenceSource, Report
from day2ai.plot import selector_of
from day2ai.sources.bundle import Bundle
from tests.agent.offline_synth import make_world, write_bundle

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

PLOTTABLE = {EvidenceSource.METRICS, EvidenceSource.LOGS, EvidenceSource.TRACES, EvidenceSource.CHANGES}


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Report]:
    world = make_world("memory_leak", "payments", seed=3, with_deploy=True)
    bundle = load_bundle(write_bundle(world, tmp_path_factory.mktemp("synth") / "b"))
    return bundle, investigate(bundle)


def _drawn(fig: Any) -> tuple[int, list[str]]:
    ax = fig.axes[-1]
    data = [ln for ln in ax.lines if len(ln.get_xdata()) > 2] + list(ax.collections) + list(ax.patches)
    return len(data), [t.get_text() for t in ax.texts]


def test_every_finding_has_a_selector_of_its_source(case: tuple[Bundle, Report]) -> None:
    _, report = case
    found = [e for e in report.evidence if e.source in PLOTTABLE]
    assert found
    for e in found:
        assert e.selector is not None and e.selector.source is e.source, e.id
        assert e.selector.onset is not None and e.selector.baseline is not None, e.id


def test_metric_selector_names_exactly_one_series(case: tuple[Bundle, Report]) -> None:
    bundle, report = case
    frame = bundle.metrics_frame()
    metric_ev = [e for e in report.evidence if e.source is EvidenceSource.METRICS]
    assert metric_ev
    for e in metric_ev:
        sel = e.selector
        assert sel is not None and sel.metric == sel.labels["__name__"] and sel.labels["service"] == e.service
        match = frame[(frame["metric"] == sel.metric) & (frame["service"] == e.service)]
        for k, v in sel.labels.items():
            if k not in ("__name__", "service"):
                match = match[match[k] == v]
        assert match["series"].nunique() == 1, e.id


def test_log_selector_finds_its_template_lines(case: tuple[Bundle, Report]) -> None:
    bundle, report = case
    logs = bundle.logs_frame(templates=True)
    for e in (e for e in report.evidence if e.source is EvidenceSource.LOGS):
        sel = e.selector
        assert sel is not None and sel.template_id
        lines = logs[(logs["service"] == e.service) & (logs["template_id"] == sel.template_id)]
        assert len(lines) > 0, e.id


def test_plot_draws_the_cited_data_with_onset(case: tuple[Bundle, Report]) -> None:
    bundle, report = case
    for e in (e for e in report.evidence if e.source in PLOTTABLE):
        fig = e.plot(bundle)
        n, texts = _drawn(fig)
        assert n > 0 and not any("no data" in t for t in texts), (e.id, texts)
        legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
        assert "onset" in legend and "baseline" in legend, e.id


def test_plot_notes_missing_data_and_refuses_knowledge(case: tuple[Bundle, Report]) -> None:
    bundle, report = case
    ev = next(e for e in report.evidence if e.source is EvidenceSource.METRICS)
    assert ev.selector is not None
    other = ev.model_copy(update={"selector": ev.selector.model_copy(update={"metric": "no_such_metric"})})
    _, texts = _drawn(other.plot(bundle))
    assert any("no data" in t for t in texts)
    kb = Evidence(id="k1", source="knowledge", query="q", summary="runbook")
    with pytest.raises(InputError):
        kb.plot(bundle)


def test_selector_round_trips_and_has_a_fallback(case: tuple[Bundle, Report]) -> None:
    _, report = case
    again = Report.model_validate_json(report.model_dump_json())
    assert [e.selector for e in again.evidence] == [e.selector for e in report.evidence]
    old = Evidence(id="e1", source="metrics", query="q", summary="s", service="svc",
                   data={"key": "metric:svc:cpu", "metric": "cpu_usage_ratio"})
    sel = selector_of(old)
    assert sel.metric == "cpu_usage_ratio" and sel.labels == {"service": "svc"}


def test_plot_into_given_axes(case: tuple[Bundle, Report], tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    bundle, report = case
    fig = Figure()
    axes = fig.subplots(1, 2)
    plotted = [e for e in report.evidence if e.source in PLOTTABLE][:2]
    for ax, e in zip(axes, plotted, strict=False):
        assert e.plot(bundle, ax=ax) is fig
    fig.savefig(tmp_path / "two.png")
    assert (tmp_path / "two.png").stat().st_size > 1000


def test_a_far_baseline_gets_its_own_panel(case: tuple[Bundle, Report]) -> None:
    from datetime import timedelta

    from day2ai.models import TimeRange

    bundle, report = case
    ev = next(e for e in report.evidence if e.source is EvidenceSource.METRICS)
    assert ev.selector is not None and ev.selector.time_range is not None
    assert len(ev.plot(bundle).axes) == 1  # baseline next to the incident: one panel
    tr = ev.selector.time_range
    far = TimeRange(start=tr.start - timedelta(hours=5), end=tr.start - timedelta(hours=5) + timedelta(minutes=2))
    moved = ev.model_copy(update={"selector": ev.selector.model_copy(update={"baseline": far})})
    fig = moved.plot(bundle)
    assert len(fig.axes) == 2
    left, right = (ax.get_xlim() for ax in fig.axes)
    assert left[1] < right[0]  # baseline panel first, in time order, not overlapping
