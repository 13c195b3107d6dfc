"""Plot the data a piece of evidence cites, from the bundle it came from (matplotlib, lazy).

``evidence(bundle, ev)`` reads exactly what ``ev.selector`` names — the metric series with its
labels, the lines of one log template, the spans of one service or one caller -> callee edge, the
changes of a service — and marks the baseline (grey band), the incident period the finding
covers (orange band) and the onset (red line). It returns a ``matplotlib.figure.Figure`` (no
pyplot state), or draws into ``ax`` when one is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from day2ai.errors import InputError
from day2ai.models import Evidence, EvidenceSource, Selector

if TYPE_CHECKING:
    from day2ai.sources.bundle import Bundle

MAX_SERIES = 12
# the last few whole-file frames, so plotting many evidence items reads each file once
_FRAMES: dict[tuple[str, str, float, tuple[float, float]], Any] = {}


def _frame(bundle: Bundle, kind: str) -> Any:
    """The whole frame of one file of ``bundle`` (cached by path and modification time)."""
    path = bundle.files.get(kind)
    window = _window(bundle)  # log template ids depend on the lines mined, hence on the window
    key = (str(path), kind, path.stat().st_mtime if path is not None else 0.0, window)
    if key not in _FRAMES:
        from day2ai import frames

        make = {"metrics": frames.metrics_frame, "traces": frames.spans_frame, "changes": frames.changes_frame}
        if kind == "logs":
            _FRAMES[key] = frames.logs_frame(bundle, start=window[0], end=window[1], templates=True)
        else:
            _FRAMES[key] = make[kind](bundle)
        while len(_FRAMES) > 4:
            _FRAMES.pop(next(iter(_FRAMES)))
    return _FRAMES[key]


def selector_of(ev: Evidence) -> Selector:
    """The evidence's selector, or one rebuilt from its other fields (reports saved before selectors)."""
    if ev.selector is not None:
        return ev.selector
    data = ev.data or {}
    key = str(data.get("key", ""))
    return Selector(
        source=ev.source, service=ev.service, time_range=ev.time_range, metric=data.get("metric"),
        labels={"service": ev.service} if ev.service else {},
        template_id=key.rpartition(":")[2] if key.startswith("log:") else None,
        caller=data.get("caller"), callee=data.get("callee"))


def _axes(ax: Any) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2))
    return fig, fig.subplots()


def _mark(ax: Any, sel: Selector) -> None:
    if sel.baseline is not None:
        ax.axvspan(sel.baseline.start, sel.baseline.end, color="#999999", alpha=0.18, label="baseline")
    if sel.time_range is not None and sel.time_range.seconds > 0:
        ax.axvspan(sel.time_range.start, sel.time_range.end, color="#e67e22", alpha=0.10, label="cited period")
    if sel.onset is not None:
        ax.axvline(sel.onset, color="#c0392b", linestyle="--", linewidth=1.2, label="onset")


def _window(bundle: Bundle) -> tuple[float, float]:
    """The span the analysis reads: the incident window, from the baseline start when it is earlier."""
    w, b = bundle.incident.window, bundle.incident.baseline
    return (min(w.start_s, b.start_s) if b is not None else w.start_s), w.end_s


