"""pandas DataFrames of bundles, reports and evaluation results, for analysts in notebooks.

Every time-based frame is in long format (one row per point, log line, span or change) with a
timezone-aware UTC ``DatetimeIndex`` named ``timestamp`` (``start`` for spans) and the labels as
columns. pandas is part of the ``notebook`` extra and is imported only when a frame is asked for.
Bundle files are streamed; pass ``services``/``start``/``end`` to keep big bundles small.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from day2ai.errors import InputError
from day2ai.timeutil import parse_timestamp

if TYPE_CHECKING:
    import pandas as pd

    from day2ai.evaluation.results import SuiteResult
    from day2ai.models import Report
    from day2ai.sources.bundle import Bundle

TimeArg = float | int | str | datetime | None


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise InputError("DataFrames need pandas: pip install 'day2ai[notebook]'") from None
    return pandas


def _epoch(value: TimeArg) -> float | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InputError(f"bad time {value!r}: {exc}") from None


def _index(pd: Any, seconds: list[float], name: str) -> Any:
    return pd.DatetimeIndex(pd.to_datetime(seconds, unit="s", utc=True), name=name)


def _frame(rows: dict[str, list[Any]], seconds: list[float], index_name: str) -> pd.DataFrame:
    pd = _pandas()
    return pd.DataFrame(rows, index=_index(pd, seconds, index_name))


def _wanted(services: Iterable[str] | None) -> frozenset[str] | None:
    return frozenset([services] if isinstance(services, str) else services) if services is not None else None


def series_key(name: str, labels: dict[str, str]) -> str:
    """A stable text id of a series: ``name{k="v",...}`` with the labels sorted (Prometheus style)."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


# ------------------------------------------------------------------ bundles


def metrics_frame(
    bundle: Bundle,
    *,
    services: Iterable[str] | None = None,
    names: Iterable[str] | None = None,
    labels: dict[str, str] | None = None,
    start: TimeArg = None,
    end: TimeArg = None,
) -> pd.DataFrame:
    """One row per metric point: ``metric``, ``service``, ``series`` (see :func:`series_key`),
    ``value`` (NaN kept) and one column per other label."""
    want_svc, want_names = _wanted(services), _wanted(names)
    t0, t1 = _epoch(start), _epoch(end)
    seconds: list[float] = []
    cols: dict[str, list[Any]] = {"metric": [], "service": [], "series": [], "value": []}
    extra: dict[str, list[Any]] = {}
    for s in bundle.iter_file("metrics"):
        if want_svc is not None and s.service not in want_svc:
            continue
        if want_names is not None and s.name not in want_names:
            continue
        if labels and any(s.labels.get(k) != v for k, v in labels.items() if k != "__name__"):
            continue
        if labels and labels.get("__name__") not in (None, s.name):
            continue
        keep = [i for i, t in enumerate(s.timestamps) if (t0 is None or t >= t0) and (t1 is None or t <= t1)]
        if not keep:
            continue
        n, before = len(keep), len(seconds)
        seconds.extend(s.timestamps[i] for i in keep)
        cols["value"].extend(s.values[i] for i in keep)
        for col, v in (("metric", s.name), ("service", s.service), ("series", series_key(s.name, s.labels))):
            cols[col].extend([v] * n)
        for k, v in s.labels.items():
            if k != "service":
                extra.setdefault(k, [None] * before).extend([v] * n)
        for values in extra.values():
            values.extend([None] * (len(seconds) - len(values)))
    frame = _frame({**cols, **extra}, seconds, "timestamp")
    return frame.sort_index(kind="stable")


def _log_rows(bundle: Bundle, want: frozenset[str] | None, t0: float | None, t1: float | None) -> Iterator[Any]:
    for rec in bundle.iter_file("logs"):
        if (want is None or rec.service in want) and (t0 is None or rec.timestamp >= t0) and \
                (t1 is None or rec.timestamp <= t1):
            yield rec


