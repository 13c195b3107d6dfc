"""Live mode drift: declared objects (a Git checkout) against a mocked Kubernetes API server.

The mock answers list calls in the documented format of the API (``{"kind": "DeploymentList",
"apiVersion": "apps/v1", "metadata": {"resourceVersion", "continue"}, "items": [...]}``, items
without ``kind``/``apiVersion``, paged with ``limit``/``continue``) and carries what a cluster adds
on its own (status, uid, managedFields, defaulted fields), so only real drift may be reported.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml
from typer.testing import CliRunner

from day2ai.cli.scan import register
from day2ai.scan.engine import analyse
from day2ai.sources.history_kube import read_live_objects
from day2ai.sources.history_live import load_live_history
from day2ai.sources.http import HttpClient, HttpSettings
from day2ai.sources.kubernetes import KubernetesSource

NOW = 1767225600.0 + 30 * 86400
TOKEN = "sa-token-live-objects"
_LIST = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+/[^/]+))(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)$")
_KINDS = {"deployments": "Deployment", "services": "Service", "configmaps": "ConfigMap", "roles": "Role",
          "networkpolicies": "NetworkPolicy", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet",
          "clusterroles": "ClusterRole",
          "replicasets": "ReplicaSet", "events": "Event"}  # these two for the changes (rollouts)


def deployment(name: str, ns: str = "shop", replicas: int = 3, image: str = "reg/app:1.4.2") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": image,
                                                           "resources": {"limits": {"cpu": "500m"}}}]}}}}


def declared() -> list[dict[str, Any]]:
    return [
        deployment("checkout"),
        deployment("orders"),
        deployment("legacy", ns="other"),  # namespace outside the configuration: not compared
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "checkout", "namespace": "shop"},
         "spec": {"selector": {"app": "checkout"}, "ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "checkout-config", "namespace": "shop"},
         "data": {"POOL_SIZE": "20"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "checkout-reader", "namespace": "shop"},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "checkout-ingress", "namespace": "shop"},
         "spec": {"podSelector": {"matchLabels": {"app": "checkout"}},
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "gateway"}}}]}]}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",  # cluster-scoped
         "metadata": {"name": "checkout-node-reader"},
         "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]},
    ]


def as_served(obj: dict[str, Any], n: int) -> dict[str, Any]:
    """The object as the API server returns it in a list: no kind/apiVersion, server fields added."""
    item = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("kind", "apiVersion")}
    meta = item["metadata"]
    meta.update(uid=f"uid-{n}", resourceVersion=str(1000 + n), generation=2, creationTimestamp="2026-01-01T00:00:00Z",
                managedFields=[{"manager": "kubectl", "operation": "Update"}],
                annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"})
    if obj["kind"] == "Deployment":
        item["spec"]["strategy"] = {"type": "RollingUpdate"}
        item["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
        item["status"] = {"replicas": item["spec"]["replicas"], "readyReplicas": item["spec"]["replicas"]}
    if obj["kind"] == "NetworkPolicy":
        item["spec"]["policyTypes"] = ["Ingress"]  # defaulted by the API server
    if obj["kind"] == "Service":
        item["spec"].update(clusterIP="10.0.0.12", type="ClusterIP")
    return item


def cluster() -> list[dict[str, Any]]:
    """The live side: checkout made privileged and scaled by hand, the ConfigMap edited."""
    objs = [o for o in declared() if o["metadata"].get("namespace", "shop") == "shop"]
    live = copy.deepcopy(objs)
    checkout = live[0]
    checkout["spec"]["replicas"] = 5
    checkout["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    live[3]["data"]["POOL_SIZE"] = "5"
    live[6]["rules"][0]["verbs"].append("list")  # RBAC widened by hand: weakens security
    extra = [deployment(f"batch-{i}") for i in range(5)]  # not declared: ignored (not drift)
    return [{**as_served(o, n), "_kind": o["kind"]} for n, o in enumerate(live + extra)]


class KubeApi:
    """List endpoints over ``objects``; records every request; ``fail`` maps a plural to a status."""

    def __init__(self, objects: list[dict[str, Any]], fail: dict[str, int] | None = None):
        self.objects = objects
        self.fail = fail or {}
        self.requests: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"kind": "Status", "status": "Failure", "code": 401})
        m = _LIST.match(request.url.path)
        if request.method != "GET" or m is None or m["plural"] not in _KINDS:
            return httpx.Response(404, json={"kind": "Status", "status": "Failure", "message": "not found"})
        if m["plural"] in self.fail:
            code = self.fail[m["plural"]]
            return httpx.Response(code, json={"kind": "Status", "status": "Failure", "code": code,
                                              "message": f"{m['plural']} is unavailable"})
        kind = _KINDS[m["plural"]]
        items = [{k: v for k, v in o.items() if k != "_kind"} for o in self.objects
                 if o["_kind"] == kind and (m["ns"] is None or o["metadata"].get("namespace") == m["ns"])]
        limit = int(request.url.params.get("limit", 500))
        offset = int(request.url.params.get("continue") or 0)
        meta: dict[str, Any] = {"resourceVersion": "99999"}
        if offset + limit < len(items):
            meta["continue"] = str(offset + limit)
        return httpx.Response(200, json={"kind": f"{kind}List", "apiVersion": m["group"] or "v1",
                                         "metadata": meta, "items": items[offset:offset + limit]})


def write_setup(tmp_path: Path, url: str = "https://k8s.test", retries: int = 0) -> tuple[Path, Path]:
    desired = tmp_path / "manifests"
    desired.mkdir()
    (desired / "all.yaml").write_text(yaml.safe_dump_all(declared(), sort_keys=False))
    cfg = tmp_path / "site.yaml"
    cfg.write_text(f"site: shop\nchanges:\n  - type: kubernetes\n    url: {url}\n    namespaces: [shop]\n"
                   f"    retries: {retries}\n    backoff: 0\n    auth: {{bearer_token: {TOKEN}}}\n")
    return cfg, desired


def drift(report: Any) -> dict[str, bool | None]:
    return {f.object: f.security for f in report.findings if f.kind == "config_drift"}


async def test_drift_against_the_live_api(tmp_path: Path) -> None:
    cfg, desired = write_setup(tmp_path)
    api = KubeApi(cluster())
    h = await load_live_history(cfg, "30d", now=NOW, desired_dir=desired, transport=httpx.MockTransport(api))
    assert {m for m, _ in api.requests} == {"GET"}
    assert {p for _, p in api.requests} == {
        "/apis/apps/v1/namespaces/shop/deployments", "/api/v1/namespaces/shop/services",
        "/api/v1/namespaces/shop/configmaps", "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles",
        "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        "/apis/apps/v1/namespaces/shop/replicasets", "/api/v1/namespaces/shop/events"}  # last two: changes
    report = analyse(h)
    assert drift(report) == {"Deployment/shop/checkout": True, "ConfigMap/shop/checkout-config": False,
                             "ClusterRole/default/checkout-node-reader": True}
    checkout = next(f for f in report.findings if f.object == "Deployment/shop/checkout")
    assert "spec.replicas" in (checkout.fields or [])
    gaps = [g.reason for g in report.gaps if g.source == "config/live"]
    assert len(gaps) == 1 and "1 x namespace other not in the kubernetes configuration" in gaps[0]


async def test_paged_lists_and_kinds_set_from_the_endpoint() -> None:
    api = KubeApi(cluster())
    settings = HttpSettings(url="https://k8s.test", retries=0, auth={"bearer_token": TOKEN})  # type: ignore[arg-type]
    source = KubernetesSource(HttpClient("kubernetes", settings, transport=httpx.MockTransport(api)),
                              namespaces=["shop"], page_size=2)
    from day2ai.sources.history import KubeObject

    want = [KubeObject(kind="Deployment", namespace="shop", name="x", body={}, file="f")]
    live = await read_live_objects(source, want)
    await source.client.aclose()
    names = sorted(o.name for o in live.objects)
    assert names == ["batch-0", "batch-1", "batch-2", "batch-3", "batch-4", "checkout", "orders"]
    assert all(o.body["kind"] == "Deployment" and o.body["apiVersion"] == "apps/v1" for o in live.objects)
    assert len(api.requests) == 4 and live.covered == {("Deployment", "shop")} and not live.failures


async def test_forbidden_kind_is_a_gap_not_missing_objects(tmp_path: Path) -> None:
    cfg, desired = write_setup(tmp_path)
    api = KubeApi(cluster(), fail={"roles": 403})
    h = await load_live_history(cfg, "30d", now=NOW, desired_dir=desired, transport=httpx.MockTransport(api))
    report = analyse(h)
    assert drift(report) == {"Deployment/shop/checkout": True, "ConfigMap/shop/checkout-config": False,
                             "ClusterRole/default/checkout-node-reader": True}
    reasons = " | ".join(g.reason for g in report.gaps if g.source == "config/live")
    assert "Role (namespace shop)" in reasons and "HTTP 403" in reasons
    assert "1 x Role not listed (API failure)" in reasons


async def test_failing_api_is_a_named_gap_not_an_all_clear(tmp_path: Path) -> None:
    cfg, desired = write_setup(tmp_path, retries=1)
    api = KubeApi(cluster(), fail=dict.fromkeys(_KINDS, 503))
    h = await load_live_history(cfg, "30d", now=NOW, desired_dir=desired, transport=httpx.MockTransport(api))
    assert h.live is None  # nothing compared: no drift findings, and no "no drift" either
    lists = [p for _, p in api.requests if not p.endswith(("/replicasets", "/events"))]
    assert len(lists) == 2  # one list call, retried once, then the reading stops
    report = analyse(h)
    assert drift(report) == {}
    reasons = [g.reason for g in report.gaps if g.source == "config/live"]
    assert any("HTTP 503" in r for r in reasons) and any("not made after that failure" in r for r in reasons)
    assert any(r.startswith("8 declared object(s) not compared") and "2 x Deployment not listed (API failure)" in r
               for r in reasons)


def test_cli_names_the_failure_on_stderr(tmp_path: Path) -> None:
    cfg, desired = write_setup(tmp_path, url="http://127.0.0.1:9")  # nothing listens: connection refused
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """day2ai test app."""

    register(app)
    result = CliRunner().invoke(app, ["scan", "--config", str(cfg), "--since", "30d", "--desired", str(desired),
                                      "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "config/live: kubernetes: ClusterRole (cluster)" in result.stderr
    assert "cannot connect" in result.stderr and TOKEN not in result.stderr + result.stdout
    assert '"config_drift"' not in result.stdout and "config/live" in result.stdout
