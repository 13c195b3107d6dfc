"""The Day-2 scan report: findings, the health scorecard and the gaps (ops-history.md, cli-contract.md).

``ScanReport.to_contract()`` gives exactly the JSON of ``day2ai scan --format json``: the
contract's keys always, a finding's kind-specific fields only when they apply.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from day2ai.models import Remediation

FindingKind = Literal[
    "capacity_exhaustion", "degrading_dependency", "overprovisioned", "idle_resource", "config_drift",
    "observability_gap", "noisy_alert", "automation_candidate", "stale_runbook", "postmortem_followup",
]
FINDING_KINDS: tuple[str, ...] = FindingKind.__args__  # type: ignore[attr-defined]
Severity = Literal["high", "medium", "low"]
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}

# the kind-specific fields of ops-history.md, in contract order
EXTRA_FIELDS = ("resource", "eta", "peer", "recommended", "monthly_savings", "object", "fields", "security",
                "missing", "alert", "firings", "occurrences", "runbook", "items")


class FindingEvidence(BaseModel):
    source: str
    summary: str


class Finding(BaseModel):
    """One Day-2 finding: a suggestion with its evidence, never an action."""

    id: str = ""
    kind: FindingKind
    service: str
    severity: Severity
    summary: str
    evidence: list[FindingEvidence] = Field(default_factory=list)
    recommendation: str
    # kind-specific fields (None when they do not apply)
    resource: str | None = None
    eta: str | None = None
    peer: str | None = None
    recommended: dict[str, float] | None = None
    monthly_savings: float | None = None
    object: str | None = None
    fields: list[str] | None = None
    security: bool | None = None
    missing: list[str] | None = None
    alert: str | None = None
    firings: int | None = None
    occurrences: int | None = None
    runbook: str | None = None
    items: list[str] | None = None
    # anything that would change a system goes through day2ai.approval, never run by the scan
    remediation: Remediation | None = None
    score: float = Field(default=0.0, description="ordering key within a severity (higher first)")

    def to_contract(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "service": self.service, "severity": self.severity,
            "summary": self.summary, "evidence": [e.model_dump() for e in self.evidence],
            "recommendation": self.recommendation,
        }
        for key in EXTRA_FIELDS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.remediation is not None:
            out["remediation"] = self.remediation.model_dump()
        return out


class HealthFigures(BaseModel):
    """The scorecard's figures over one span of time; None = not computable (a gap says why)."""

    start: str
    end: str
    incidents: int | None = None
    incidents_by_severity: dict[str, int] | None = None
    mtta_minutes_median: float | None = None
    mtta_minutes_mean: float | None = None
    mttr_minutes_median: float | None = None
    mttr_minutes_mean: float | None = None
    deploys_per_day: float | None = None
    lead_time_hours_median: float | None = None
    change_failure_rate: float | None = None
    failed_deployment_recovery_hours_median: float | None = None
    alerts_per_week: float | None = None
    pages: int | None = None
    night_pages: int | None = None
    unactioned_alert_ratio: float | None = None


HEALTH_FIGURES: tuple[str, ...] = tuple(k for k in HealthFigures.model_fields if k not in ("start", "end"))


class Health(HealthFigures):
    halves: list[HealthFigures] = Field(default_factory=list)
    trends: list[str] = Field(default_factory=list, description='e.g. "MTTR rising: 48 -> 95 min"')


class ScanGap(BaseModel):
    source: str
    reason: str


class ScanReport(BaseModel):
    site: str
    period: dict[str, str]
    findings: list[Finding] = Field(default_factory=list)
    health: Health
    gaps: list[ScanGap] = Field(default_factory=list)
    usage: dict[str, float] = Field(default_factory=dict)
    # chart data for the review (weekly MTTR / alert volume, capacity forecasts); not in the contract
    weekly: list[dict[str, Any]] = Field(default_factory=list)
    forecasts: list[dict[str, Any]] = Field(default_factory=list)

    def to_contract(self) -> dict[str, Any]:
        health = self.health.model_dump(exclude={"halves"})
        health["halves"] = [h.model_dump() for h in self.health.halves]
        return {
            "site": self.site,
            "period": dict(self.period),
            "findings": [f.to_contract() for f in self.findings],
            "health": health,
            "gaps": [g.model_dump() for g in self.gaps],
            "usage": dict(self.usage),
        }

    def to_markdown(self) -> str:
        from day2ai.render.review import review_markdown

        return review_markdown(self)

    def to_html(self) -> str:
        from day2ai.render.review import review_html

        return review_html(self)

    def _repr_html_(self) -> str:
        from day2ai.render.html import scan_html

        return scan_html(self)


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """Best first (high severity, then score), with ids f1, f2, ... in that order."""
    ordered = sorted(findings, key=lambda f: (_SEVERITY_RANK[f.severity], -f.score, f.kind, f.service))
    return [f.model_copy(update={"id": f"f{i}"}) for i, f in enumerate(ordered, start=1)]
