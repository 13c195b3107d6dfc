"""An ops history read from live backends (``day2ai scan --config site.yaml --since 30d``).

Everything goes through the existing source Protocols of :mod:`day2ai.sources.base`, built from a site
configuration (:mod:`day2ai.sources.config`):

- metrics: one ``series`` query over ``[now - since, now]``; Prometheus picks a coarse step for the
  span (its ``max_points``). Name the history metrics (``disk_used_bytes``, ``client_latency_p99_seconds``,
  ...) in the config's ``queries`` to get them.
- alerts: the ``ALERTS`` series, when the config's ``queries`` define ``ALERTS`` (for example
  ``ALERTS: 'ALERTS{alertstate="firing"}'``): each run of consecutive firing points is one firing
  (Prometheus knows nothing of acknowledgements, so none is).
- changes: the configured change backends (Kubernetes rollouts, Argo CD, GitHub deploys).
- services: the ops site file if given (its period is replaced), else the config's topology, else
  the services seen in the metrics.
- declared objects from a Git checkout directory; live objects from the Kubernetes API through the
  config's ``kubernetes`` backend (GET list calls of the declared kinds in its namespaces, see
  :mod:`day2ai.sources.history_kube`), or from a directory of ``kubectl get -o yaml`` dumps when
  one is given; incidents from a JSONL export or a PagerDuty/Opsgenie CSV export
  (:mod:`day2ai.sources.history_csv`), runbooks from a knowledge directory.

What is not given becomes a gap of the scan, never an error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from day2ai.errors import Day2AIError, InputError
from day2ai.sources.base import ChangeQuery, MetricQuery, MetricSeries, Sources
from day2ai.sources.bundle import _iter_jsonl, read_yaml_model
from day2ai.sources.history import (
    _ALIASES,
    HISTORY_LIMITS,
    AlertRecord,
    ChangeRecord,
    KubeObject,
    OpsHistory,
    Period,
    Series,
    ServiceSpec,
    Site,
    parse_incident,
    read_documents,
    read_objects,
)

if TYPE_CHECKING:
    from day2ai.sources.config import SiteConfig


def alert_firings(series: list[MetricSeries], gap_factor: float = 1.5) -> list[AlertRecord]:
    """``ALERTS`` series -> one firing per run of points closer than ``gap_factor`` steps apart."""
    out: list[AlertRecord] = []
    for s in series:
        t = np.asarray(s.timestamps, dtype=np.float64)
        v = np.asarray(s.values, dtype=np.float64)
        t = t[np.isfinite(v) & (v > 0)]
        if t.size == 0:
            continue
        step = float(np.median(np.diff(t))) if t.size > 1 else 60.0
        cuts = np.flatnonzero(np.diff(t) > gap_factor * step) + 1
        severity = s.labels.get("severity", "ticket").lower()
        severity = _ALIASES.get(severity, severity)
        if severity not in ("page", "ticket", "info"):
            severity = "ticket"
        for run in np.split(t, cuts):
            out.append(AlertRecord(alert=s.labels.get("alertname", "ALERTS"), service=s.service, severity=severity,
                                   fired_at=float(run[0]), resolved_at=float(run[-1]) + step))
    return sorted(out, key=lambda a: a.fired_at)


def _series(s: MetricSeries) -> Series:
    return Series(s.name, s.service, dict(s.labels), np.asarray(s.timestamps, dtype=np.float64),
                  np.asarray(s.values, dtype=np.float64))


async def _metrics(sources: Sources, h: OpsHistory, start: float, end: float) -> None:
    if sources.metrics is None:
        h.gaps.append(("metrics", "no metrics backend in the site configuration"))
        return
    alerts: list[MetricSeries] = []
    try:
        async for s in sources.metrics.series(MetricQuery(start=start, end=end)):
            if s.name == "ALERTS":
                alerts.append(s)
            else:
                h.metrics.append(_series(s))
    except Day2AIError as exc:  # partial result: what arrived is kept, the failure is named
        h.gaps.append(("metrics", str(exc)[:300]))
    h.present.add("metrics")
    if alerts:
        h.alerts.extend(alert_firings(alerts))
        h.present.add("alerts")
    else:
        h.gaps.append(("alerts", "no ALERTS series (add ALERTS to the metrics queries of the site configuration)"))


async def _changes(sources: Sources, h: OpsHistory, start: float, end: float) -> None:
    if sources.changes is None:
        h.gaps.append(("changes", "no change backend in the site configuration"))
        return
    try:
        async for ch in sources.changes.changes(ChangeQuery(start=start, end=end)):
            h.changes.append(ChangeRecord(timestamp=ch.timestamp, service=ch.service, kind=str(ch.kind.value),
                                          summary=ch.summary, version=ch.version))
    except Day2AIError as exc:
        h.gaps.append(("changes", str(exc)[:300]))
    h.present.add("changes")


def _site(name: str, start: float, end: float, ops_site: Path | None, topology_services: list[str],
          seen: set[str]) -> Site:
    period = Period(start=start, end=end)
    if ops_site is not None:
        return read_yaml_model(ops_site, Site).model_copy(update={"period": period})
    names = topology_services or sorted(seen)
    return Site(name=name, period=period, services=[ServiceSpec(name=n) for n in names])


async def load_live_history(
    config: str | Path, since: str | float, *, ops_site: Path | None = None, desired_dir: Path | None = None,
    live_dir: Path | None = None, incidents_file: Path | None = None, knowledge_dir: Path | None = None,
    now: float | None = None, transport: object | None = None,
) -> OpsHistory:
    """Read ``[now - since, now]`` from the configured backends and local exports into an OpsHistory."""
    from day2ai.sources.config import close_sources, load_site_config, parse_duration

    cfg = load_site_config(config)
    end = time.time() if now is None else float(now)
    start = end - parse_duration(since)
    sources = cfg.build_sources(transport)  # type: ignore[arg-type]
    placeholder = Site(name=cfg.site, period=Period(start=start, end=end))
    h = OpsHistory(path=Path(config).parent, site=placeholder)
    h.desired = _objects(h, "config/desired", desired_dir, "no desired objects (pass a Git checkout directory)")
    try:
        await _metrics(sources, h, start, end)
        await _changes(sources, h, start, end)
        topo = await sources.topology.topology() if sources.topology is not None else None
    finally:
        await close_sources(sources)
    topo_names = [c.name for c in topo.services] if topo is not None else []
    h.site = _site(cfg.site, start, end, ops_site, topo_names, {s.service for s in h.metrics})
    if live_dir is not None:
        h.live = _objects(h, "config/live", live_dir, "")
    else:
        await _live_from_api(cfg, h, transport)
    _local(h, incidents_file, knowledge_dir)
    return h


def _objects(h: OpsHistory, label: str, path: Path | None, missing: str) -> list[KubeObject] | None:
    if path is None:
        h.gaps.append((label, missing))
        return None
    if not path.is_dir():
        raise InputError(f"{path}: not a directory")
    h.present.add(label.split("/")[1])
    return read_objects(path)


async def _live_from_api(cfg: SiteConfig, h: OpsHistory, transport: object | None) -> None:
    """Live objects from the Kubernetes API; declared objects that cannot be compared leave a gap."""
    from day2ai.sources.config import KubernetesConfig, _build
    from day2ai.sources.history_kube import read_live_objects, uncovered_reason

    kube = next((c for c in cfg.changes if isinstance(c, KubernetesConfig)), None)
    if kube is None:
        h.gaps.append(("config/live", "no live objects (add a kubernetes backend to the site configuration, "
                                      "or pass a kubectl dump directory with --live)"))
        return
    if h.desired is None:
        h.gaps.append(("config/live", "not read from kubernetes: no declared objects to compare (pass --desired)"))
        return
    source = _build(kube, transport, cfg.base_dir)  # type: ignore[arg-type]
    try:
        live = await read_live_objects(source, h.desired)
    finally:
        await source.client.aclose()
    h.gaps.extend(("config/live", f"kubernetes: {f}") for f in live.failures)
    if reason := uncovered_reason(h.desired, live, kube.namespaces):
        h.gaps.append(("config/live", reason))
    if not live.covered:
        h.live = None  # nothing listed: drift is not checked at all (never an "all clear")
        return
    h.desired = live.compared(h.desired)
    h.live = live.objects
    h.present.add("live")


def _local(h: OpsHistory, incidents_file: Path | None, knowledge_dir: Path | None) -> None:
    if incidents_file is None:
        h.gaps.append(("incidents", "no incidents export (pass a JSONL file or a PagerDuty/Opsgenie CSV)"))
    elif incidents_file.suffix.lower() == ".csv":
        from day2ai.sources.history_csv import read_incidents_csv

        h.incidents.extend(read_incidents_csv(incidents_file))
        h.present.add("incidents")
    else:
        h.incidents.extend(_iter_jsonl(incidents_file, parse_incident, HISTORY_LIMITS))
        h.present.add("incidents")
    if knowledge_dir is None:
        h.gaps.append(("knowledge", "no knowledge directory (runbooks, postmortems)"))
    else:
        h.documents = read_documents(knowledge_dir)
        h.present.add("knowledge")
