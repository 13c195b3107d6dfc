"""Observability gaps and stale runbooks (pure).

Observability gaps, per service of site.yaml, one finding listing what is missing:
- ``metrics``: declared telemetry without metrics, or metrics.jsonl has no series for it;
- ``logs`` / ``traces``: declared telemetry without them (undeclared telemetry is not guessed);
- ``alerts``: no alert rule declared and none fired (judged only when the site declares alert
  rules for some service or alerts.jsonl exists);
- ``runbook``: none declared and no ``knowledge/runbooks/<service>.md``, or the declared file is
  absent (judged when the site declares runbooks for some service or knowledge/ exists);
and any dependency that other services are seen calling (``client_*{peer}`` series; peers written as
host names or URLs are external and skipped) but that is not in site.yaml and emits nothing.

Stale runbooks: a runbook names a service that is not in site.yaml (``kubectl`` targets such as
``deploy/NAME`` or ``-l app=NAME``, and names seen in the history but since retired), a metric not
in metrics.jsonl (snake_case names with a Prometheus unit suffix, anywhere in the text), or it was last
updated (front matter ``updated``/``last_reviewed``) before an ``infra`` change to its service.
"""

from __future__ import annotations

import re
from collections import defaultdict

from day2ai.scan.models import Finding, FindingEvidence, Severity
from day2ai.sources.history import Document, OpsHistory, ServiceSpec, when

_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_KUBECTL_TARGET = re.compile(r"\b(?:deploy|deployment|deployments|svc|service|statefulset|sts|daemonset|ds)/"
                             r"([a-z0-9][a-z0-9-]*)")
_APP_SELECTOR = re.compile(r"\bapp(?:\.kubernetes\.io/name)?=([a-z0-9][a-z0-9-]*)")
_METRIC = re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+_(?:total|seconds|bytes|ratio|cores|count|sum|bucket|"
                     r"max|used|limit|in_use|depth|percent|errors|requests))\b")
# exporters' own metrics are not the site's services' metrics
_FOREIGN_PREFIXES = ("node_", "kube_", "container_", "process_", "go_", "prometheus_", "apiserver_", "kubelet_",
                     "coredns_", "etcd_", "grpc_", "http_server_", "up")


def _tier_severity(spec: ServiceSpec) -> Severity:
    return "high" if spec.tier <= 1 else "medium" if spec.tier == 2 else "low"


def observability_gaps(h: OpsHistory) -> list[Finding]:
    site = h.site
    emitting = {s.service for s in h.metrics}
    fired = {a.service for a in h.alerts}
    runbook_files = {d.path for d in h.documents or []}
    judge_alerts = "alerts" in h.present or any(s.alerts for s in site.services)
    judge_runbooks = h.documents is not None or any(s.runbook for s in site.services)
    out = []
    for spec in site.services:
        missing: list[str] = []
        declared = set(spec.telemetry) if spec.telemetry is not None else None
        no_series = "metrics" in h.present and spec.name not in emitting
        if (declared is not None and "metrics" not in declared) or no_series:
            missing.append("metrics")
        missing += [k for k in ("logs", "traces") if declared is not None and k not in declared]
        if judge_alerts and not spec.alerts and spec.name not in fired:
            missing.append("alerts")
        default_runbook = f"runbooks/{spec.name}.md"
        if judge_runbooks and (
                (spec.runbook is None and default_runbook not in runbook_files)
                or (spec.runbook is not None and h.documents is not None and spec.runbook not in runbook_files)):
            missing.append("runbook")
        if not missing:
            continue
        severity: Severity = "low" if missing == ["runbook"] else _tier_severity(spec)
        out.append(Finding(
            kind="observability_gap", service=spec.name, severity=severity,
            summary=f"{spec.name} (tier {spec.tier}) has no {', '.join(missing)}",
            evidence=[FindingEvidence(source="site", summary=f"site.yaml and the history show no {m} for "
                                                             f"{spec.name}") for m in missing],
            recommendation=f"Add the missing {', '.join(missing)} for {spec.name}"
                           + (" before its next incident." if spec.tier <= 1 else "."),
            missing=missing, score=float(len(missing)) + (3 - min(spec.tier, 3))))
    out += _silent_dependencies(h, emitting)
    return out


