"""A site's backends, described in one YAML file, turned into :class:`~day2ai.sources.base.Sources`.

```yaml
defaults: {read_timeout: 20, retries: 3}       # HTTP settings every backend inherits
metrics:
  type: prometheus                             # also Thanos, Mimir, VictoriaMetrics
  url: https://prometheus.example:9090
  auth: {bearer_token_env: PROM_TOKEN}         # or bearer_token: ${PROM_TOKEN}
  queries: {cpu_usage_ratio: 'sum by (service) (rate(cpu_seconds_total{service=~"{service}"}[{window}]))'}
logs:   {type: loki, url: http://loki:3100, service_label: app}       # or elasticsearch, otlp
traces: {type: tempo, url: http://tempo:3200}                           # or jaeger, otlp
changes:                                                                # one backend or a list
  - {type: kubernetes, url: https://k8s:6443, namespaces: [shop], auth: {bearer_token_env: K8S_TOKEN}}
  - {type: argocd, url: https://argocd, applications: [checkout], auth: {bearer_token_env: ARGOCD_TOKEN}}
  - {type: github, url: https://api.github.com, repos: {acme/checkout: checkout}}
topology: {file: topology.yaml}                # or {services: [...]} as in topology.yaml
```

Secrets come from the environment (``${VAR}`` anywhere, or a ``<key>_env: VAR`` key that sets
``<key>``); they are held as ``SecretStr`` and never printed: :meth:`SiteConfig.redacted` is
what may be shown. Errors name the file, the line and the field (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from day2ai.errors import ConfigError, InputError
from day2ai.models import ChangeKind, Component, Incident, Symptom, TimeRange, Topology
from day2ai.redact import redact
from day2ai.sources.argocd import ArgoCDSource
from day2ai.sources.base import Sources
from day2ai.sources.bundle import _yaml_line
from day2ai.sources.elasticsearch import ElasticsearchSource, EsFields
from day2ai.sources.github import GitHubSource
from day2ai.sources.guard import CombinedChanges, Guarded
from day2ai.sources.http import HttpClient, HttpSettings, Scrubber
from day2ai.sources.jaeger import JaegerSource
from day2ai.sources.kubernetes import KubernetesSource
from day2ai.sources.loki import LokiSource
from day2ai.sources.otlp import OtlpFileSource
from day2ai.sources.prometheus import DEFAULT_SERVICE_LABELS, PrometheusSource
from day2ai.sources.tempo import TempoSource
from day2ai.timeutil import iso
from day2ai.yamlsafe import load_with_node

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PrometheusConfig(HttpSettings):
    type: Literal["prometheus", "thanos", "mimir", "victoriametrics"]
    queries: dict[str, str] = Field(default_factory=dict)
    service_labels: list[str] = Field(default_factory=lambda: list(DEFAULT_SERVICE_LABELS))
    min_step: float = Field(default=15.0, gt=0)
    max_points: int = Field(default=1000, gt=1, le=11000)
    scrape_interval: float = Field(default=15.0, gt=0)


class LokiConfig(HttpSettings):
    type: Literal["loki"]
    service_label: str = "service_name"
    page_size: int = Field(default=1000, gt=0, le=5000)


class ElasticsearchConfig(HttpSettings):
    type: Literal["elasticsearch", "opensearch"]
    index: str = "logs-*"
    fields: EsFields = Field(default_factory=EsFields)
    page_size: int = Field(default=1000, gt=0, le=10000)


class JaegerConfig(HttpSettings):
    type: Literal["jaeger"]
    traces_per_service: int = Field(default=600, gt=0)
    windows: int = Field(default=12, gt=0, description="time slices the range is sampled in (Jaeger has no paging)")


class TempoConfig(HttpSettings):
    type: Literal["tempo"]
    search_limit: int = Field(default=200, gt=0)


class OtlpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["otlp"]
    paths: list[str] = Field(min_length=1)


class KubernetesConfig(HttpSettings):
    type: Literal["kubernetes"]
    namespaces: list[str] = Field(default_factory=lambda: ["default"])
    service_label: str = "app.kubernetes.io/name"


class ArgoCDConfig(HttpSettings):
    type: Literal["argocd"]
    applications: list[str] | dict[str, str]


class GitHubConfig(HttpSettings):
    type: Literal["github"]
    url: str = "https://api.github.com"
    repos: dict[str, str] = Field(min_length=1, description="owner/name -> service")
    environment: str | None = None
    include_releases: bool = True
    release_kind: ChangeKind = ChangeKind.OTHER


class TopologyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    file: str | None = None
    services: list[Component] | None = None


Disc = Field(discriminator="type")
LogsConfig = Annotated[LokiConfig | ElasticsearchConfig | OtlpConfig, Disc]
TracesConfig = Annotated[JaegerConfig | TempoConfig | OtlpConfig, Disc]
ChangeConfig = Annotated[KubernetesConfig | ArgoCDConfig | GitHubConfig, Disc]
BackendConfig = (PrometheusConfig | LokiConfig | ElasticsearchConfig | JaegerConfig | TempoConfig | OtlpConfig
                 | KubernetesConfig | ArgoCDConfig | GitHubConfig)


class SiteConfig(BaseModel):
    """The backends of one site. Build the sources with :meth:`build_sources`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str = "site"
    metrics: PrometheusConfig | None = None
    logs: LogsConfig | None = None
    traces: TracesConfig | None = None
    changes: list[ChangeConfig] = Field(default_factory=list)
    topology: TopologyConfig | None = None
    base_dir: str = Field(default=".", exclude=True)

    def redacted(self) -> dict[str, Any]:
        """The configuration as it may be shown: every secret masked."""
        return self.model_dump(mode="json", exclude_none=True)

    def __repr__(self) -> str:
        return f"SiteConfig({self.redacted()!r})"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        out: list[str] = []
        for backend in self._backends():
            if isinstance(backend, HttpSettings):
                out.extend(backend.secrets())
        return out

    def scrubber(self) -> Scrubber:
        return Scrubber(self.secrets())

    def _backends(self) -> list[BackendConfig]:
        return [b for b in (self.metrics, self.logs, self.traces, *self.changes) if b is not None]

    def build_sources(self, transport: httpx.AsyncBaseTransport | None = None) -> Sources:
        """Sources for an investigation; each wrapped so that it fails only with day2ai errors."""
        scrub = self.scrubber()
        sources = Sources()
        for kind in ("metrics", "logs", "traces"):
            cfg = getattr(self, kind)
            if cfg is not None:
                setattr(sources, kind, Guarded(_build(cfg, transport, self.base_dir), cfg.type, scrub))
                sources.names[kind] = cfg.type
        if self.changes:
            parts = [(c.type, Guarded(_build(c, transport, self.base_dir), c.type, scrub))
                     for c in self.changes]
            sources.changes = parts[0][1] if len(parts) == 1 else CombinedChanges(parts)
            sources.names["changes"] = "+".join(name for name, _ in parts)
        topo = self.load_topology()
        if topo is not None:
            sources.topology = StaticTopology(topo)
            sources.names["topology"] = "config"
        return sources

    def load_topology(self) -> Topology | None:
        if self.topology is None:
            return None
        if self.topology.services is not None:
            return Topology(services=self.topology.services)
        if self.topology.file is None:
            return None
        from day2ai.sources.bundle import read_yaml_model

        path = Path(self.base_dir) / self.topology.file
        if not path.is_file():
            raise ConfigError(f"topology file not found: {path}")
        try:
            return read_yaml_model(path, Topology)
        except InputError as exc:
            raise ConfigError(str(exc)) from None


