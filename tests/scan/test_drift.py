from __future__ import annotations

import copy
from typing import Any

import pytest

from day2ai.scan.drift import diff_objects, drift_findings, normalize
from day2ai.sources.history import KubeObject
from tests.scan.helpers import site


def _deploy() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api"}},
            "spec": {"replicas": 3, "template": {"spec": {
                "securityContext": {"runAsNonRoot": True},
                "containers": [{"name": "api", "image": "reg/api:1.2.3",
                                "resources": {"requests": {"cpu": "1000m", "memory": "1Gi"},
                                              "limits": {"memory": "1Gi"}}}]}}}}


def _live(desired: dict[str, Any]) -> dict[str, Any]:
    live = copy.deepcopy(desired)
    live["metadata"].update({"uid": "x", "resourceVersion": "9", "generation": 4, "managedFields": [{}],
                             "creationTimestamp": "2025-01-01T00:00:00Z",
                             "annotations": {"deployment.kubernetes.io/revision": "3"}})
    live["status"] = {"readyReplicas": 3}
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    c = live["spec"]["template"]["spec"]["containers"][0]
    c["imagePullPolicy"] = "IfNotPresent"
    c["resources"]["requests"] = {"cpu": "1", "memory": "1024Mi"}
    return live


def test_cluster_added_and_defaulted_fields_are_not_drift() -> None:
    d = _deploy()
    assert diff_objects(d, _live(d), "Deployment") == []


def test_quantities_compare_semantically() -> None:
    assert normalize("500m") == normalize(0.5)
    assert normalize("1Gi") == normalize("1024Mi") == float(2**30)
    assert normalize("80") == normalize(80)


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda c, p: c.update(securityContext={"privileged": True}), "privileged"),
    (lambda c, p: c.update(image="reg/api:latest"), "image"),
    (lambda c, p: c.update(image="reg/api"), "image"),
    (lambda c, p: c["resources"].pop("limits"), "limits"),
    (lambda c, p: p["securityContext"].update(runAsNonRoot=False), "runAsNonRoot"),
    (lambda c, p: c.update(securityContext={"capabilities": {"add": ["NET_ADMIN"]}}), "capabilities"),
    (lambda c, p: p.update(hostNetwork=True), "hostNetwork"),
])
def test_security_weakening_changes_are_marked(mutate: Any, field: str) -> None:
    d = _deploy()
    live = _live(d)
    pod = live["spec"]["template"]["spec"]
    mutate(pod["containers"][0], pod)
    drift = diff_objects(d, live, "Deployment")
    assert drift and all(sec for _, sec in drift)
    assert any(field in path for path, _ in drift)


def test_plain_drift_is_not_security() -> None:
    d = _deploy()
    live = _live(d)
    live["spec"]["replicas"] = 5
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/api:1.2.4"
    drift = diff_objects(d, live, "Deployment")
    assert sorted(p for p, _ in drift) == ["spec.replicas", "spec.template.spec.containers[api].image"]
    assert not any(sec for _, sec in drift)


def _obj(body: dict[str, Any]) -> KubeObject:
    return KubeObject(kind=body["kind"], namespace=body["metadata"]["namespace"], name=body["metadata"]["name"],
                      body=body, file="x.yaml")


def test_findings_name_object_service_and_missing_objects() -> None:
    d = _deploy()
    live = _live(d)
    live["spec"]["replicas"] = 1
    other = copy.deepcopy(d)
    other["metadata"]["name"] = "worker"
    s = site(services=[{"name": "api", "tier": 1}])
    out = drift_findings([_obj(d), _obj(other)], [_obj(live)], s)
    by = {f.object: f for f in out}
    assert by["Deployment/shop/api"].service == "api" and by["Deployment/shop/api"].fields == ["spec.replicas"]
    assert by["Deployment/shop/api"].security is False and by["Deployment/shop/api"].severity == "medium"
    assert by["Deployment/shop/worker"].fields == ["(object missing from the cluster)"]
    assert drift_findings([_obj(d)], [_obj(_live(d))], s) == []