def _silent_dependencies(h: OpsHistory, emitting: set[str]) -> list[Finding]:
    known = {s.name for s in h.site.services}
    # calls seen in traffic (client_* series by peer); host names and URLs are external services
    peers = {s.labels["peer"] for s in h.metrics if "peer" in s.labels}
    called = {p for p in peers if not any(c in p for c in ".:/")}
    out = []
    for name in sorted(called - known - emitting):
        out.append(Finding(
            kind="observability_gap", service=name, severity="medium",
            summary=f"{name} receives traffic but is not in site.yaml and emits no telemetry",
            evidence=[FindingEvidence(source="metrics", summary=f"other services call {name} (client_* peer "
                                                                f"label) but no series has service={name}")],
            recommendation=f"Instrument {name} (metrics, logs, traces) and add it to site.yaml with an owner.",
            missing=["metrics", "logs", "traces"], score=3.0))
    return out


def _runbook_owner(doc: Document, by_runbook: dict[str, str], names: set[str]) -> str:
    svc = doc.meta.get("service")
    if isinstance(svc, str):
        return svc
    if doc.path in by_runbook:
        return by_runbook[doc.path]
    stem = doc.path.rsplit("/", 1)[-1].removesuffix(".md")
    return next((n for n in names if stem == n or stem.startswith(n + "-")), stem)


def stale_runbooks(h: OpsHistory) -> list[Finding]:
    if h.documents is None:
        return []
    names = {s.name for s in h.site.services}
    by_runbook = {s.runbook: s.name for s in h.site.services if s.runbook}
    seen = {x.service for x in h.incidents} | {x.service for x in h.alerts} | {x.service for x in h.changes}
    retired = seen - names
    metric_names = {s.name for s in h.metrics}
    infra: dict[str, list[float]] = defaultdict(list)
    for ch in h.changes:
        if ch.kind == "infra":
            infra[ch.service].append(ch.timestamp)
    out = []
    for doc in h.documents:
        if not (doc.path.startswith("runbooks/") or doc.meta.get("kind") == "runbook"):
            continue
        owner = _runbook_owner(doc, by_runbook, names)
        problems = _runbook_problems(doc, names, retired, metric_names if "metrics" in h.present else None)
        updated = doc.meta.get("updated") or doc.meta.get("last_reviewed")
        if updated is not None:
            try:
                reviewed: float | None = when(updated)
            except ValueError:
                reviewed = None
            later = [t for t in infra.get(owner, []) if reviewed is not None and t > reviewed]
            if later:
                problems.append(f"last updated before {len(later)} infrastructure change(s) to {owner}")
        if not problems:
            continue
        out.append(Finding(
            kind="stale_runbook", service=owner, severity="medium",
            summary=f"runbook {doc.path} is stale: " + "; ".join(problems[:3]),
            evidence=[FindingEvidence(source="knowledge", summary=p) for p in problems[:6]],
            recommendation=f"Review {doc.path} against the current services and metrics, and date it.",
            runbook=doc.path, score=float(len(problems))))
    return out


def _runbook_problems(doc: Document, names: set[str], retired: set[str], metrics: set[str] | None) -> list[str]:
    code = " ".join(m.group(0) for m in _CODE.finditer(doc.text))
    problems = []
    targets = set(_KUBECTL_TARGET.findall(code)) | set(_APP_SELECTOR.findall(code))
    # metric names carry a unit suffix and underscores: prose does not look like that, so the whole
    # text is searched (kubectl targets only in code, where "deploy/x" is a command, not a sentence)
    for name in sorted(targets - names):
        problems.append(f"names service {name!r}, which is not in site.yaml")
    for name in sorted(retired - targets):
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", doc.text):
            problems.append(f"names service {name!r}, which no longer exists")
    if metrics:
        for metric in sorted(set(_METRIC.findall(doc.text))):
            base = re.sub(r"_(bucket|count|sum)$", "", metric)
            if metric not in metrics and base not in metrics and not metric.startswith(_FOREIGN_PREFIXES):
                problems.append(f"queries metric {metric!r}, which no service exports")
    return problems
