"""Kubernetes, Argo CD and GitHub change sources against mock transports of their documented APIs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from day2ai.errors import SourceError, SourceUnavailable
from day2ai.models import ChangeKind
from day2ai.sources.argocd import ArgoCDSource
from day2ai.sources.base import ChangeQuery, ChangesSource
from day2ai.sources.github import GitHubSource, next_link
from day2ai.sources.guard import CombinedChanges, Guarded
from day2ai.sources.http import HttpAuth, HttpClient, HttpSettings
from day2ai.sources.kubernetes import KubernetesSource
from day2ai.timeutil import iso, parse_timestamp
from tests.sources.servers import mocks
from tests.sources.servers.scenario import Scenario

TOKEN = "k8s-sa-token-xyz"


def http(handler: mocks.Handler, name: str, url: str = "https://backend.test", **kw: Any) -> HttpClient:
    settings = HttpSettings(url=url, retries=0, auth=HttpAuth(bearer_token=SecretStr(TOKEN)), **kw)
    return HttpClient(name, settings, transport=httpx.MockTransport(mocks.authed(handler, TOKEN)))


def scale_event(name: str, when: float, message: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.17a", "namespace": "shop"},
        "reason": "ScalingReplicaSet",
        "message": message,
        "type": "Normal",
        "lastTimestamp": iso(when),
        "involvedObject": {"kind": "Deployment", "name": name, "namespace": "shop"},
        "source": {"component": "deployment-controller"},
    }


# ------------------------------------------------------------------ Kubernetes


async def test_kubernetes_rollouts_and_scale_events(scenario: Scenario) -> None:
    events = [
        scale_event("checkout", scenario.t0 + 600, "Scaled up replica set checkout-1abc to 5"),
        {"reason": "BackOff", "involvedObject": {"name": "x"}, "lastTimestamp": iso(scenario.t0)},
    ]
    router = (
        mocks.Router()
        .add("/apis/apps/v1", mocks.kubernetes(scenario.replicasets()))
        .add("/api/v1", mocks.kubernetes([], events))
    )
    k8s = KubernetesSource(http(router, "kubernetes"), namespaces=["shop"], page_size=2)
    assert isinstance(k8s, ChangesSource)
    got = [c async for c in k8s.changes(ChangeQuery(start=scenario.t0, end=scenario.end))]
    assert [(c.kind, c.service) for c in got] == [
        (ChangeKind.SCALE, "checkout"),
        (ChangeKind.DEPLOY, "payments"),
    ]
    deploy = got[1]
    assert (deploy.version, deploy.previous_version) == ("v2.14.0", "v1.0.0")
    assert deploy.timestamp == scenario.deploy_at and "revision 2" in deploy.summary
    assert router.calls["/apis/apps/v1"] == 2  # four ReplicaSets, two per page
    only = [
        c
        async for c in k8s.changes(
            ChangeQuery(
                start=scenario.t0, end=scenario.end, kinds=(ChangeKind.DEPLOY,), services=("checkout",)
            )
        )
    ]
    assert only == []


async def test_kubernetes_wrong_token_is_unavailable(scenario: Scenario) -> None:
    router = mocks.Router().add("/", mocks.kubernetes(scenario.replicasets()))
    client = HttpClient(
        "kubernetes",
        HttpSettings(url="https://k8s.test", retries=0, auth=HttpAuth(bearer_token=SecretStr("wrong-token"))),
        transport=httpx.MockTransport(mocks.authed(router, TOKEN)),
    )
    with pytest.raises(SourceUnavailable, match="HTTP 401"):
        [c async for c in KubernetesSource(client, namespaces=["shop"]).changes(ChangeQuery())]


# ------------------------------------------------------------------ Argo CD


def argo_app(name: str, history: list[tuple[int, str, float]]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://github.com/acme/deploy", "path": name}},
        "status": {
            "sync": {"status": "Synced"},
            "health": {"status": "Degraded"},
            "history": [
                {
                    "id": i,
                    "revision": rev,
                    "deployedAt": iso(when),
                    "deployStartedAt": iso(when - 20),
                    "source": {"repoURL": "https://github.com/acme/deploy", "path": name},
                    "initiatedBy": {"automated": True} if i % 2 else {"username": "alice"},
                }
                for i, rev, when in history
            ],
        },
    }


async def test_argocd_history_becomes_deploy_changes() -> None:
    apps = {
        "payments-prod": argo_app(
            "payments-prod", [(2, "b" * 40, 2000.0), (1, "a" * 40, 1000.0), (3, "c" * 40, 3000.0)]
        )
    }

    def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[1]
        if name not in apps:
            return httpx.Response(
                404,
                json={
                    "error": f'applications.argoproj.io "{name}" not found',
                    "code": 5,
                    "message": "not found",
                },
            )
        return httpx.Response(200, json=apps[name])

    argo = ArgoCDSource(http(handler, "argocd"), applications={"payments-prod": "payments"})
    got = [c async for c in argo.changes(ChangeQuery(start=1500, end=3500))]
    assert [(c.version, c.previous_version, c.author) for c in got] == [
        ("b" * 12, "a" * 12, "alice"),
        ("c" * 12, "b" * 12, "automated"),
    ]
    assert all(c.service == "payments" and c.kind is ChangeKind.DEPLOY for c in got)
    missing = ArgoCDSource(http(handler, "argocd"), applications=["nope"])
    with pytest.raises(SourceError, match="not found"):
        [c async for c in missing.changes(ChangeQuery())]


# ------------------------------------------------------------------ GitHub


def github_handler(
    deployments: list[dict[str, Any]], releases: list[dict[str, Any]], next_host: str = "api.github.test"
) -> mocks.Handler:
    def page(items: list[dict[str, Any]], request: httpx.Request) -> httpx.Response:
        per = int(request.url.params.get("per_page", 30))
        n = int(request.url.params.get("page", 1))
        chunk = items[(n - 1) * per : n * per]
        headers = {}
        if n * per < len(items):
            nxt = request.url.copy_with(host=next_host).copy_merge_params({"page": n + 1})
            headers["Link"] = f'<{nxt}>; rel="next", <{nxt}>; rel="last"'
        return httpx.Response(200, json=chunk, headers=headers)

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/statuses"):
            dep_id = int(path.split("/")[-2])
            state = "failure" if dep_id % 2 else "success"
            return httpx.Response(200, json=[{"id": 1, "state": state, "created_at": "2026-11-26T10:00:00Z"}])
        if path.endswith("/deployments"):
            return page(deployments, request)
        if path.endswith("/releases"):
            return page(releases, request)
        return httpx.Response(404, json={"message": "Not Found"})

    return handler


def deployments(n: int, t0: float) -> list[dict[str, Any]]:
    out = [
        {
            "id": i,
            "sha": f"{i:040x}",
            "ref": f"v1.{i}.0",
            "task": "deploy",
            "environment": "production",
            "description": "deploy via CI",
            "creator": {"login": "ci-bot"},
            "created_at": iso(t0 + i * 60),
        }
        for i in range(n)
    ]
    return out[::-1]  # newest first, as GitHub lists them


async def test_github_deployments_follow_link_pagination_and_stop_when_old() -> None:
    t0 = 1_800_000_000.0
    releases = [
        {
            "tag_name": "v1.2.0",
            "name": "Spring",
            "draft": False,
            "prerelease": False,
            "published_at": iso(t0 + 500),
            "author": {"login": "bob"},
        },
        {"tag_name": "v1.3.0-rc", "name": "draft", "draft": True, "published_at": None},
    ]
    handler = github_handler(deployments(250, t0), releases)
    gh = GitHubSource(
        http(handler, "github", url="https://api.github.test"), repos={"acme/payments": "payments"}
    )
    got = [c async for c in gh.changes(ChangeQuery(start=t0 + 200 * 60, end=t0 + 300 * 60))]
    deploys = [c for c in got if c.kind is ChangeKind.DEPLOY]
    assert [c.version for c in deploys] == [f"v1.{i}.0" for i in range(200, 250)]
    assert deploys[1].previous_version == "v1.200.0" and "(failure)" in deploys[1].summary
    assert (
        all(c.author == "ci-bot" for c in deploys)
        and parse_timestamp(iso(deploys[0].timestamp)) == t0 + 12000
    )
    every = [c async for c in gh.changes(ChangeQuery(start=t0, end=t0 + 10**6))]
    others = [c for c in every if c.kind is ChangeKind.OTHER]
    assert [(c.version, c.author) for c in others] == [("v1.2.0", "bob")] and len(every) == 251


async def test_github_refuses_next_links_to_another_host() -> None:
    handler = github_handler(deployments(150, 0.0), [], next_host="evil.test")
    gh = GitHubSource(
        http(handler, "github", url="https://api.github.test"), repos={"a/b": "b"}, include_releases=False
    )
    with pytest.raises(SourceError, match="another host"):
        [c async for c in gh.changes(ChangeQuery(start=0, end=10**6))]


def test_next_link_parsing() -> None:
    header = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"'
    assert next_link(header) == "https://api.github.com/x?page=2"
    assert next_link('<https://api.github.com/x?page=1>; rel="prev"') is None and next_link(None) is None


# ------------------------------------------------------------------ combined


async def test_combined_changes_keep_what_works_and_name_what_failed(scenario: Scenario) -> None:
    router = (
        mocks.Router()
        .add("/apis/apps/v1", mocks.kubernetes(scenario.replicasets()))
        .add("/api/v1", mocks.kubernetes([], []))
    )
    k8s = Guarded(KubernetesSource(http(router, "kubernetes"), namespaces=["shop"]), "kubernetes")

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="maintenance")

    argo = Guarded(ArgoCDSource(http(down, "argocd"), applications=["payments"]), "argocd")
    combined = CombinedChanges([("kubernetes", k8s), ("argocd", argo)])
    got = []
    with pytest.raises(SourceError, match="argocd") as info:
        async for c in combined.changes(ChangeQuery(start=scenario.t0, end=scenario.end)):
            got.append(c)
    assert [c.service for c in got] == ["payments"] and "other backends were returned" in str(info.value)
    all_down = CombinedChanges([("argocd", argo)])
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        [c async for c in all_down.changes(ChangeQuery())]
