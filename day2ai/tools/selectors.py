"""Structured selectors for the evidence the tools register (see :class:`~day2ai.models.Selector`).

A selector names exactly the data behind a finding (the metric series with its full label set,
the log template, the span edge, the change, the document) and the periods it compared, so
``evidence.plot(bundle)`` can draw it again. The builders read only what the analysis already
cached in ``inv.cache``; a finding they cannot place still gets a selector with what is known.
"""

from __future__ import annotations

from typing import Any

from day2ai.models import EvidenceSource, Selector, TimeRange
from day2ai.tools.base import Investigation

_IDENTITY_LABELS = ("pod", "instance", "pod_name", "container", "node", "host", "kubernetes_pod_name")


def _instance(labels: dict[str, str]) -> str:
    """The identifying label value of a series (the same rule as the metric analysis)."""
    return next((str(labels[k]) for k in _IDENTITY_LABELS if labels.get(k)), "")


def _periods(inv: Investigation) -> tuple[TimeRange | None, float | None]:
    p = inv.cache.get("periods")
    start, end, onset = (getattr(p, name, None) for name in ("baseline_start", "baseline_end", "onset"))
    baseline = TimeRange.from_epoch(start, end) if start is not None and end is not None and end >= start else None
    return baseline, onset


def _series_labels(inv: Investigation, service: str, metric: str, kind: str | None) -> dict[str, str]:
    """The full label set of the series the metric analysis picked for (service, kind)."""
    instance: str | None = None
    profile = (inv.cache.get("metric_profiles") or {}).get(service)
    for k, anomaly in (getattr(profile, "by_kind", None) or {}).items():
        if getattr(k, "value", k) == kind and getattr(anomaly, "name", None) == metric:
            instance = getattr(anomaly, "instance", None)
    candidates = [raw[2] for raw in inv.cache.get("raw_metrics") or () if raw[0] == service and raw[1] == metric]
    if instance is not None:
        candidates = [labels for labels in candidates if _instance(labels) == instance] or candidates
    if len(candidates) == 1:
        return {"__name__": metric, **candidates[0]}
    return {"__name__": metric, "service": service}


def selector_for(
    inv: Investigation,
    key: str,
    source: EvidenceSource,
    service: str | None,
    time_range: TimeRange | None,
    data: dict[str, Any],
) -> Selector:
    """The selector of a finding registered by :func:`day2ai.tools.evidence.evidence_for`.

    ``key`` is the finding key (``metric:SVC:KIND``, ``log:SVC:TID``, ``trace:SVC``,
    ``edge:A->B``, ``change:SVC:TS``) and ``data`` the finding's details.
    """
    baseline, onset = _periods(inv)
    kind = key.partition(":")[0]
    fields: dict[str, Any] = {}
    if kind == "metric" and service is not None and data.get("metric"):
        metric = str(data["metric"])
        labels = _series_labels(inv, service, metric, data.get("kind"))
        fields = {"metric": metric, "labels": labels}
        onset = data.get("onset") or onset
    elif kind == "log":
        fields = {"template_id": key.rpartition(":")[2], "template": data.get("template")}
    elif kind == "edge":
        fields = {"caller": data.get("caller"), "callee": data.get("callee")}
    return Selector(source=source, service=service, time_range=time_range, baseline=baseline, onset=onset,
                    **fields)


def knowledge_selector(path: str | None, anchor: str | None = None) -> Selector:
    """The selector of a knowledge document (``path#anchor``)."""
    document = f"{path}#{anchor}" if path and anchor else path
    return Selector(source=EvidenceSource.KNOWLEDGE, document=document)
