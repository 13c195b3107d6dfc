"""Changes from the Kubernetes API server: Deployment rollouts (ReplicaSet history) and Events.

Talks to the API server with httpx (bearer token + cluster CA, as a service account would). A
Deployment's rollout history is its ReplicaSets, each carrying the
``deployment.kubernetes.io/revision`` annotation; each revision whose ReplicaSet was created
in the asked range is a ``deploy`` change (version = the container images, previous version =
the revision before). Events ``ScalingReplicaSet`` and ``SuccessfulRescale`` (HPA) are ``scale``
changes. Lists are paged with ``limit``/``continue``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from day2ai.models import ChangeKind
from day2ai.sources.base import Change, ChangeQuery
from day2ai.sources.http import HttpClient, expect
from day2ai.timeutil import parse_timestamp

REVISION = "deployment.kubernetes.io/revision"
SCALE_REASONS = {"ScalingReplicaSet", "SuccessfulRescale"}


def _ts(value: Any) -> float | None:
    try:
        return parse_timestamp(value) if value else None
    except ValueError:
        return None


def images(pod_template: dict[str, Any]) -> str:
    containers = ((pod_template.get("spec") or {}).get("containers")) or []
    return ",".join(str(c.get("image", "?")) for c in containers if isinstance(c, dict))


def short_image(image_list: str) -> str:
    """``registry/app:v1.2`` -> ``v1.2`` for a single container; the full list otherwise."""
    if "," in image_list or ":" not in image_list.rsplit("/", 1)[-1]:
        return image_list
    return image_list.rsplit(":", 1)[1]


class KubernetesSource:
    """ChangesSource over ``apps/v1`` ReplicaSets and ``v1`` Events of some namespaces."""

    name = "kubernetes"

    def __init__(self, client: HttpClient, *, namespaces: Sequence[str] = ("default",),
                 service_label: str = "app.kubernetes.io/name", page_size: int = 500):
        self.client = client
        self.namespaces = list(namespaces)
        self.service_label = service_label
        self.page_size = page_size

    async def list_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following ``metadata.continue``."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        for _page in range(self.client.settings.max_pages):
            q = {**(params or {}), "limit": self.page_size}
            if token:
                q["continue"] = token
            body = await self.client.get_json(path, q)
            expect(self.client, isinstance(body, dict) and isinstance(body.get("items"), list), path,
                   "expected a list object with 'items'")
            if body.get("kind") == "Status":
                raise self.client.error(f"{path}: {body.get('message')}")
            items.extend(i for i in body["items"] if isinstance(i, dict))
            token = (body.get("metadata") or {}).get("continue") or None
            if not token:
                return items
        raise self.client.page_limit(path)

    def _service(self, meta: dict[str, Any], fallback: str) -> str:
        labels = meta.get("labels") or {}
        return str(labels.get(self.service_label) or fallback)

    async def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        found: list[Change] = []
        for ns in self.namespaces:
            found.extend(await self._rollouts(ns))
            found.extend(await self._events(ns))
        found.sort(key=lambda c: c.timestamp)
        for ch in found:
            if not query.contains(ch.timestamp):
                continue
            if query.services is not None and ch.service not in query.services:
                continue
            if query.kinds is not None and ch.kind not in query.kinds:
                continue
            yield ch

    async def _rollouts(self, ns: str) -> list[Change]:
        rsets = await self.list_all(f"/apis/apps/v1/namespaces/{ns}/replicasets")
        by_deploy: dict[str, list[tuple[int, float, str, str]]] = {}
        for rs in rsets:
            meta = rs.get("metadata") or {}
            owner = next((o.get("name") for o in meta.get("ownerReferences") or []
                          if isinstance(o, dict) and o.get("kind") == "Deployment"), None)
            rev = (meta.get("annotations") or {}).get(REVISION)
            created = _ts(meta.get("creationTimestamp"))
            if owner is None or rev is None or created is None or not str(rev).isdigit():
                continue
            image = images((rs.get("spec") or {}).get("template") or {})
            by_deploy.setdefault(str(owner), []).append(
                (int(rev), created, image, self._service(meta, str(owner))))
        changes: list[Change] = []
        for deploy, revs in by_deploy.items():
            revs.sort()
            for i, (rev, created, image, service) in enumerate(revs):
                if i == 0:
                    continue  # the oldest known revision is the baseline, not a change we saw
                prev = revs[i - 1][2]
                changes.append(Change(
                    timestamp=created, service=service, kind=ChangeKind.DEPLOY,
                    summary=f"deployment {ns}/{deploy} rolled out revision {rev} ({image})",
                    version=short_image(image), previous_version=short_image(prev), author=None))
        return changes

    async def _events(self, ns: str) -> list[Change]:
        events = await self.list_all(f"/api/v1/namespaces/{ns}/events")
        changes: list[Change] = []
        for ev in events:
            if ev.get("reason") not in SCALE_REASONS:
                continue
            obj = ev.get("involvedObject") or {}
            when = _ts(ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp")
                       or (ev.get("metadata") or {}).get("creationTimestamp"))
            if when is None:
                continue
            source = (ev.get("source") or {}).get("component") or ev.get("reportingComponent")
            changes.append(Change(
                timestamp=when, service=str(obj.get("name") or "unknown"), kind=ChangeKind.SCALE,
                summary=f"{obj.get('kind', 'object')} {ns}/{obj.get('name')}: {ev.get('reason')}: "
                        f"{str(ev.get('message') or '')[:200]}",
                author=str(source) if source else None))
        return changes