def logs_frame(
    bundle: Bundle,
    *,
    services: Iterable[str] | None = None,
    start: TimeArg = None,
    end: TimeArg = None,
    templates: bool = False,
) -> pd.DataFrame:
    """One row per log line: ``service``, ``level``, ``message``, ``trace_id``.

    With ``templates=True`` every line (in file order, after the time filter and before the
    service filter) goes through the log template miner, adding ``template_id`` (the id the line got
    when mined, as in log evidence) and ``template`` (its final text).
    """
    t0, t1 = _epoch(start), _epoch(end)
    want = _wanted(services)
    seconds: list[float] = []
    cols: dict[str, list[Any]] = {"service": [], "level": [], "message": [], "trace_id": []}
    ids: list[str] = []
    miner = None
    if templates:
        from day2ai.analysis.logmining import TemplateMiner

        miner = TemplateMiner()
    for rec in _log_rows(bundle, None if templates else want, t0, t1):
        tid = miner.add_id(rec.message) if miner is not None else ""
        if want is not None and rec.service not in want:
            continue
        seconds.append(rec.timestamp)
        for col, v in (("service", rec.service), ("level", rec.level), ("message", rec.message),
                       ("trace_id", rec.trace_id)):
            cols[col].append(v)
        ids.append(tid)
    if miner is not None:
        texts = {tid: miner.template(tid) for tid in set(ids)}
        cols["template_id"] = ids
        cols["template"] = [texts[t] for t in ids]
    return _frame(cols, seconds, "timestamp").sort_index(kind="stable")


def spans_frame(
    bundle: Bundle,
    *,
    services: Iterable[str] | None = None,
    start: TimeArg = None,
    end: TimeArg = None,
) -> pd.DataFrame:
    """One row per span, indexed by its start: ids, ``service``, ``name``, ``duration_ms``,
    ``status``, ``parent_service`` (the service of the parent span, None for a root or an
    unknown parent) and ``attributes`` (a dict)."""
    t0, t1 = _epoch(start), _epoch(end)
    want = _wanted(services)
    service_of: dict[tuple[str, str], str] = {}
    seconds: list[float] = []
    names = ("trace_id", "span_id", "parent_span_id", "service", "name", "duration_ms", "status", "attributes")
    cols: dict[str, list[Any]] = {k: [] for k in names}
    for sp in bundle.iter_file("traces"):
        service_of[(sp.trace_id, sp.span_id)] = sp.service
        if (want is not None and sp.service not in want) or (t0 is not None and sp.start < t0) or \
                (t1 is not None and sp.start > t1):
            continue
        seconds.append(sp.start)
        for k in names:
            cols[k].append(getattr(sp, k))
    cols["parent_service"] = [service_of.get((t, p)) if p else None
                              for t, p in zip(cols["trace_id"], cols["parent_span_id"], strict=True)]
    return _frame(cols, seconds, "start").sort_index(kind="stable")


def changes_frame(
    bundle: Bundle,
    *,
    services: Iterable[str] | None = None,
    start: TimeArg = None,
    end: TimeArg = None,
) -> pd.DataFrame:
    """One row per change: ``service``, ``kind``, ``summary``, ``version``, ``previous_version``, ``author``."""
    t0, t1 = _epoch(start), _epoch(end)
    want = _wanted(services)
    seconds: list[float] = []
    names = ("service", "kind", "summary", "version", "previous_version", "author")
    cols: dict[str, list[Any]] = {k: [] for k in names}
    for ch in bundle.iter_file("changes"):
        if (want is not None and ch.service not in want) or (t0 is not None and ch.timestamp < t0) or \
                (t1 is not None and ch.timestamp > t1):
            continue
        seconds.append(ch.timestamp)
        for k in names:
            v = getattr(ch, k)
            cols[k].append(getattr(v, "value", v))
    return _frame(cols, seconds, "timestamp").sort_index(kind="stable")


