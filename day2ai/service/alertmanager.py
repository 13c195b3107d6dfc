"""Alertmanager webhook payloads (version 4) turned into incidents to investigate.

One incident per *firing* alert: the service comes from the alert's labels (the first of
``service_labels`` present), ``detected_at`` from ``startsAt``, the window is the ``lookback``
before ``startsAt`` up to now, and the baseline the same span before it. Resolved alerts and alerts
without a service label are skipped, each with a reason.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from day2ai.errors import InputError
from day2ai.models import Alert, Incident, Symptom, TimeRange
from day2ai.redact import redact
from day2ai.timeutil import parse_timestamp, to_datetime

DEFAULT_SERVICE_LABELS = ("service", "service_name", "app", "app_kubernetes_io_name", "job", "container")


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: str = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: str | None = Field(default=None, alias="startsAt")
    ends_at: str | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL")
    fingerprint: str | None = None


class WebhookPayload(BaseModel):
    """The body Alertmanager POSTs to a webhook receiver (``version: "4"``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = "4"
    status: str = "firing"
    receiver: str = ""
    group_key: str = Field(default="", alias="groupKey")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert] = Field(default_factory=list, max_length=1000)


class AlertIncident(BaseModel):
    """A firing alert ready to investigate: the incident, the service, and a de-duplication key."""

    incident: Incident
    service: str
    key: str


class Skipped(BaseModel):
    alert: str
    reason: str


def parse_payload(data: Any) -> WebhookPayload:
    """Validate a webhook body; a clear :class:`InputError` naming the field when it is not one."""
    if not isinstance(data, dict):
        raise InputError("alertmanager payload: expected a JSON object")
    version = str(data.get("version", "4"))
    if version != "4":
        raise InputError(f"alertmanager payload: version {version!r} is not supported (expected \"4\")")
    try:
        return WebhookPayload.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"alertmanager payload: {where}: {err['msg']}") from None


def _starts_at(alert: WebhookAlert, now: float) -> float:
    if not alert.starts_at:
        return now
    try:
        stamp = parse_timestamp(alert.starts_at)
    except (ValueError, TypeError, InputError):
        raise InputError(f"alertmanager payload: alerts.startsAt: not a timestamp: {alert.starts_at!r}") from None
    return min(stamp, now)


def alert_incidents(payload: WebhookPayload, *, lookback: float = 3600.0, now: float | None = None,
                    service_labels: tuple[str, ...] = DEFAULT_SERVICE_LABELS,
                    ) -> tuple[list[AlertIncident], list[Skipped]]:
    """The incidents of the payload's firing alerts, and the alerts skipped with why."""
    now = time.time() if now is None else now
    out: list[AlertIncident] = []
    skipped: list[Skipped] = []
    for alert in payload.alerts:
        labels = {**payload.common_labels, **alert.labels}
        name = labels.get("alertname", "alert")
        if alert.status != "firing":
            skipped.append(Skipped(alert=name, reason=f"status {alert.status}"))
            continue
        service = next((labels[k] for k in service_labels if labels.get(k)), None)
        if service is None:
            skipped.append(Skipped(alert=name, reason=f"no service label (looked for {', '.join(service_labels)})"))
            continue
        start = _starts_at(alert, now)
        out.append(AlertIncident(incident=_incident(alert, labels, name, service, start, lookback, now),
                                 service=service, key=_key(alert, labels, start)))
    return out, skipped


def _incident(alert: WebhookAlert, labels: dict[str, str], name: str, service: str, start: float,
              lookback: float, now: float) -> Incident:
    ann = {k: redact(v) for k, v in alert.annotations.items()}  # alert text is untrusted: no secrets onward
    title = ann.get("summary") or f"{name} on {service}"
    begin = start - lookback
    fingerprint = (alert.fingerprint or _key(alert, labels, start))[:16]
    return Incident(
        id=f"alert-{name}-{service}-{fingerprint}"[:120],
        title=title[:300],
        detected_at=to_datetime(start),
        window=TimeRange.from_epoch(begin, max(now, start)),
        baseline=TimeRange.from_epoch(begin - lookback, begin),
        symptom=Symptom(service=service, description=(ann.get("description") or None),
                        alert=Alert(name=name, labels={k: redact(v) for k, v in labels.items()})),
    )


def _key(alert: WebhookAlert, labels: dict[str, str], start: float) -> str:
    ident = alert.fingerprint or hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    return f"{ident}@{int(start)}"
