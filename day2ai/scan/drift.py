"""Configuration drift as a semantic diff of declared (Git) and live (cluster) objects (pure).

Objects are matched by kind, namespace and name. What the cluster adds on its own is not drift:
``status``, server-set metadata (uid, resourceVersion, generation, timestamps, managedFields,
controller annotations and labels) and **defaulted values**: a field present only in the live
object is taken as defaulted by the API server (``imagePullPolicy``, ``terminationGracePeriod``...)
unless it weakens security (below). A declared field that differs or is gone in the live object is
drift. Values compare semantically: Kubernetes quantities (``500m`` = ``0.5``, ``1Gi`` =
``1024Mi``), numbers written as strings, lists of named items matched by ``name``.

A drift is ``security: true`` when the live side is weaker: privileged containers, privilege
escalation allowed, ``runAsNonRoot`` false or gone, root user, added capabilities, host
namespaces or host paths, removed resource limits, a read-only root filesystem turned off, an
image moved to ``latest`` or unpinned, a Service exposed as NodePort/LoadBalancer, or any change to
RBAC or network policy objects (the CIS Kubernetes Benchmark / Pod Security Standards "restricted"
checks).
"""

from __future__ import annotations

import re
from typing import Any

from day2ai.models import Remediation
from day2ai.scan.models import Finding, FindingEvidence, Severity
from day2ai.sources.history import KubeObject, Site

_SERVER_METADATA = frozenset({"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                              "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences",
                              "finalizers"})
_CLUSTER_PREFIXES = ("kubectl.kubernetes.io/", "deployment.kubernetes.io/", "control-plane.alpha.kubernetes.io/",
                     "autoscaling.alpha.kubernetes.io/", "argocd.argoproj.io/", "meta.helm.sh/")
_CLUSTER_LABELS = frozenset({"pod-template-hash", "controller-revision-hash"})
_SECURITY_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "NetworkPolicy",
                             "PodSecurityPolicy", "ServiceAccount"})
# fields the API server fills in on security kinds (any other live-only field there is drift)
_SERVER_DEFAULTED: dict[str, tuple[str, ...]] = {"NetworkPolicy": ("spec.policyTypes",),
                                                 "ServiceAccount": ("secrets",)}
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?)([a-zA-Z]{0,2})$")
_SUFFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
           "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}

Leaves = dict[str, Any]


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(body.get("metadata") or {})
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    for sub, drop in (("annotations", lambda k: k.startswith(_CLUSTER_PREFIXES)),
                      ("labels", lambda k: k in _CLUSTER_LABELS)):
        if isinstance(meta.get(sub), dict):
            kept = {k: v for k, v in meta[sub].items() if not drop(k)}
            if kept:
                meta[sub] = kept
            else:
                meta.pop(sub)  # only cluster-added entries: not an (empty) field of its own
    body["metadata"] = meta
    return body