# ------------------------------------------------------------------ reports


def _utc(pd: Any, value: datetime | None) -> Any:
    return pd.Timestamp(value).tz_convert("UTC") if value is not None else pd.NaT


def evidence_frame(report: Report) -> pd.DataFrame:
    """One row per evidence item, indexed by id: source, service, strength, summary, query,
    ``start``/``end`` (UTC), what the selector names, and ``cited_by`` (ranks of the hypotheses
    citing it in support, 1 = best)."""
    pd = _pandas()
    cited: dict[str, list[int]] = {}
    for rank, h in enumerate(report.hypotheses, start=1):
        for eid in h.supporting:
            cited.setdefault(eid, []).append(rank)
    rows = []
    for e in report.evidence:
        sel = e.selector
        tr = e.time_range
        rows.append({
            "id": e.id, "source": e.source.value, "service": e.service, "strength": e.strength,
            "summary": e.summary, "query": e.query,
            "start": _utc(pd, tr.start if tr else None), "end": _utc(pd, tr.end if tr else None),
            "metric": sel.metric if sel else None, "template_id": sel.template_id if sel else None,
            "caller": sel.caller if sel else None, "callee": sel.callee if sel else None,
            "onset": _utc(pd, sel.onset if sel else None), "cited_by": cited.get(e.id, []),
        })
    columns = ["id", "source", "service", "strength", "summary", "query", "start", "end", "metric",
               "template_id", "caller", "callee", "onset", "cited_by"]
    return pd.DataFrame(rows, columns=columns).set_index("id")


def hypotheses_frame(report: Report) -> pd.DataFrame:
    """One row per hypothesis, indexed by rank (1 = best)."""
    pd = _pandas()
    known = report.evidence_by_id()
    rows = [{
        "rank": rank, "service": h.service, "fault": h.fault.value, "confidence": h.confidence,
        "summary": h.summary, "supporting": list(h.supporting), "contradicting": list(h.contradicting),
        "grounded": bool(h.supporting) and all(i in known for i in h.supporting),
        "remediation": "; ".join(r.action for r in h.remediations),
    } for rank, h in enumerate(report.hypotheses, start=1)]
    columns = ["rank", "service", "fault", "confidence", "summary", "supporting", "contradicting",
               "grounded", "remediation"]
    return pd.DataFrame(rows, columns=columns).set_index("rank")


# ------------------------------------------------------------------ evaluation results


def cases_frame(result: SuiteResult) -> pd.DataFrame:
    """One row per case, indexed by case id, with ``hit@1``/``hit@3``/``hit@5`` columns."""
    pd = _pandas()
    rows = []
    for c in result.per_case:
        row = c.model_dump(mode="json")
        row["top"] = c.ranked_services[0] if c.ranked_services else None
        row.update({f"hit@{k}": c.hit_at(k) for k in (1, 3, 5)})
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.set_index("id") if rows else frame


def scores_frame(result: SuiteResult) -> pd.DataFrame:
    """The headline scores as a one-column frame (``value``), indexed by score name."""
    pd = _pandas()
    scores = {"cases": float(result.cases), "errors": float(result.errors), **result.scores(),
              "mean_seconds": result.mean_seconds, "median_seconds": result.median_seconds,
              "mean_tokens": result.mean_tokens}
    return pd.DataFrame({"value": list(scores.values())}, index=pd.Index(list(scores), name="score"))


def confusion_frame(result: SuiteResult) -> pd.DataFrame:
    """Truth fault (rows) by the fault of the first hypothesis (columns), counts."""
    pd = _pandas()
    cols = sorted({p for row in result.confusion.values() for p in row})
    data = [[result.confusion[r].get(c, 0) for c in cols] for r in result.confusion]
    return pd.DataFrame(data, index=pd.Index(list(result.confusion), name="truth"),
                        columns=pd.Index(cols, name="predicted"))
