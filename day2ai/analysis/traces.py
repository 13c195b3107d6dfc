"""Trace evidence: the call graph from spans, per-edge and per-service changes, error origins.

:class:`TraceAccumulator` is fed spans one at a time (compactly stored: a few numbers per span).
:meth:`TraceAccumulator.analyze` links children to parents, then compares the incident period with
the baseline: per caller->callee edge (calls, errors, latency), per service (latency of its entry
spans, self time, traffic, errors) and where errors originate (deepest failing span). A client
span whose peer has no spans of its own (a database, a third-party API) becomes an edge to that
peer, so components seen only through their callers are candidates too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from day2ai.analysis.graph import kind_from_system
from day2ai.analysis.periods import Periods, baseline_label, needs_pre
from day2ai.models import ComponentKind

_PEER_KEYS = (
    "peer.service",
    "server.address",
    "net.peer.name",
    "db.name",
    "messaging.destination.name",
    "messaging.destination",
    "rpc.service",
    "http.host",
    "db.system",
)
_URL_KEYS = ("http.url", "url.full")
_STATUS_KEYS = ("http.status_code", "http.response.status_code", "status_code")


def span_error(status: str | None, attributes: Mapping[str, Any]) -> bool | None:
    """Whether a span failed: its status, else HTTP/gRPC codes or error attributes; None if unknown."""
    if status == "error":
        return True
    for key in _STATUS_KEYS:
        code = attributes.get(key)
        if code is not None:
            try:
                return int(code) >= 500
            except (TypeError, ValueError):
                pass
    grpc = attributes.get("rpc.grpc.status_code")
    if grpc is not None:
        try:
            return int(grpc) not in (0, 1, 3, 5, 6)
        except (TypeError, ValueError):
            pass
    flag = attributes.get("error")
    if flag is not None:
        return str(flag).lower() in ("true", "1", "yes")
    if attributes.get("otel.status_code") is not None:
        return str(attributes["otel.status_code"]).upper() == "ERROR"
    if attributes.get("exception.type") or attributes.get("exception.message"):
        return True
    return False if status == "ok" else None


def span_peer(attributes: Mapping[str, Any]) -> str | None:
    """The remote component a client span calls, from the usual OpenTelemetry attributes."""
    for key in _PEER_KEYS:
        v = attributes.get(key)
        if v:
            return str(v)
    for key in _URL_KEYS:
        v = attributes.get(key)
        if v:
            host = urlsplit(str(v)).hostname
            if host:
                return host
    return None


class EdgeStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    caller: str
    callee: str
    baseline_calls: int
    incident_calls: int
    baseline_error_rate: float
    incident_error_rate: float
    baseline_ms: float  # median duration of the callee-side spans
    incident_ms: float
    latency_z: float
    peer_only: bool  # the callee has no spans of its own
    gap_z: float = 0.0  # shift of the caller's own time in the spans that make these calls: time lost
    # around the call (the network, the client library) that the callee's spans do not see

    def describe(self) -> str:
        return (
            f"{self.caller} -> {self.callee}: median {self.baseline_ms:.0f}ms -> {self.incident_ms:.0f}ms"
            f" (z={self.latency_z:.1f}), errors {self.baseline_error_rate:.1%} -> "
            f"{self.incident_error_rate:.1%}, calls {self.baseline_calls} -> {self.incident_calls}"
        )


class TraceServiceProfile(BaseModel):
    service: str
    baseline_spans: int
    incident_spans: int
    latency_z: float  # entry spans' median shift in baseline-spread units
    self_time_z: float  # self-time median shift
    baseline_self_ms: float
    incident_self_ms: float
    baseline_error_rate: float
    incident_error_rate: float
    origin_errors: int  # incident error spans that originate here (no failing child)
    origin_share: float  # share of all incident originating errors
    origin_excess: float  # origin errors beyond the baseline rate, per minute
    onset: float | None
    peer_only: bool = False
    example_error: str | None = None

    def describe(self) -> str:
        parts = [f"{self.service}: spans {self.baseline_spans} -> {self.incident_spans}"]
        if abs(self.latency_z) >= 2:
            parts.append(f"latency z={self.latency_z:.1f}")
        if abs(self.self_time_z) >= 2:
            parts.append(
                f"self time {self.baseline_self_ms:.0f}ms -> {self.incident_self_ms:.0f}ms (z={self.self_time_z:.1f})"
            )
        if self.incident_error_rate > 0:
            parts.append(f"errors {self.baseline_error_rate:.1%} -> {self.incident_error_rate:.1%}")
        if self.origin_errors:
            parts.append(f"{self.origin_errors} errors originate here ({self.origin_share:.0%})")
        return ", ".join(parts)


class TraceAnalysis(BaseModel):
    spans: int
    edges: list[EdgeStats]
    profiles: dict[str, TraceServiceProfile]
    has_status: bool
    has_baseline: bool
    peer_kinds: dict[str, ComponentKind] = Field(default_factory=dict)  # from db.system / messaging.system
    baseline: str = "before the onset"  # which fault-free period was compared (periods.baseline_label)


class TraceAccumulator:
    """Collects spans compactly for :meth:`analyze`."""

    def __init__(self) -> None:
        self._svc: dict[str, int] = {}
        self._names: list[str] = []
        self._peers: dict[str, int] = {}
        self._peer_names: list[str] = []
        self._peer_kinds: dict[str, ComponentKind] = {}
        self._index: dict[tuple[str, str], int] = {}
        self._parent: list[tuple[str, str] | None] = []
        self.service_idx: list[int] = []
        self.start: list[float] = []
        self.duration: list[float] = []
        self.error: list[int] = []  # 1 error, 0 ok, -1 unknown
        self.peer: list[int] = []
        self.error_names: dict[int, str] = {}
        self.statuses = 0
        self.names: list[str] = []  # span (operation) name per span
        self.traces: list[str] = []  # trace id per span

    def __len__(self) -> int:
        return len(self.start)

    def add(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        service: str,
        name: str,
        start: float,
        duration_ms: float,
        status: str | None,
        attributes: Mapping[str, Any],
    ) -> None:
        i = len(self.start)
        s = self._svc.get(service)
        if s is None:
            s = self._svc[service] = len(self._names)
            self._names.append(service)
        self._index[(trace_id, span_id)] = i
        self._parent.append((trace_id, parent_span_id) if parent_span_id else None)
        self.service_idx.append(s)
        self.names.append(name)
        self.traces.append(trace_id)
        self.start.append(start)
        self.duration.append(duration_ms)
        err = span_error(status, attributes) if (status is not None or attributes) else None
        if status is not None:
            self.statuses += 1
        self.error.append(-1 if err is None else int(err))
        p = -1
        peer = span_peer(attributes) if attributes else None
        if peer:
            p = self._peers.get(peer, -1)
            if p < 0:
                p = self._peers[peer] = len(self._peer_names)
                self._peer_names.append(peer)
                system = attributes.get("db.system") or attributes.get("messaging.system")
                kind = kind_from_system(str(system)) if system else None
                if kind is not None:
                    self._peer_kinds[peer] = kind
        self.peer.append(p)
        if err and s not in self.error_names:
            self.error_names[s] = name

    @property
    def services(self) -> list[str]:
        return list(self._names)

    def peers(self) -> list[str]:
        return list(self._peer_names)

    def failed_callers(self, parents: list[int]) -> list[int]:
        """Spans whose call failed (error status): the parent of a failing span of another service,
        or a failing span that called a peer such as a database."""
        out: list[int] = []
        svc, err, peer = self.service_idx, self.error, self.peer
        for i, e in enumerate(err):
            if e != 1:
                continue
            p = parents[i]
            if p >= 0 and svc[p] != svc[i]:
                out.append(p)
            elif peer[i] >= 0:
                out.append(i)
        return out

    def span_index(self, trace_id: str, span_id: str) -> int:
        """Index of a recorded span (-1 when it was not recorded); hex ids match in either case."""
        found = self._index.get((trace_id, span_id), -1)
        return found if found >= 0 else self._index.get((trace_id, span_id.lower()), -1)

    def parent_index(self) -> list[int]:
        """Index of each span's parent span (-1: a root, or a parent that was not recorded)."""
        return [-1 if key is None else self._index.get(key, -1) for key in self._parent]

    def analyze(self, periods: Periods, peer_alias: Mapping[str, str] | None = None) -> TraceAnalysis:
        n = len(self.start)
        alias = dict(peer_alias or {})
        svc = np.asarray(self.service_idx, dtype=np.int64)
        start = np.asarray(self.start, dtype=float)
        dur = np.asarray(self.duration, dtype=float)
        err = np.asarray(self.error, dtype=np.int64) == 1
        parent = np.asarray(self.parent_index(), dtype=np.int64)
        has_parent = parent >= 0
        child_sum = np.zeros(n)
        np.add.at(child_sum, parent[has_parent], dur[has_parent])
        child_err = np.zeros(n, dtype=bool)
        child_err[parent[has_parent & err]] = True
        self_ms = np.maximum(dur - child_sum, 0.0)
        in_base = (start >= periods.baseline_start) & (start < periods.baseline_end)
        in_inc = (start >= periods.incident_start) & (start <= periods.incident_end)
        widened = needs_pre(periods, int(in_base.sum()), int(in_inc.sum()))
        if widened:  # a given baseline sparser than the incident: the time before the onset too
            in_base |= (start >= float(periods.pre_start or 0.0)) & (start < float(periods.pre_end or 0.0))
        parent_svc = np.where(has_parent, svc[np.maximum(parent, 0)], -1)
        cross = has_parent & (parent_svc != svc)
        entry = ~has_parent | cross
        # spans calling a peer with no spans of its own: virtual callee
        names = list(self._names)
        known = {nm.lower(): i for i, nm in enumerate(names)}
        peer_arr = np.asarray(self.peer, dtype=np.int64)
        has_child = np.zeros(n, dtype=bool)
        has_child[parent[has_parent]] = True
        peer_callee = np.full(n, -1, dtype=np.int64)
        virtual: dict[str, int] = {}
        peer_known = np.full(n, -1, dtype=np.int64)
        for i in (int(k) for k in np.flatnonzero((peer_arr >= 0) & ~has_child)):
            target, idx = _resolve_peer(self._peer_names[peer_arr[i]], alias, known)
            if idx is not None and idx != svc[i]:
                peer_known[i] = idx  # the callee has spans: the real child carries the edge
                continue
            if idx is None:
                idx = virtual.get(target)
                if idx is None:
                    idx = virtual[target] = len(names)
                    names.append(target)
            peer_callee[i] = idx
        minutes_b = max(periods.baseline_seconds, 1.0) / 60.0
        if widened:  # per minute that spans were recorded in
            minutes_b = max(1.0, float(len(np.unique(start[in_base] // 60.0))))
        caller_self = np.where(has_parent, self_ms[np.maximum(parent, 0)], 0.0)
        edges = self._edges(
            names, svc, parent_svc, cross, peer_callee, dur, err, in_base, in_inc, set(virtual), caller_self
        )
        # error origins: failing spans without failing children; a failing peer call blames the peer
        origin = err & ~child_err
        # a failing call with no callee span at all to a service that has spans: the callee was
        # unreachable (crashed, refused): the error originates there
        origin_svc = np.where(peer_callee >= 0, peer_callee, np.where(peer_known >= 0, peer_known, svc))
        total_origin = int((origin & in_inc).sum())
        profiles: dict[str, TraceServiceProfile] = {}
        for s, name in enumerate(names):
            is_virtual = s >= len(self._names)
            mine = (peer_callee == s) if is_virtual else (svc == s)
            ent = mine if is_virtual else (mine & entry)
            b_lat, i_lat = dur[ent & in_base], dur[ent & in_inc]
            own_work = mine if is_virtual else (mine & (peer_callee < 0))  # peer calls: the peer's time
            b_self, i_self = self_ms[own_work & in_base], self_ms[own_work & in_inc]
            o_inc = int((origin & in_inc & (origin_svc == s)).sum())
            o_base = int((origin & in_base & (origin_svc == s)).sum())
            inc_err = err[ent & in_inc]
            base_err = err[ent & in_base]
            onset = None
            o_times = np.sort(start[origin & in_inc & (origin_svc == s)])
            if len(o_times) >= 3:
                onset = float(o_times[min(2, len(o_times) - 1)])
            profiles[name] = TraceServiceProfile(
                service=name,
                baseline_spans=int((mine & in_base).sum()),
                incident_spans=int((mine & in_inc).sum()),
                latency_z=_shift_z(b_lat, i_lat),
                self_time_z=_shift_z(b_self, i_self),
                baseline_self_ms=float(np.median(b_self)) if len(b_self) else 0.0,
                incident_self_ms=float(np.median(i_self)) if len(i_self) else 0.0,
                baseline_error_rate=float(base_err.mean()) if len(base_err) else 0.0,
                incident_error_rate=float(inc_err.mean()) if len(inc_err) else 0.0,
                origin_errors=o_inc,
                origin_share=o_inc / total_origin if total_origin else 0.0,
                origin_excess=o_inc / max(periods.incident_seconds / 60.0, 1e-9) - o_base / minutes_b,
                onset=onset,
                peer_only=is_virtual,
                example_error=self.error_names.get(s) if not is_virtual else None,
            )
        peer_kinds: dict[str, ComponentKind] = {}
        for raw, kind in self._peer_kinds.items():
            target, idx = _resolve_peer(raw, alias, known)
            peer_kinds[names[idx] if idx is not None else target] = kind
        return TraceAnalysis(
            spans=n,
            peer_kinds=peer_kinds,
            edges=edges,
            profiles=profiles,
            has_status=bool((np.asarray(self.error) >= 0).any()),
            has_baseline=bool(in_base.any()),
            baseline=baseline_label(periods, widened),
        )

    def _edges(
        self,
        names: list[str],
        svc: np.ndarray,
        parent_svc: np.ndarray,
        cross: np.ndarray,
        peer_callee: np.ndarray,
        dur: np.ndarray,
        err: np.ndarray,
        in_base: np.ndarray,
        in_inc: np.ndarray,
        virtual: set[str],
        caller_self: np.ndarray,
    ) -> list[EdgeStats]:
        caller = np.concatenate([parent_svc[cross], svc[peer_callee >= 0]])
        callee = np.concatenate([svc[cross], peer_callee[peer_callee >= 0]])
        e_dur = np.concatenate([dur[cross], dur[peer_callee >= 0]])
        e_err = np.concatenate([err[cross], err[peer_callee >= 0]])
        e_base = np.concatenate([in_base[cross], in_base[peer_callee >= 0]])
        e_inc = np.concatenate([in_inc[cross], in_inc[peer_callee >= 0]])
        e_gap = np.concatenate([caller_self[cross], np.full(int((peer_callee >= 0).sum()), np.nan)])
        if len(caller) == 0:
            return []
        width = len(names) + 1
        code = caller * width + callee
        out: list[EdgeStats] = []
        for c in np.unique(code):
            m = code == c
            a, b = divmod(int(c), width)
            bd, idur = e_dur[m & e_base], e_dur[m & e_inc]
            bg, ig = e_gap[m & e_base], e_gap[m & e_inc]
            bg, ig = bg[np.isfinite(bg)], ig[np.isfinite(ig)]
            out.append(
                EdgeStats(
                    caller=names[a],
                    callee=names[b],
                    baseline_calls=len(bd),
                    incident_calls=len(idur),
                    baseline_error_rate=float(e_err[m & e_base].mean()) if len(bd) else 0.0,
                    incident_error_rate=float(e_err[m & e_inc].mean()) if len(idur) else 0.0,
                    baseline_ms=float(np.median(bd)) if len(bd) else 0.0,
                    incident_ms=float(np.median(idur)) if len(idur) else 0.0,
                    latency_z=_shift_z(bd, idur),
                    peer_only=names[b] in virtual,
                    gap_z=_shift_z(bg, ig),
                )
            )
        return out


def _resolve_peer(raw: str, alias: Mapping[str, str], known: Mapping[str, int]) -> tuple[str, int | None]:
    """A span's peer attribute -> (the name it stands for, the index of that service if it has spans);
    ``orders.prod.svc`` matches a service ``orders``."""
    target = alias.get(raw) or raw
    idx = known.get(target.lower())
    if idx is None:
        idx = known.get(target.lower().split(".", 1)[0])
    return target, idx


def _shift_z(base: np.ndarray, inc: np.ndarray) -> float:
    """Shift of the incident median (and p90) against the baseline spread, in robust-z units."""
    if len(base) < 3 or len(inc) < 3:
        return 0.0
    bm = float(np.median(base))
    q1, q3 = np.percentile(base, [25, 75])
    scale = max(float(q3 - q1) / 1.349, 0.05 * abs(bm), 1e-3)
    z50 = (float(np.median(inc)) - bm) / scale
    z90 = (float(np.percentile(inc, 90)) - float(np.percentile(base, 90))) / (2.0 * scale)
    z = z50 if abs(z50) >= abs(z90) else z90
    return float(max(-1000.0, min(1000.0, z))) if math.isfinite(z) else 0.0