class StaticTopology:
    """A TopologySource of a fixed topology."""

    def __init__(self, topology: Topology):
        self._topology = topology

    async def topology(self) -> Topology | None:
        return self._topology


def _http(cfg: HttpSettings) -> HttpSettings:
    return HttpSettings(**{k: getattr(cfg, k) for k in HttpSettings.model_fields})


def _build(cfg: BackendConfig, transport: httpx.AsyncBaseTransport | None, base_dir: str) -> Any:
    if isinstance(cfg, OtlpConfig):
        return OtlpFileSource([Path(base_dir) / p for p in cfg.paths])
    client = HttpClient(cfg.type, _http(cfg), transport=transport)
    if isinstance(cfg, PrometheusConfig):
        return PrometheusSource(client, queries=cfg.queries, service_labels=cfg.service_labels,
                                min_step=cfg.min_step, max_points=cfg.max_points,
                                scrape_interval=cfg.scrape_interval)
    if isinstance(cfg, LokiConfig):
        return LokiSource(client, service_label=cfg.service_label, page_size=cfg.page_size)
    if isinstance(cfg, ElasticsearchConfig):
        return ElasticsearchSource(client, index=cfg.index, fields=cfg.fields, page_size=cfg.page_size)
    if isinstance(cfg, JaegerConfig):
        return JaegerSource(client, traces_per_service=cfg.traces_per_service, windows=cfg.windows)
    if isinstance(cfg, TempoConfig):
        return TempoSource(client, search_limit=cfg.search_limit)
    if isinstance(cfg, KubernetesConfig):
        return KubernetesSource(client, namespaces=cfg.namespaces, service_label=cfg.service_label)
    if isinstance(cfg, ArgoCDConfig):
        return ArgoCDSource(client, applications=cfg.applications)
    return GitHubSource(client, repos=cfg.repos, environment=cfg.environment,
                        include_releases=cfg.include_releases, release_kind=cfg.release_kind)


