"""Ops histories (shared/spec/ops-history.md) as a source: what ``day2ai scan`` reads.

``load_history`` reads ``site.yaml`` (required) and every optional file. The JSONL files are
streamed with the bundle reader's helpers (one broken line raises a :class:`BundleError` naming
file, line and field); metric series become numpy arrays on the way in (a fast path for numeric
pairs, the bundle parser for everything else, so errors read the same). A missing optional file is
recorded as a gap, never an error.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, Field, field_validator

from day2ai.errors import BundleError
from day2ai.sources.bundle import (
    _FieldError,
    _find,
    _iter_jsonl,
    _opt_text,
    _read_text,
    _text,
    _time,
    parse_change,
    parse_series,
    read_yaml_model,
)
from day2ai.sources.bundle_read import BundleLimits
from day2ai.timeutil import parse_timestamp

# histories hold weeks of metrics: long lines (one series of 60 days at 5 minutes is ~0.5 MB) and big files
HISTORY_LIMITS = BundleLimits(max_line_bytes=64 << 20, max_file_bytes=8 << 30, max_records=5_000_000)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def when(value: Any, end_of_day: bool = False) -> float:
    """Epoch seconds of a timestamp (bundle rules) or of a plain date (YAML ``2026-01-28`` or the same
    string): midnight UTC, or the end of that day when ``end_of_day`` (a due date is due all day)."""
    extra = 86400.0 if end_of_day else 0.0
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() + extra
    if isinstance(value, str) and _DATE.match(value.strip()):
        return datetime.fromisoformat(value.strip()).replace(tzinfo=UTC).timestamp() + extra
    return parse_timestamp(value)

# OpenCost's documented default on-demand prices (USD), used when site.yaml gives none.
DEFAULT_CPU_CORE_HOUR = 0.031611
DEFAULT_MEMORY_GIB_HOUR = 0.004237


# ---------------------------------------------------------------- site.yaml


class Period(BaseModel):
    start: float
    end: float

    @field_validator("start", "end", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> float:
        return when(value)


class Oncall(BaseModel):
    timezone: str = "UTC"
    night: str = "22:00-07:00"


class Prices(BaseModel):
    cpu_core_hour: float = DEFAULT_CPU_CORE_HOUR
    memory_gib_hour: float = DEFAULT_MEMORY_GIB_HOUR


class Resources(BaseModel):
    replicas: int = Field(default=1, ge=0)
    cpu_request_cores: float | None = Field(default=None, ge=0)
    memory_request_bytes: float | None = Field(default=None, ge=0)
    memory_limit_bytes: float | None = Field(default=None, ge=0)


class ServiceSpec(BaseModel):
    name: str
    team: str | None = None
    tier: int = 3
    runbook: str | None = None
    alerts: list[str] | None = None
    depends_on: list[str] = Field(default_factory=list)
    resources: Resources | None = None
    telemetry: list[str] | None = None


class Site(BaseModel):
    name: str
    period: Period
    oncall: Oncall = Field(default_factory=Oncall)
    prices: Prices = Field(default_factory=Prices)
    services: list[ServiceSpec] = Field(default_factory=list)


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Series:
    """One metric series as arrays (epoch seconds, values; NaN = missing)."""

    name: str
    service: str
    labels: dict[str, str]
    t: np.ndarray
    v: np.ndarray


@dataclass(frozen=True)
class ActionItem:
    id: str
    title: str
    status: str
    due: float | None


@dataclass(frozen=True)
class IncidentRecord:
    id: str
    service: str
    severity: str
    opened_at: float
    title: str = ""
    acknowledged_at: float | None = None
    mitigated_at: float | None = None
    resolved_at: float | None = None
    cause_service: str | None = None
    fault: str | None = None
    change_id: str | None = None
    postmortem: str | None = None
    action_items: tuple[ActionItem, ...] = ()


@dataclass(frozen=True)
class AlertRecord:
    alert: str
    service: str
    severity: str
    fired_at: float
    resolved_at: float | None = None
    acknowledged: bool = False
    incident_id: str | None = None


@dataclass(frozen=True)
class ChangeRecord:
    timestamp: float
    service: str
    kind: str
    summary: str
    id: str | None = None
    environment: str = "production"
    first_commit_at: float | None = None
    version: str | None = None


@dataclass(frozen=True)
class KubeObject:
    kind: str
    namespace: str
    name: str
    body: dict[str, Any]
    file: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Document:
    path: str  # relative to knowledge/
    text: str
    meta: dict[str, Any]


@dataclass
class OpsHistory:
    """Everything a scan needs, read from one ops history."""

    path: Path
    site: Site
    metrics: list[Series] = field(default_factory=list)
    incidents: list[IncidentRecord] = field(default_factory=list)
    alerts: list[AlertRecord] = field(default_factory=list)
    changes: list[ChangeRecord] = field(default_factory=list)
    desired: list[KubeObject] | None = None
    live: list[KubeObject] | None = None
    documents: list[Document] | None = None
    present: set[str] = field(default_factory=set)  # which optional inputs exist
    gaps: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)


# ---------------------------------------------------------------- parsers


_SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
_ALERT_SEVERITIES = ("page", "ticket", "info")
# unambiguous spellings of other tools (PagerDuty/Opsgenie priorities, Alertmanager severities)
_ALIASES = {**{f"{p}{i}": f"sev{i}" for i in range(1, 5) for p in ("p", "sev-", "sev ", "sev_")},
            "critical": "page", "warning": "ticket", "warn": "ticket", "none": "info"}


def _opt_time(obj: dict[str, Any], key: str, end_of_day: bool = False) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str) and _DATE.match(value.strip()):
        return when(value, end_of_day)
    return _time(obj, key)


def _choice(obj: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = _text(obj, key).strip().lower()
    value = _ALIASES.get(value, value)
    if value not in allowed:
        raise _FieldError(key, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _action_items(obj: dict[str, Any]) -> tuple[ActionItem, ...]:
    raw = obj.get("action_items") or []
    if not isinstance(raw, list):
        raise _FieldError("action_items", "expected a list")
    items = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _FieldError(f"action_items[{i}]", "expected an object")
        try:
            items.append(ActionItem(id=_opt_text(item, "id") or f"item-{i + 1}", title=_opt_text(item, "title") or "",
                                    status=(_opt_text(item, "status") or "open").lower(),
                                    due=_opt_time(item, "due", end_of_day=True)))
        except _FieldError as exc:
            raise _FieldError(f"action_items[{i}].{exc.field}", exc.problem) from None
    return tuple(items)


def parse_incident(obj: dict[str, Any]) -> IncidentRecord:
    cause = obj.get("root_cause") or {}
    if not isinstance(cause, dict):
        raise _FieldError("root_cause", "expected an object")
    return IncidentRecord(
        id=_text(obj, "id"), service=_text(obj, "service"), severity=_choice(obj, "severity", _SEVERITIES),
        opened_at=_time(obj, "opened_at"), title=_opt_text(obj, "title") or "",
        acknowledged_at=_opt_time(obj, "acknowledged_at"), mitigated_at=_opt_time(obj, "mitigated_at"),
        resolved_at=_opt_time(obj, "resolved_at"), cause_service=_opt_text(cause, "service"),
        fault=_opt_text(cause, "fault"), change_id=_opt_text(obj, "change_id"),
        postmortem=_opt_text(obj, "postmortem"), action_items=_action_items(obj))


def parse_alert(obj: dict[str, Any]) -> AlertRecord:
    ack = obj.get("acknowledged", False)
    if not isinstance(ack, bool):
        raise _FieldError("acknowledged", f"expected true or false, got {ack!r}")
    return AlertRecord(
        alert=_text(obj, "alert"), service=_text(obj, "service"),
        severity=_choice(obj, "severity", _ALERT_SEVERITIES), fired_at=_time(obj, "fired_at"),
        resolved_at=_opt_time(obj, "resolved_at"), acknowledged=ack, incident_id=_opt_text(obj, "incident_id"))


def parse_history_change(obj: dict[str, Any]) -> ChangeRecord:
    ch = parse_change(obj)
    return ChangeRecord(
        timestamp=ch.timestamp, service=ch.service, kind=str(ch.kind.value), summary=ch.summary,
        id=_opt_text(obj, "id"), environment=(_opt_text(obj, "environment") or "production").lower(),
        first_commit_at=_opt_time(obj, "first_commit_at"), version=ch.version)


PEER_ALIASES = ("dependency", "target", "upstream", "destination_service", "dst_service", "callee")


def _with_peer(s: Series) -> Series:
    """``client_*`` series name the dependency called ``peer`` (ops-history.md); other exporters'
    label names for it are read as ``peer``."""
    if not s.name.startswith("client_") or "peer" in s.labels:
        return s
    alias = next((k for k in PEER_ALIASES if k in s.labels), None)
    if alias is None:
        return s
    return Series(s.name, s.service, {**s.labels, "peer": s.labels[alias]}, s.t, s.v)


def parse_metric(obj: dict[str, Any]) -> Series:
    return _with_peer(_parse_metric(obj))


def _parse_metric(obj: dict[str, Any]) -> Series:
    """A range-query item as arrays: numeric pairs take a vectorised path, anything else (RFC 3339
    times, bad values) goes through the bundle parser, which validates and names the bad field."""
    metric, values = obj.get("metric"), obj.get("values")
    if (isinstance(metric, dict) and isinstance(values, list) and values
            and type(metric.get("__name__")) is str and type(metric.get("service")) is str):
        arrays = _fast_arrays(values)
        if arrays is not None:
            labels = {str(k): str(v) for k, v in metric.items() if k != "__name__"}
            return Series(metric["__name__"], labels["service"], labels, arrays[0], arrays[1])
    s = parse_series(obj)
    return Series(s.name, s.service, dict(s.labels), np.asarray(s.timestamps, dtype=np.float64),
                  np.asarray(s.values, dtype=np.float64))


def _fast_arrays(values: list[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, values) for well-formed pairs -- epoch numbers, or RFC 3339 UTC strings ending in ``Z`` --
    in increasing time order; None for anything else (the validating parser then names the problem).
    A null value reads as NaN, a missing point."""
    try:
        if type(values[0]) is list and type(values[0][0]) is str:
            stamps = [p[0][:-1] if p[0][-1] in "Zz" else "!" for p in values]
            t = np.array(stamps, dtype="datetime64[us]").astype(np.int64) / 1e6
            v = np.fromiter((p[1] for p in values), dtype=np.float64, count=len(values))
        else:
            n = len(values)
            if set(map(len, values)) != {2}:  # every pair has two items (else the slow parser says which)
                return None
            flat = np.fromiter(itertools.chain.from_iterable(values), dtype=np.float64, count=2 * n)
            t, v = flat[0::2].copy(), flat[1::2].copy()
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    if t.size != v.size or not np.isfinite(t).all() or (t.size > 1 and not bool((np.diff(t) > 0).all())):
        return None
    return t, v


