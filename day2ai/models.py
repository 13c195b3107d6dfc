"""The domain model: every type that crosses a boundary (CLI, JSON, notebooks, bots).

Pure data: no I/O here. ``Report.to_contract()`` produces the JSON object of
``investigate --format json`` exactly as the CLI contract names it (plus extra keys).
"""

from __future__ import annotations

import weakref
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from day2ai.timeutil import parse_timestamp, to_datetime


class _Model(BaseModel):
    """Base of the domain models: validators are built on first use, not at import (start-up time)."""

    model_config = ConfigDict(defer_build=True)


class Fault(StrEnum):
    """The fault taxonomy of the incident-bundle spec."""

    CPU_SATURATION = "cpu_saturation"
    MEMORY_LEAK = "memory_leak"
    DISK_FULL = "disk_full"
    NETWORK_DELAY = "network_delay"
    PACKET_LOSS = "packet_loss"
    SERVICE_CRASH = "service_crash"
    CODE_ERROR = "code_error"
    BAD_DEPLOY = "bad_deploy"
    CONFIG_ERROR = "config_error"
    DEPENDENCY_FAILURE = "dependency_failure"
    CONNECTION_POOL_EXHAUSTION = "connection_pool_exhaustion"
    CERTIFICATE_EXPIRY = "certificate_expiry"
    TRAFFIC_SURGE = "traffic_surge"
    OTHER = "other"


class EvidenceSource(StrEnum):
    METRICS = "metrics"
    LOGS = "logs"
    TRACES = "traces"
    CHANGES = "changes"
    KNOWLEDGE = "knowledge"


class ComponentKind(StrEnum):
    SERVICE = "service"
    DATABASE = "database"
    CACHE = "cache"
    QUEUE = "queue"
    EXTERNAL = "external"
    HOST = "host"


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    SCALE = "scale"
    FEATURE_FLAG = "feature_flag"
    INFRA = "infra"
    OTHER = "other"


