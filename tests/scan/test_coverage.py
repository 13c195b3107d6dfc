from __future__ import annotations

import numpy as np

from day2ai.scan.coverage import observability_gaps, stale_runbooks
from day2ai.sources.history import AlertRecord, ChangeRecord, Document
from tests.scan.helpers import DAY, START, history, series, site, times

T = times(3, 3600)


def _services() -> list[dict[str, object]]:
    return [
        {"name": "api", "tier": 1, "runbook": "runbooks/api.md", "alerts": ["ApiDown"], "depends_on": ["db", "mail"],
         "telemetry": ["metrics", "logs", "traces"]},
        {"name": "db", "tier": 2, "runbook": "runbooks/db.md", "telemetry": ["metrics", "logs"]},
        {"name": "batch", "tier": 3, "alerts": ["BatchLate"]},
    ]


def test_gaps_list_what_each_service_lacks() -> None:
    h = history(site(services=_services()),
                metrics=[series("request_rate", T, np.ones(T.size), "api"),
                         series("client_error_ratio", T, np.zeros(T.size), "api", peer="mail"),
                         series("request_rate", T, np.ones(T.size), "batch")],
                alerts=[AlertRecord(alert="X", service="db", severity="page", fired_at=START)])
    h.documents = [Document("runbooks/api.md", "# api", {})]
    out = {f.service: f.missing for f in observability_gaps(h)}
    # db: no metrics series, no traces declared, no alert rule but one fired, runbook file absent
    assert out["db"] == ["metrics", "traces", "runbook"]
    # batch: no declared telemetry (not guessed), no runbook declared nor file
    assert out["batch"] == ["runbook"]
    assert "api" not in out
    assert out["mail"] == ["metrics", "logs", "traces"]  # called, not in site.yaml, emits nothing


def test_complete_service_has_no_gap() -> None:
    h = history(site(services=_services()[:1]), metrics=[series("request_rate", T, np.ones(T.size), "api")])
    h.documents = [Document("runbooks/api.md", "# api", {})]
    assert observability_gaps(h) == []


def _rb(text: str, **meta: object) -> Document:
    return Document("runbooks/api.md", text, dict(meta))


def test_stale_runbook_names_gone_services_and_metrics() -> None:
    h = history(site(services=_services()), metrics=[series("api_requests_total", T, np.ones(T.size), "api")],
                changes=[ChangeRecord(timestamp=START + DAY, service="old-billing", kind="infra", summary="retire")])
    h.documents = [_rb("Restart: `kubectl rollout restart deploy/api-v1`\n"
                       "Ask old-billing owners.\nWatch `rate(api_requests_total[5m])`, `api_queue_depth_total` "
                       "and `node_cpu_seconds_total`.")]
    [f] = stale_runbooks(h)
    text = " ".join(e.summary for e in f.evidence)
    assert f.service == "api" and f.runbook == "runbooks/api.md"
    assert "'api-v1'" in text and "'old-billing'" in text and "'api_queue_depth_total'" in text
    assert "node_cpu" not in text and "'api_requests_total'" not in text


def test_current_runbook_is_not_stale_and_dates_are_checked() -> None:
    h = history(site(services=_services()), metrics=[series("api_requests_total", T, np.ones(T.size), "api")],
                changes=[ChangeRecord(timestamp=START + DAY, service="api", kind="infra", summary="new cluster")])
    h.documents = [_rb("`kubectl -n x get pods -l app=api` and `api_requests_total`", updated="2026-01-05")]
    assert stale_runbooks(h) == []
    h.documents = [_rb("fine", updated="2025-12-01")]
    [f] = stale_runbooks(h)
    assert "infrastructure change" in f.summary


def test_external_peers_are_not_gaps() -> None:
    h = history(site(services=_services()[:1]),
                metrics=[series("request_rate", T, np.ones(T.size), "api"),
                         series("client_error_ratio", T, np.zeros(T.size), "api", peer="api.stripe.com")])
    h.documents = [Document("runbooks/api.md", "# api", {})]
    assert observability_gaps(h) == []