# ---------------------------------------------------------------- YAML objects and Markdown


def _yaml_docs(path: Path) -> Iterator[Any]:
    text = _read_text(path)
    try:  # the C loader when libyaml is there: the same safe constructors, ~10x faster
        yield from yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BundleError(str(path), f"invalid YAML: {getattr(exc, 'problem', exc)}",
                          line=mark.line + 1 if mark else None) from None


def read_objects(root: Path) -> list[KubeObject]:
    """Every Kubernetes-style object in the YAML files under ``root`` (``List`` kinds unpacked)."""
    out: list[KubeObject] = []
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))
    for path in files:
        for n, doc in enumerate(_yaml_docs(path), start=1):
            if doc is None:
                continue
            docs = doc.get("items", []) if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") \
                else [doc]
            for obj in docs:
                out.append(_kube_object(obj, path, n))
    return out


def _kube_object(obj: Any, path: Path, n: int) -> KubeObject:
    where = f"{path} (document {n})"
    if not isinstance(obj, dict):
        raise BundleError(where, "expected a mapping (a Kubernetes object)")
    meta = obj.get("metadata")
    if not isinstance(obj.get("kind"), str):
        raise BundleError(where, "required field is missing", field="kind")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise BundleError(where, "required field is missing", field="metadata.name")
    return KubeObject(kind=obj["kind"], namespace=str(meta.get("namespace") or "default"), name=meta["name"],
                      body=obj, file=str(path))