def _bin(t0: float, t1: float) -> str:
    seconds = max(10, int((t1 - t0) / 120) // 10 * 10)
    return f"{seconds}s"


def _plot_metrics(bundle: Bundle, sel: Selector, ax: Any) -> int:
    frame = _frame(bundle, "metrics")
    if sel.metric:
        frame = frame[frame["metric"] == sel.metric]
    if sel.service:
        frame = frame[frame["service"] == sel.service]
    for k, v in sel.labels.items():
        if k not in ("__name__", "service"):
            frame = frame[frame[k] == v] if k in frame.columns else frame.iloc[0:0]
    groups = list(frame.groupby("series", sort=True))
    for key, part in groups[:MAX_SERIES]:
        ax.plot(part.index, part["value"], marker=".", markersize=3, linewidth=1, label=str(key)[:60])
    ax.set_ylabel(sel.metric or "value")
    return len(groups)


def _plot_logs(bundle: Bundle, sel: Selector, ax: Any) -> int:
    t0, t1 = _window(bundle)
    frame = _frame(bundle, "logs")
    if sel.service:
        frame = frame[frame["service"] == sel.service]
    lines = frame[frame["template_id"] == sel.template_id] if sel.template_id else frame.iloc[0:0]
    if lines.empty and sel.template:
        lines = frame[frame["template"] == sel.template]
    if lines.empty:
        return 0
    import pandas as pd

    step = _bin(t0, t1)
    start = pd.Timestamp(t0, unit="s", tz="UTC")
    counts = lines["message"].resample(step, origin=start).count()
    counts = counts.reindex(pd.date_range(start, pd.Timestamp(t1, unit="s", tz="UTC"), freq=step), fill_value=0)
    ax.step(counts.index, counts.values, where="post", color="#4c72b0",
            label=f"template {sel.template_id}: {(sel.template or '')[:50]}")
    ax.set_ylabel(f"lines per {_bin(t0, t1)}")
    return 1


def _naming(frame: Any, peer: str | None) -> Any:
    """Spans whose attributes name ``peer`` (client spans to a database or an external service)."""
    return frame[frame["attributes"].map(lambda a: peer in {str(v) for v in (a or {}).values()})]


def _edge_spans(frame: Any, sel: Selector) -> Any:
    calls = frame[(frame["service"] == sel.callee) & (frame["parent_service"] == sel.caller)]
    if calls.empty:  # the callee seen only through the caller's client spans (databases, externals)
        calls = _naming(frame[frame["service"] == sel.caller], sel.callee)
    return calls


def _plot_traces(bundle: Bundle, sel: Selector, ax: Any) -> int:
    if sel.caller and sel.callee:
        spans = _edge_spans(_frame(bundle, "traces"), sel)
        what = f"{sel.caller} -> {sel.callee}"
    else:
        spans = _frame(bundle, "traces")
        if sel.service:
            own = spans[spans["service"] == sel.service]
            spans = own if not own.empty else _naming(spans, sel.service)
        what = sel.service or "all services"
    if sel.operation:
        spans = spans[spans["name"] == sel.operation]
    if spans.empty:
        return 0
    ax.scatter(spans.index, spans["duration_ms"], s=3, alpha=0.3, color="#4c72b0", label=f"spans {what}")
    t0, t1 = _window(bundle)
    p50 = spans["duration_ms"].resample(_bin(t0, t1)).median()
    ax.plot(p50.index, p50.values, color="#1f3a93", linewidth=1.5, label="median")
    errors = spans[spans["status"] == "error"]
    if not errors.empty:
        ax.scatter(errors.index, errors["duration_ms"], s=6, color="#c0392b", label="error spans")
    ax.set_ylabel("duration (ms)")
    ax.set_yscale("log")
    return 1


def _plot_changes(bundle: Bundle, sel: Selector, ax: Any) -> int:
    frame = _frame(bundle, "changes")
    frame = frame[frame["service"] == sel.service] if sel.service else frame
    for t, row in frame.iterrows():
        ax.axvline(t, color="#27ae60", linewidth=2)
        ax.annotate(f"{row['kind']}: {str(row['summary'])[:40]}", (t, 0.5), rotation=90, fontsize=7,
                    xycoords=("data", "axes fraction"), va="center")
    w = bundle.incident.window
    ax.set_xlim(min([w.start, *frame.index.to_pydatetime()]), max([w.end, *frame.index.to_pydatetime()]))
    ax.set_yticks([])
    return len(frame)


_PLOTTERS = {
    EvidenceSource.METRICS: _plot_metrics,
    EvidenceSource.LOGS: _plot_logs,
    EvidenceSource.TRACES: _plot_traces,
    EvidenceSource.CHANGES: _plot_changes,
}


def _panels(sel: Selector) -> list[tuple[datetime, datetime]] | None:
    """The baseline and the cited period as two x ranges when they lie far apart (else None), so a
    one-minute baseline hours before the incident does not squeeze both into slivers."""
    if sel.baseline is None or sel.time_range is None:
        return None
    start = min(sel.time_range.start, sel.onset) if sel.onset is not None else sel.time_range.start
    end = sel.time_range.end
    base = sel.baseline
    span = (end - start) + (base.end - base.start)
    gap = max(start - base.end, base.start - end)
    if gap <= 2 * span:
        return None
    pad = max(timedelta(seconds=60), span / 4)
    return sorted([(base.start - pad, base.end + pad), (start - pad, end + pad)])


def evidence(bundle: Bundle, ev: Evidence, ax: Any = None) -> Any:
    """Draw the data ``ev`` cites from ``bundle``; returns the Figure. Knowledge evidence has no data
    to plot (:class:`~day2ai.errors.InputError`); data the bundle lacks leaves a note on the plot.

    Without ``ax``, a baseline far from the incident gets its own panel (left or right, in time order).
    """
    sel = selector_of(ev)
    plotter = _PLOTTERS.get(sel.source)
    if plotter is None:
        raise InputError(f"evidence {ev.id} cites {sel.source.value}, which has no time series to plot")
    panels = _panels(sel) if ax is None else None
    if panels is not None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 3.4))
        axes = list(fig.subplots(1, 2, sharey=True))
    else:
        fig, one = _axes(ax)
        axes = [one]
    drawn = 0
    for axis in axes:
        drawn = plotter(bundle, sel, axis)
        _mark(axis, sel)
    for axis, (lo, hi) in zip(axes, panels or [], strict=False):
        axis.set_xlim(lo, hi)
    last = axes[-1]
    if not drawn:
        last.text(0.5, 0.5, "the bundle holds no data matching this evidence", transform=last.transAxes,
                  ha="center", va="center", color="#c0392b")
    title = f"[{ev.id}] {ev.summary}"[:110]
    if panels is not None:
        fig.suptitle(title, fontsize=9)
    else:
        last.set_title(title, fontsize=9)
    last.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    return fig