async def close_sources(sources: Sources) -> None:
    """Close the HTTP clients behind sources built by :meth:`SiteConfig.build_sources`."""
    seen: set[int] = set()
    candidates: list[Any] = [sources.metrics, sources.logs, sources.traces, sources.changes]
    if isinstance(sources.changes, CombinedChanges):
        candidates.extend(src for _, src in sources.changes.parts)
    for src in candidates:
        inner = getattr(src, "inner", src)
        client = getattr(inner, "client", None)
        if isinstance(client, HttpClient) and id(client) not in seen:
            seen.add(id(client))
            await client.aclose()


# ---------------------------------------------------------------- loading


def _expand(value: Any, where: str, file: str, node: yaml.Node | None,
            loc: tuple[str | int, ...] = ()) -> Any:
    """Resolve ``${VAR}`` in strings and ``<key>_env: VAR`` keys, recursively."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, val in value.items():
            key_s = str(key)
            if key_s.endswith("_env") and isinstance(val, str):
                out[key_s[:-4]] = _env(val, file, node, (*loc, key_s))
            else:
                out[key_s] = _expand(val, where, file, node, (*loc, key_s))
        return out
    if isinstance(value, list):
        return [_expand(v, where, file, node, (*loc, i)) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _ENV_REF.sub(lambda m: _env(m.group(1), file, node, loc), value)
    return value


def _env(name: str, file: str, node: yaml.Node | None, loc: tuple[str | int, ...]) -> str:
    value = os.environ.get(name)
    if value is None:
        line = _yaml_line(node, loc)
        where = file if line is None else f"{file}:{line}"
        raise ConfigError(f"{where}: {'.'.join(map(str, loc))}: environment variable {name} is not set")
    return value


def _apply_defaults(data: dict[str, Any]) -> dict[str, Any]:
    defaults = data.pop("defaults", None) or {}
    if not isinstance(defaults, dict):
        raise ConfigError("defaults: expected a mapping of HTTP settings")
    unknown = set(defaults) - set(HttpSettings.model_fields)
    if unknown:
        raise ConfigError(f"defaults: unknown HTTP setting(s): {', '.join(sorted(unknown))}")
    changes = data.get("changes")
    if isinstance(changes, dict):
        data["changes"] = [changes]
    for kind in ("metrics", "logs", "traces", "changes"):
        items = data.get(kind)
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict) and item.get("type") != "otlp":
                for key, val in defaults.items():
                    item.setdefault(key, val)
    return data


def parse_site_config(text: str, file: str = "site.yaml", base_dir: str = ".") -> SiteConfig:
    try:
        data, node = load_with_node(text.removeprefix("\ufeff"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else file
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: expected a mapping of backends (metrics, logs, traces, changes)")
    data = _apply_defaults(_expand(data, "", file, node))
    data["base_dir"] = base_dir
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _TAGS))
        line = _yaml_line(node, loc)
        where = file if line is None else f"{file}:{line}"
        field = ".".join(str(p) for p in loc)
        raise ConfigError(f"{where}: {field}: {err['msg']}") from None


_TAGS = {"prometheus", "thanos", "mimir", "victoriametrics", "loki", "elasticsearch", "opensearch", "otlp",
         "jaeger", "tempo", "kubernetes", "argocd", "github"}


def load_site_config(path: str | Path) -> SiteConfig:
    """Read a site YAML file; errors name file, line and field; secrets come from the environment."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    return parse_site_config(text, file=p.name, base_dir=str(p.parent))


# ---------------------------------------------------------------- live incidents

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = 366 * 86400.0  # a live window (and its baseline before it) of at most a year


def parse_duration(text: str | float) -> float:
    """``90s``, ``15m``, ``1h``, ``2d`` or a number of seconds -> seconds."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        m = _DURATION.match(str(text).lower())
        if not m:
            raise ConfigError(f"not a duration: {text!r} (use e.g. 30m, 1h, 2d)")
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if not 0 < seconds <= MAX_DURATION:
        raise ConfigError(f"duration must be positive and at most {MAX_DURATION / 86400:g} days: {text!r}")
    return seconds


def live_incident(service: str, since: str | float, now: float | None = None,
                  title: str | None = None) -> Incident:
    """An incident for a live investigation: window [now - since, now], baseline the span before."""
    if not service:
        raise ConfigError("--service is required for a live investigation")
    span = parse_duration(since)
    end = time.time() if now is None else float(now)
    start = end - span
    stamp = iso(end).replace("-", "").replace(":", "")
    return Incident(
        id=f"live-{service}-{stamp}",
        title=redact(title) if title else f"Live investigation of {service} ({iso(start)} to {iso(end)})",
        detected_at=TimeRange.from_epoch(end, end).end, window=TimeRange.from_epoch(start, end),
        baseline=TimeRange.from_epoch(start - span, start), symptom=Symptom(service=service))
