"""Live Kubernetes objects for the drift check, read from the API server (GET list calls only).

``day2ai scan --config site.yaml --desired ./manifests`` compares the declared objects with the
cluster: for every kind declared in the Git checkout that the drift check knows (workloads,
Services, ConfigMaps, RBAC, NetworkPolicy...), one paged list call per namespace of the site
configuration's ``kubernetes`` backend (the entry under ``changes:``; same client, auth, TLS and
retries as for rollouts). Secrets are never read.

A list response's items carry no ``kind``/``apiVersion`` (``kubectl`` adds them); they are set
from the endpoint so that they compare with the manifests. Only declared objects whose kind and
namespace were listed are compared: the others (namespace not in the configuration, kind not
supported, list call failed) are named in a gap, never reported as missing from the cluster.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from day2ai.errors import Day2AIError, SourceUnavailable
from day2ai.sources.history import KubeObject
from day2ai.sources.kubernetes import KubernetesSource


@dataclass(frozen=True)
class ObjectKind:
    """One listable kind: ``api`` is ``v1`` (core) or ``group/version``."""

    kind: str
    api: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str) -> str:
        root = "/api/v1" if self.api == "v1" else f"/apis/{self.api}"
        return f"{root}/namespaces/{namespace}/{self.plural}" if self.namespaced else f"{root}/{self.plural}"


LIVE_KINDS: dict[str, ObjectKind] = {k.kind: k for k in (
    ObjectKind("Deployment", "apps/v1", "deployments"),
    ObjectKind("StatefulSet", "apps/v1", "statefulsets"),
    ObjectKind("DaemonSet", "apps/v1", "daemonsets"),
    ObjectKind("Service", "v1", "services"),
    ObjectKind("ConfigMap", "v1", "configmaps"),
    ObjectKind("ServiceAccount", "v1", "serviceaccounts"),
    ObjectKind("Role", "rbac.authorization.k8s.io/v1", "roles"),
    ObjectKind("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings"),
    ObjectKind("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    ObjectKind("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False),
    ObjectKind("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies"),
    ObjectKind("Ingress", "networking.k8s.io/v1", "ingresses"),
    ObjectKind("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers"),
    ObjectKind("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets"),
    ObjectKind("CronJob", "batch/v1", "cronjobs"),
)}
CLUSTER = "*"  # the namespace of a covered cluster-scoped kind


@dataclass
class LiveObjects:
    """What the API returned: the objects, which (kind, namespace) were listed, and the gaps."""

    objects: list[KubeObject] = field(default_factory=list)
    covered: set[tuple[str, str]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def compared(self, desired: list[KubeObject]) -> list[KubeObject]:
        return [o for o in desired if self.is_covered(o)]

    def is_covered(self, obj: KubeObject) -> bool:
        return (obj.kind, obj.namespace) in self.covered or (obj.kind, CLUSTER) in self.covered


def _object(item: dict[str, Any], spec: ObjectKind, path: str) -> KubeObject | None:
    meta = item.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    body = {"apiVersion": spec.api, "kind": spec.kind, **item}
    return KubeObject(kind=spec.kind, namespace=str(meta.get("namespace") or "default"), name=meta["name"],
                      body=body, file=f"kubernetes:{path}")


def _forbidden(exc: Day2AIError) -> bool:
    return "HTTP 403" in str(exc)


async def read_live_objects(source: KubernetesSource, desired: list[KubeObject]) -> LiveObjects:
    """List the declared kinds in the configured namespaces; failures are kept, not raised.

    A 403 (RBAC forbids one kind) or a 404 (an API group not served) skips that list only; an
    unreachable or failing API server stops the reading and leaves the rest unlisted.
    """
    out = LiveObjects()
    kinds = [LIVE_KINDS[k] for k in sorted({o.kind for o in desired}) if k in LIVE_KINDS]
    calls = [(spec, ns) for spec in kinds for ns in (source.namespaces if spec.namespaced else [CLUSTER])]
    for i, (spec, ns) in enumerate(calls):
        path = spec.path(ns)
        try:
            items = await source.list_all(path)
        except Day2AIError as exc:
            out.failures.append(f"{spec.kind} ({'cluster' if ns == CLUSTER else 'namespace ' + ns}): "
                                f"{str(exc)[:300]}")
            if isinstance(exc, SourceUnavailable) and not _forbidden(exc):
                left = len(calls) - i - 1
                if left:
                    out.failures.append(f"{left} more list call(s) not made after that failure")
                return out
            continue
        out.covered.add((spec.kind, ns))
        out.objects.extend(o for item in items if (o := _object(item, spec, path)) is not None)
    return out


def uncovered_reason(desired: list[KubeObject], live: LiveObjects, namespaces: list[str]) -> str | None:
    """One line naming the declared objects that could not be compared, grouped by why."""
    why: Counter[str] = Counter()
    for obj in desired:
        if live.is_covered(obj):
            continue
        spec = LIVE_KINDS.get(obj.kind)
        if spec is None:
            why[f"kind {obj.kind} not read from the API"] += 1
        elif spec.namespaced and obj.namespace not in namespaces:
            why[f"namespace {obj.namespace} not in the kubernetes configuration"] += 1
        else:
            why[f"{obj.kind} not listed (API failure)"] += 1
    if not why:
        return None
    parts = "; ".join(f"{n} x {reason}" for reason, n in sorted(why.items()))
    return f"{sum(why.values())} declared object(s) not compared with the cluster: {parts}"