def read_documents(root: Path) -> list[Document]:
    docs: list[Document] = []
    for path in sorted(root.rglob("*.md")):
        text = _read_text(path)
        meta: dict[str, Any] = {}
        if text.startswith("---\n") and (end := text.find("\n---", 4)) > 0:
            try:
                loaded = yaml.safe_load(text[4:end])
            except yaml.YAMLError:
                loaded = None  # front matter is optional metadata: a broken one is ignored, the body is kept
            if isinstance(loaded, dict):
                meta = loaded
        docs.append(Document(path=path.relative_to(root).as_posix(), text=text, meta=meta))
    return docs


# ---------------------------------------------------------------- the history


def load_history(path: str | Path) -> OpsHistory:
    """Read an ops history directory; missing optional files become gaps."""
    root = Path(path)
    if not root.is_dir():
        raise BundleError(str(root), "not an ops history directory")
    if not (root / "site.yaml").is_file():
        raise BundleError(str(root / "site.yaml"), "missing: every ops history needs one")
    site = read_yaml_model(root / "site.yaml", Site)
    if site.period.end <= site.period.start:
        raise BundleError(str(root / "site.yaml"), "period.end must be after period.start", field="period")
    hist = OpsHistory(path=root, site=site)
    jsonl = {"metrics": parse_metric, "incidents": parse_incident, "alerts": parse_alert,
             "changes": parse_history_change}
    for stem, parse in jsonl.items():
        file = _find(root, stem)
        if file is None:
            hist.gaps.append((stem, f"no {stem}.jsonl"))
            continue
        hist.present.add(stem)
        if stem == "metrics":
            from day2ai.sources.history_parallel import read_metrics

            hist.metrics.extend(read_metrics(file, HISTORY_LIMITS))
        else:
            getattr(hist, stem).extend(_iter_jsonl(file, parse, HISTORY_LIMITS))
    for side in ("desired", "live"):
        d = root / "config" / side
        if d.is_dir():
            hist.present.add(side)
            setattr(hist, side, read_objects(d))
        else:
            hist.gaps.append((f"config/{side}", f"no config/{side}/ directory"))
    if (root / "knowledge").is_dir():
        hist.present.add("knowledge")
        hist.documents = read_documents(root / "knowledge")
    else:
        hist.gaps.append(("knowledge", "no knowledge/ directory (runbooks, postmortems)"))
    return hist


__all__ = ["AlertRecord", "ChangeRecord", "Document", "IncidentRecord", "KubeObject", "OpsHistory", "Series",
           "Site", "load_history"]
