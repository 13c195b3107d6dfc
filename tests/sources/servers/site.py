"""A site served partly by a real Prometheus (loopback) and partly by mock transports (other hosts)."""

from __future__ import annotations

import httpx

from day2ai.sources.config import SiteConfig, parse_site_config
from tests.sources.servers import mocks
from tests.sources.servers.scenario import Scenario

TOKENS = {"PROM_TOKEN": "prom-live-secret", "LOKI_TOKEN": "loki-live-secret", "K8S_TOKEN": "k8s-live-secret"}


class SplitTransport(httpx.AsyncBaseTransport):
    """Real HTTP for 127.0.0.1, the mock router for every other host."""

    def __init__(self, mock: httpx.MockTransport):
        self.mock = mock
        self.real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            return await self.real.handle_async_request(request)
        return await self.mock.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


def site_yaml(prometheus_url: str) -> str:
    return f"""\
defaults: {{retries: 1, backoff: 0.01}}
metrics:
  type: prometheus
  url: {prometheus_url}
  auth: {{bearer_token_env: PROM_TOKEN}}
logs:
  type: loki
  url: http://loki.test:3100
  page_size: 400
  auth: {{bearer_token: "${{LOKI_TOKEN}}"}}
traces: {{type: jaeger, url: "http://jaeger.test:16686"}}
changes:
  - type: kubernetes
    url: "https://k8s.test:6443"
    namespaces: [shop]
    auth: {{bearer_token_env: K8S_TOKEN}}
"""


def mock_transport(scenario: Scenario) -> httpx.MockTransport:
    router = mocks.Router()
    router.add(
        "/loki/api/v1", mocks.authed(mocks.loki(scenario.logs()), TOKENS["LOKI_TOKEN"]), host="loki.test"
    )
    router.add("/api", mocks.jaeger(scenario.traces()), host="jaeger.test")
    router.add(
        "/", mocks.authed(mocks.kubernetes(scenario.replicasets()), TOKENS["K8S_TOKEN"]), host="k8s.test"
    )
    return router.transport()


def live_site(prometheus_url: str) -> SiteConfig:
    return parse_site_config(site_yaml(prometheus_url))