def normalize(value: Any) -> Any:
    """A scalar in a comparable form: quantities and numeric strings as floats."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _QUANTITY.match(value.strip())
        if m and m.group(2) in _SUFFIX:
            return float(m.group(1)) * _SUFFIX[m.group(2)]
    return value


def leaves(value: Any, prefix: str = "") -> Leaves:
    """Flatten to ``path -> scalar``; lists of mappings with a ``name`` are keyed by it."""
    out: Leaves = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for k, v in value.items():
            out.update(leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        if not value and prefix:
            out[prefix] = []
        named = all(isinstance(x, dict) and "name" in x for x in value)
        for i, v in enumerate(value):
            out.update(leaves(v, f"{prefix}[{v['name'] if named else i}]"))
    else:
        out[prefix] = normalize(value)
    return out


def _image_weaker(before: Any, after: Any) -> bool:
    if not isinstance(after, str):
        return False
    tag = after.rsplit("/", 1)[-1]
    unpinned = ":" not in tag or tag.endswith(":latest")
    return unpinned and "@sha256:" not in after and before != after


def security_weakening(path: str, before: Any, after: Any, kind: str) -> bool:
    """Whether changing ``path`` from ``before`` (declared) to ``after`` (live; None = absent) weakens security."""
    last = path.rsplit(".", 1)[-1]
    checks = (
        kind in _SECURITY_KINDS,
        last in ("privileged", "allowPrivilegeEscalation", "hostNetwork", "hostPID", "hostIPC",
                 "automountServiceAccountToken") and after is True,
        last in ("runAsNonRoot", "readOnlyRootFilesystem") and before is True and after is not True,
        last == "runAsUser" and after == 0.0,
        ".capabilities.add" in path and after is not None,
        ".capabilities.drop" in path and before is not None and after is None,
        ".hostPath" in path and after is not None,
        ".resources.limits" in path and before is not None and after is None,
        last == "image" and _image_weaker(before, after),
        kind == "Service" and last == "type" and after in ("NodePort", "LoadBalancer"),
    )
    return any(checks)


def diff_objects(desired: dict[str, Any], live: dict[str, Any], kind: str) -> list[tuple[str, bool]]:
    """The drifted field paths with whether each weakens security."""
    want, have = leaves(_clean(desired)), leaves(_clean(live))
    out: list[tuple[str, bool]] = []
    for path, value in want.items():
        if value == {} or value == []:
            continue  # an empty declared block ({} or []) is filled with defaults by the server
        got = have.get(path)
        if got != value:
            out.append((path, security_weakening(path, value, got, kind)))
    defaulted = _SERVER_DEFAULTED.get(kind, ())
    for path, got in have.items():
        if path in want or path.startswith(defaulted):
            continue
        if security_weakening(path, None, got, kind):
            out.append((path, True))
    return out


def _service(obj: KubeObject, names: set[str]) -> str:
    labels = (obj.body.get("metadata") or {}).get("labels") or {}
    for cand in (labels.get("app.kubernetes.io/name"), labels.get("app"), obj.name):
        if isinstance(cand, str) and cand in names:
            return cand
    # "checkout-config", "checkout-pdb": the longest service name the object's name starts with
    owners = [n for n in names if obj.name.startswith(n + "-")]
    return max(owners, key=len) if owners else obj.name


def drift_findings(desired: list[KubeObject], live: list[KubeObject], site: Site) -> list[Finding]:
    live_by_key = {o.key: o for o in live}
    names = {s.name for s in site.services}
    tiers = {s.name: s.tier for s in site.services}
    out: list[Finding] = []
    for obj in desired:
        service = _service(obj, names)
        target = f"{obj.kind}/{obj.namespace}/{obj.name}"
        current = live_by_key.get(obj.key)
        if current is None:
            drifted = [("(object missing from the cluster)", False)]
        else:
            drifted = diff_objects(obj.body, current.body, obj.kind)
        if not drifted:
            continue
        fields = [p for p, _ in drifted]
        weak = [p for p, sec in drifted if sec]
        severity: Severity = "high" if weak else "medium" if tiers.get(service, 3) <= 1 else "low"
        shown = ", ".join(fields[:5]) + (f" (+{len(fields) - 5} more)" if len(fields) > 5 else "")
        out.append(Finding(
            kind="config_drift", service=service, severity=severity,
            summary=f"{target} differs from Git in {len(fields)} field(s)"
                    + (f", weakening security ({', '.join(weak[:3])})" if weak else ""),
            evidence=[FindingEvidence(source="config", summary=f"live vs declared ({obj.file}): {shown}")],
            recommendation=("Reconcile the live object with Git (or commit the change if it was intended); "
                            + ("treat the security-weakening fields as an incident." if weak else "")).strip(),
            object=target, fields=fields, security=bool(weak),
            remediation=Remediation(action=f"reconcile {target} to its declared state",
                                    rationale="live object drifted from Git", risk="medium"),
            score=float(len(weak) * 10 + len(fields))))
    return out
