"""Site configuration: YAML -> backends, secrets from the environment, clear errors, live incidents."""

from __future__ import annotations

from pathlib import Path

import pytest

from day2ai.errors import ConfigError
from day2ai.sources.config import live_incident, load_site_config, parse_duration, parse_site_config
from day2ai.sources.guard import CombinedChanges, Guarded
from day2ai.sources.loki import LokiSource
from day2ai.sources.prometheus import DEFAULT_QUERIES, PrometheusSource

SITE = """\
site: prod-eu
defaults:
  read_timeout: 12
  retries: 1
metrics:
  type: prometheus
  url: http://prom.test:9090
  auth: {bearer_token: "${PROM_TOKEN}"}
  queries:
    request_rate: 'sum by (service) (rate(http_requests_total{service=~"{service}"}[{window}]))'
logs:
  type: loki
  url: http://loki.test:3100
  service_label: app
  headers: {X-Scope-OrgID: shop}
  auth:
    username: day2ai
    password_env: LOKI_PASSWORD
traces: {type: otlp, paths: [otlp/]}
changes:
  - {type: kubernetes, url: "https://k8s.test:6443", namespaces: [shop], auth: {bearer_token_env: K8S_TOKEN}}
  - {type: github, repos: {acme/payments: payments}}
topology:
  services:
    - {name: frontend, depends_on: [checkout]}
    - {name: checkout}
"""

SECRETS = {"PROM_TOKEN": "prom-secret-1", "LOKI_PASSWORD": "loki-secret-2", "K8S_TOKEN": "k8s-secret-3"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


async def test_site_config_builds_guarded_sources(tmp_path: Path, env: None) -> None:
    site = load_site_config(write(tmp_path, SITE))
    assert site.metrics is not None and site.metrics.read_timeout == 12 and site.metrics.retries == 1
    assert site.logs is not None and site.logs.type == "loki" and site.logs.read_timeout == 12
    sources = site.build_sources()
    assert isinstance(sources.metrics, Guarded) and isinstance(sources.metrics.inner, PrometheusSource)
    prom = sources.metrics.inner
    assert prom.queries["request_rate"].startswith("sum by (service) (rate(http_requests_total")
    assert prom.queries["cpu_usage_ratio"] == DEFAULT_QUERIES["cpu_usage_ratio"]
    assert isinstance(sources.logs, Guarded) and isinstance(sources.logs.inner, LokiSource)
    assert sources.logs.inner.service_label == "app"
    assert isinstance(sources.changes, CombinedChanges) and len(sources.changes.parts) == 2
    assert sources.names == {
        "metrics": "prometheus",
        "logs": "loki",
        "traces": "otlp",
        "changes": "kubernetes+github",
        "topology": "config",
    }
    topo = await sources.topology.topology()  # type: ignore[union-attr]
    assert topo is not None and topo.edges() == [("frontend", "checkout")]
    assert prom.client.settings.auth.bearer_token.get_secret_value() == "prom-secret-1"  # type: ignore[union-attr]
    assert sources.logs.inner.client.settings.headers == {"X-Scope-OrgID": "shop"}


def test_secrets_never_appear_in_reprs(tmp_path: Path, env: None) -> None:
    site = load_site_config(write(tmp_path, SITE))
    shown = " ".join([repr(site), str(site), str(site.redacted()), site.model_dump_json()])
    for secret in SECRETS.values():
        assert secret not in shown
    assert site.redacted()["logs"]["auth"]["username"] == "day2ai"
    assert sorted(site.secrets()) == sorted([*SECRETS.values(), "ZGF5MmFpOmxva2ktc2VjcmV0LTI="])


def test_missing_environment_variable_names_file_line_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROM_TOKEN", "x")
    monkeypatch.delenv("LOKI_PASSWORD", raising=False)
    with pytest.raises(
        ConfigError,
        match=r"site.yaml:18: logs.auth.password_env: environment variable "
        r"LOKI_PASSWORD is not set",
    ):
        load_site_config(write(tmp_path, SITE))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics: {type: prometheus}\n", r"site.yaml:1: metrics.url: Field required"),
        (
            "logs:\n  type: loki\n  url: http://x\n  pagesize: 3\n",
            r"site.yaml:4: logs.pagesize: Extra inputs",
        ),
        ("logs: {type: splunk, url: http://x}\n", r"site.yaml:1: logs: .*tag 'splunk'"),
        ("metrics: [unclosed\n", r"site.yaml:2: invalid YAML"),
        ("- just a list\n", r"site.yaml:1: expected a mapping"),
        ("defaults: {timeout: 3}\n", r"defaults: unknown HTTP setting\(s\): timeout"),
        ("changes:\n  - type: github\n    repos: {}\n", r"site.yaml:3: changes.0.repos"),
    ],
)
def test_bad_configs_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_site_config(write(tmp_path, text))


def test_unreadable_config_and_topology_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_site_config(tmp_path / "missing.yaml")
    site = parse_site_config("topology: {file: topo.yaml}\n", base_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="topology file not found"):
        site.build_sources()
    (tmp_path / "topo.yaml").write_text("services:\n  - {name: a, kind: databse}\n")
    with pytest.raises(ConfigError, match=r"topo\.yaml:2: services\.0\.kind"):
        site.build_sources()


def test_live_incident_window_and_baseline() -> None:
    inc = live_incident("checkout", "1h", now=1_800_000_000.0)
    assert (inc.window.start_s, inc.window.end_s) == (1_799_996_400.0, 1_800_000_000.0)
    assert inc.baseline is not None and (inc.baseline.start_s, inc.baseline.end_s) == (
        1_799_992_800.0,
        1_799_996_400.0,
    )
    assert inc.detected_at.timestamp() == 1_800_000_000.0 and inc.symptom.service == "checkout"
    assert inc.id.startswith("live-checkout-") and "checkout" in inc.title
    assert [parse_duration(x) for x in ("90s", "15m", "2h", "1d", "600", 30)] == [
        90,
        900,
        7200,
        86400,
        600,
        30,
    ]
    for bad in ("soon", "0m", "-5"):
        with pytest.raises(ConfigError):
            parse_duration(bad)
    with pytest.raises(ConfigError, match="--service"):
        live_incident("", "1h")