def _to_dt(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return to_datetime(parse_timestamp(value))
    if isinstance(value, datetime) and value.tzinfo is None:
        return to_datetime(parse_timestamp(value))
    return value


class TimeRange(_Model):
    """A closed time interval; ``end`` may not precede ``start``."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    _norm = field_validator("start", "end", mode="before")(_to_dt)

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end < self.start:
            raise ValueError("end precedes start")
        return self

    @property
    def start_s(self) -> float:
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        return self.end.timestamp()

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s

    @classmethod
    def from_epoch(cls, start: float, end: float) -> TimeRange:
        return cls(start=to_datetime(start), end=to_datetime(end))


class Alert(_Model):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value


class Symptom(_Model):
    service: str | None = None
    description: str | None = None
    alert: Alert | None = None


class Incident(_Model):
    """What a human would see in the page, and the span the telemetry covers."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    detected_at: datetime
    window: TimeRange
    baseline: TimeRange | None = None
    symptom: Symptom = Field(default_factory=Symptom)

    _norm = field_validator("detected_at", mode="before")(_to_dt)

    @field_validator("id", "title", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @property
    def alert(self) -> Alert | None:
        return self.symptom.alert

    def _repr_html_(self) -> str:
        from day2ai.render.html import incident_html

        return incident_html(self)


class Component(_Model):
    name: str = Field(min_length=1)
    kind: ComponentKind = ComponentKind.SERVICE
    depends_on: list[str] = Field(default_factory=list)


class Topology(_Model):
    services: list[Component] = Field(default_factory=list)

    def edges(self) -> list[tuple[str, str]]:
        """(caller, callee) pairs."""
        return [(c.name, d) for c in self.services for d in c.depends_on]

    def kinds(self) -> dict[str, ComponentKind]:
        return {c.name: c.kind for c in self.services}


class Selector(_Model):
    """Exactly which data a piece of evidence cites, so it can be read again and plotted.

    ``source`` says which fields apply: metrics use ``metric`` and ``labels`` (the full label set
    of the series), logs ``template_id``/``template``, traces ``service`` or the span edge
    ``caller``/``callee`` (and ``operation`` when one span name is meant), changes ``time_range``,
    knowledge ``document``. ``baseline`` and ``onset`` are the periods the finding compared.
    """

    source: EvidenceSource
    service: str | None = None
    metric: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    template_id: str | None = None
    template: str | None = None
    caller: str | None = None
    callee: str | None = None
    operation: str | None = None
    document: str | None = None
    time_range: TimeRange | None = None
    baseline: TimeRange | None = None
    onset: datetime | None = None

    _norm = field_validator("onset", mode="before")(_to_dt)


class Evidence(_Model):
    """One finding, with the query that produced it. Hypotheses cite evidence by ``id``."""

    id: str
    source: EvidenceSource
    query: str
    summary: str
    service: str | None = None
    time_range: TimeRange | None = None
    strength: float = Field(default=0.5, ge=0.0, le=1.0)
    data: dict[str, Any] | None = None
    selector: Selector | None = None

    def plot(self, bundle: Any, ax: Any = None) -> Any:
        """Draw the data this evidence cites from ``bundle`` (matplotlib; see :mod:`day2ai.plot`)."""
        from day2ai.plot import evidence as plot_evidence

        return plot_evidence(bundle, self, ax=ax)

    def _repr_html_(self) -> str:
        from day2ai.render.html import evidence_html

        return evidence_html(self)


Risk = Literal["low", "medium", "high"]
# hypothesis id() -> its report, so a hypothesis shown on its own can show its evidence inline
_REPORT_OF: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


class Remediation(_Model):
    """A suggestion. Nothing day2ai returns is ever executed without an approval hook."""

    action: str
    rationale: str = ""
    risk: Risk = "medium"
    runbook: str | None = None
    requires_approval: bool = True


class Hypothesis(_Model):
    service: str
    fault: Fault
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    supporting: list[str] = Field(default_factory=list, description="evidence ids")
    contradicting: list[str] = Field(default_factory=list, description="evidence ids")
    remediations: list[Remediation] = Field(default_factory=list)

    def report(self) -> Report | None:
        """The report this hypothesis belongs to (while that report is alive), for rich views."""
        report: Report | None = _REPORT_OF.get(id(self))
        return report if report is not None and any(h is self for h in report.hypotheses) else None

    def _repr_html_(self) -> str:
        from day2ai.render.html import hypothesis_html

        return hypothesis_html(self, self.report())


class Step(_Model):
    """One entry of the investigation timeline: a tool call, a model turn, an analysis pass."""

    index: int
    kind: Literal["tool", "llm", "analysis", "note"]
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    summary: str = ""
    evidence_ids: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    error: str | None = None


class Gap(_Model):
    """Something that could not be checked, and why."""

    source: str
    reason: str


class Usage(_Model):
    tool_calls: int = 0
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0

    @property
    def llm_tokens(self) -> int:
        return self.tokens_in + self.tokens_out


class Report(_Model):
    """The result of one investigation."""

    incident: Incident
    investigator: str
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    timeline: list[Step] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    gaps: list[Gap] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def model_post_init(self, context: Any, /) -> None:
        for h in self.hypotheses:
            _REPORT_OF[id(h)] = self

    def evidence_by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.evidence}

    def ranked_services(self) -> list[str]:
        """Distinct services of the hypotheses, best first (what evaluation scores)."""
        seen: dict[str, None] = {}
        for h in self.hypotheses:
            seen.setdefault(h.service, None)
        return list(seen)

    def to_contract(self) -> dict[str, Any]:
        """The JSON object of ``day2ai investigate --format json`` (cli-contract.md)."""
        by_id = self.evidence_by_id()
        hyps = []
        for h in self.hypotheses:
            cited = [by_id[i] for i in h.supporting if i in by_id]
            hyps.append({
                "service": h.service,
                "fault": h.fault.value,
                "confidence": round(h.confidence, 3),
                "summary": h.summary,
                "evidence": [{"id": e.id, "source": e.source.value, "summary": e.summary} for e in cited],
                "contradicting": list(h.contradicting),
                "remediation": [r.model_dump(mode="json") for r in h.remediations],
            })
        return {
            "incident_id": self.incident.id,
            "investigator": self.investigator,
            "hypotheses": hyps,
            "usage": {
                "tool_calls": self.usage.tool_calls,
                "llm_tokens": self.usage.llm_tokens,
                "seconds": round(self.usage.seconds, 3),
                "llm_calls": self.usage.llm_calls,
                "tokens_in": self.usage.tokens_in,
                "tokens_out": self.usage.tokens_out,
                "cost_usd": round(self.usage.cost_usd, 6),
            },
            "gaps": [g.model_dump() for g in self.gaps],
            "notes": list(self.notes),
        }

    def evidence_frame(self) -> Any:
        """The evidence as a pandas DataFrame, one row per item (see :mod:`day2ai.frames`)."""
        from day2ai.frames import evidence_frame

        return evidence_frame(self)

    def hypotheses_frame(self) -> Any:
        """The hypotheses as a pandas DataFrame, best first (see :mod:`day2ai.frames`)."""
        from day2ai.frames import hypotheses_frame

        return hypotheses_frame(self)

    def to_slack(self, max_chars: int = 3000, min_confidence: float = 0.15, runbook_base_url: str | None = None,
                 **opts: Any) -> dict[str, Any]:
        """A Slack message ``{"text", "blocks"}`` (mrkdwn, Block Kit limits; see :mod:`day2ai.render.slack`)."""
        from day2ai.render.slack import report_slack

        return report_slack(self, max_chars, min_confidence, runbook_base_url, **opts)

    def to_markdown(self, **opts: Any) -> str:
        """Markdown for GitHub or Teams (see :func:`day2ai.render.markdown.report_markdown`)."""
        from day2ai.render.markdown import report_markdown

        return report_markdown(self, **opts)

    def _repr_html_(self) -> str:
        from day2ai.render.html import report_html

        return report_html(self)


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON schemas of the public types, for documentation and other languages."""
    return {m.__name__: m.model_json_schema() for m in (Incident, Evidence, Hypothesis, Remediation, Report)}


class RootCause(_Model):
    service: str = Field(min_length=1)
    fault: Fault
    detail: str | None = None


class Truth(_Model):
    """The evaluation label of a bundle (truth.yaml). Investigators never see it."""

    root_cause: RootCause
    remediation: list[str] = Field(default_factory=list)
