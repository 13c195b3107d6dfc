import pytest

from day2ai.analysis.changes import score_changes
from day2ai.analysis.dossier import render_dossier
from day2ai.analysis.fusion import Features, Signals, fault_scores, rank, type_fault
from day2ai.analysis.graph import CallGraph
from day2ai.analysis.logs import LogAnalysis
from day2ai.analysis.metrics import MetricKind, service_profiles
from day2ai.analysis.remediation import suggest
from day2ai.models import (
    ChangeKind,
    ComponentKind,
    Evidence,
    EvidenceSource,
    Fault,
    Gap,
    Hypothesis,
    Incident,
)
from day2ai.sources.base import Change
from day2ai.tokens import count_tokens
from tests.analysis.factories import P
from tests.analysis.factories import anomaly as _a


def _chain() -> CallGraph:
    g = CallGraph()
    g.add_all([("web", "api"), ("api", "db"), ("web", "static")], "topology")
    return g


def test_loud_victim_loses_to_the_earlier_downstream_cause() -> None:
    anomalies = [
        _a("web", "request_latency_p99_seconds", 80.0, 700.0),
        _a("api", "request_latency_p99_seconds", 40.0, 660.0),
        _a("db", "cpu_usage_ratio", 15.0, 630.0),
        _a("static", "cpu_usage_ratio", 1.0, 900.0),
    ]
    sig = Signals(periods=P, graph=_chain(), metrics=service_profiles(anomalies))
    cands = rank(sig)
    assert cands[0].service == "db"
    assert cands[0].fault is Fault.CPU_SATURATION
    web = next(c for c in cands if c.service == "web")
    assert web.victim > 0.5 and web.contradicting
    assert 0.0 < cands[0].confidence <= 1.0
    assert cands[0].confidence > web.confidence


def test_without_graph_the_earliest_strong_anomaly_is_preferred() -> None:
    anomalies = [
        _a("web", "request_latency_p99_seconds", 30.0, 700.0),
        _a("db", "memory_working_set_bytes", 30.0, 620.0, ramp=0.95),
    ]
    cands = rank(Signals(periods=P, metrics=service_profiles(anomalies)))
    assert cands[0].service == "db" and cands[0].fault is Fault.MEMORY_LEAK


def test_fault_typing_from_signatures() -> None:
    f = Features(service="x", own_telemetry=True, hints={Fault.CERTIFICATE_EXPIRY: 0.9}, logs=0.9)
    assert type_fault(f)[0] is Fault.CERTIFICATE_EXPIRY
    ext = Features(service="db", kind=ComponentKind.DATABASE, edge_in=0.9)
    assert type_fault(ext)[0] is Fault.DEPENDENCY_FAILURE
    ch = score_changes([Change(timestamp=590.0, service="x", kind=ChangeKind.DEPLOY, summary="v2")], onset=600.0)[0]
    dep = Features(
        service="x",
        own_telemetry=True,
        logs=0.9,
        new_error_templates=2,
        change=ch,
        hints={Fault.CODE_ERROR: 0.9},
    )
    assert type_fault(dep)[0] is Fault.BAD_DEPLOY
    assert fault_scores(Features(service="q"))[Fault.DEPENDENCY_FAILURE] > 0  # no telemetry at all


def test_a_significant_pattern_shift_types_a_slow_service_as_code_error() -> None:
    # callers wait longer on it and its latency rose: a delay, unless its own requests changed paths
    slow = {"service": "x", "own_telemetry": True, "edge_in": 0.5, "edge_lat_in": 0.5, "gap_in": 0.5}
    assert type_fault(Features(**slow))[0] is Fault.NETWORK_DELAY
    weak = Features(**slow, pattern=0.13, pattern_share=1.0, pattern_conf=0.9999)  # z barely past the bound
    assert type_fault(weak)[0] is Fault.CODE_ERROR
    minor = Features(**slow, pattern=0.13, pattern_share=0.1, pattern_conf=0.9999)  # others changed far more
    assert type_fault(minor)[0] is Fault.NETWORK_DELAY
    # its new lines say its calls are slow: that is what a delay changes, not a code path
    talk = Features(**slow, pattern=0.13, pattern_share=1.0, pattern_conf=0.9999, hints={Fault.NETWORK_DELAY: 0.8})
    assert type_fault(talk)[0] is Fault.NETWORK_DELAY


def test_change_near_onset_breaks_a_tie() -> None:
    anomalies = [_a("a", "request_error_ratio", 20.0, 650.0), _a("b", "request_error_ratio", 20.0, 650.0)]
    changes = score_changes([Change(timestamp=560.0, service="b", kind=ChangeKind.CONFIG, summary="flag on")], 600.0)
    cands = rank(Signals(periods=P, metrics=service_profiles(anomalies), changes=changes))
    assert cands[0].service == "b" and cands[0].fault is Fault.CONFIG_ERROR


def test_no_anomalies_gives_no_candidates() -> None:
    assert rank(Signals(periods=P)) == []


def test_remediation_suggestions_need_approval_when_they_change_things() -> None:
    for fault in Fault:
        rems = suggest("api", fault)
        assert rems and all("api" in r.action for r in rems)
        assert all(r.requires_approval or r.risk == "low" for r in rems)
    assert any(r.requires_approval for r in suggest("api", Fault.BAD_DEPLOY))


def test_dossier_respects_the_token_budget_and_keeps_the_top_hypothesis() -> None:
    inc = Incident.model_validate({"id": "i", "title": "t", "detected_at": 900.0, "window": {"start": 0, "end": 1200}})
    ev = [
        Evidence(
            id=f"e{i}",
            source=EvidenceSource.LOGS,
            query="q",
            summary=f"line {i} " + "word " * 60,
            strength=i / 400,
        )
        for i in range(1, 300)
    ]
    hyps = [
        Hypothesis(
            service="db",
            fault=Fault.CPU_SATURATION,
            confidence=0.8,
            summary="cpu at db",
            supporting=["e1", "e2"],
        )
    ]
    text = render_dossier(inc, hyps, ev, [Gap(source="traces", reason="no traces")], max_tokens=800)
    assert count_tokens(text) <= 800
    assert "db - cpu_saturation" in text and "[e1]" in text and "no traces" in text
    assert "omitted" in text


def test_slow_dependency_with_flat_own_metrics_points_at_the_network() -> None:
    seen = {"edge_in": 0.95, "edge_lat_in": 0.95, "latency": 0.95, "self_time": 0.95}
    flat = Features(service="cart-redis", kind=ComponentKind.CACHE, own_telemetry=True, metric=0.1, **seen)
    assert type_fault(flat)[0] is Fault.NETWORK_DELAY
    busy = flat.model_copy(update={"up_kinds": {MetricKind.LATENCY: 0.9}, "metric_kinds": {MetricKind.LATENCY: 0.9}})
    assert type_fault(busy)[0] is Fault.DEPENDENCY_FAILURE  # slow on its own side
    cpu = busy.model_copy(update={"up_kinds": {MetricKind.LATENCY: 0.9, MetricKind.CPU: 1.0}})
    assert type_fault(cpu)[0] is Fault.CPU_SATURATION  # ... because its CPU is saturated
    third_party = Features(service="api.stripe.com", kind=ComponentKind.EXTERNAL, **seen)
    assert type_fault(third_party)[0] is Fault.DEPENDENCY_FAILURE
    refusing = flat.model_copy(update={"edge_lat_in": 0.0, "latency": 0.0, "edge_err_in": 0.9})
    assert type_fault(refusing)[0] is Fault.DEPENDENCY_FAILURE


def test_timeouts_to_a_datastore_are_not_a_code_error() -> None:
    db = Features(
        service="orders-db",
        kind=ComponentKind.DATABASE,
        origin=1.0,
        edge_in=1.0,
        edge_err_in=0.4,
        edge_lat_in=1.0,
        latency=1.0,
        caller_hints={Fault.NETWORK_DELAY: 0.9},
    )
    scores = fault_scores(db)
    assert scores[Fault.CODE_ERROR] == 0.0
    assert type_fault(db)[0] in (Fault.DEPENDENCY_FAILURE, Fault.NETWORK_DELAY)


def test_traffic_passed_on_by_callers_blames_the_entry_point() -> None:
    anomalies = [
        _a("web", "http_requests_total_rate", 12.0, 630.0),
        _a("api", "http_requests_total_rate", 12.0, 630.0),
        _a("api", "cpu_usage_ratio", 30.0, 630.0),
        _a("api", "request_latency_p99_seconds", 30.0, 630.0),
    ]
    cands = rank(Signals(periods=P, graph=_chain(), metrics=service_profiles(anomalies)))
    assert cands[0].service == "web" and cands[0].fault is Fault.TRAFFIC_SURGE
    api = next(c for c in cands if c.service == "api")
    assert api.victim >= 0.5


def test_components_off_the_symptom_path_are_discounted() -> None:
    g = _chain()
    g.add("batch", "store", "topology")
    anomalies = [
        _a("api", "request_error_ratio", 20.0, 630.0),
        _a("store", "request_error_ratio", 25.0, 630.0),
    ]
    sig = Signals(periods=P, graph=g, metrics=service_profiles(anomalies), symptom="web")
    cands = rank(sig)
    assert cands[0].service == "api"
    store = next(c for c in cands if c.service == "store")
    assert any("symptom" in r for r in store.reasons)
    assert rank(sig.model_copy(update={"symptom": None}))[0].service == "store"


def test_a_slow_dependency_does_not_explain_its_callers_crashes() -> None:
    anomalies = [
        _a("api", "container_restarts_total", 30.0, 630.0),
        _a("api", "request_error_ratio", 30.0, 630.0),
        _a("db", "cpu_usage_ratio", 30.0, 630.0),
        _a("db", "request_latency_p99_seconds", 30.0, 630.0),
    ]
    cands = rank(Signals(periods=P, graph=_chain(), metrics=service_profiles(anomalies)))
    assert cands[0].service == "api" and cands[0].fault is Fault.SERVICE_CRASH


def test_symptom_kind_from_alert_words() -> None:
    from day2ai.analysis.signatures import symptom_kind

    assert symptom_kind("31% of requests to web fail (5xx) for 5 minutes", "HighErrorRate") == "errors"
    assert symptom_kind("p99 latency above 1s", "HighLatencyP99") == "latency"
    assert symptom_kind("checkout is slow and failing") is None
    assert symptom_kind(None, "") is None


def test_an_error_alert_discounts_a_cause_that_makes_nothing_fail() -> None:
    anomalies = [
        _a("api", "request_error_ratio", 30.0, 630.0),
        _a("db", "cpu_usage_ratio", 40.0, 630.0),
        _a("db", "request_latency_p99_seconds", 40.0, 630.0),
    ]
    logs = LogAnalysis(profiles={}, lines=1000, templates=10)  # logs were read: failing calls would show
    sig = Signals(periods=P, graph=_chain(), metrics=service_profiles(anomalies), logs=logs, symptom="web")
    plain = {c.service: c.score for c in rank(sig)}
    errors = {c.service: c for c in rank(sig.model_copy(update={"symptom_kind": "errors"}))}
    assert errors["db"].score < plain["db"]
    assert any("fail" in r for r in errors["db"].reasons)
    assert errors["api"].score == plain["api"]  # its own errors answer the alert
    blind = sig.model_copy(update={"logs": None, "symptom_kind": "errors"})  # metrics only: no way to see it
    assert {c.service: c.score for c in rank(blind)}["db"] == {
        c.service: c.score for c in rank(blind.model_copy(update={"symptom_kind": None}))
    }["db"]


def test_a_dependency_its_callers_blame_by_name_wins_over_their_own_failures() -> None:
    from day2ai.analysis.logs import LogServiceProfile, TemplateChange
    from day2ai.analysis.traces import TraceAnalysis, TraceServiceProfile

    x509 = TemplateChange(
        service="api",
        template_id="T1",
        template='Post "<*>": tls: failed to verify certificate: x509: certificate has expired',
        example='Post "https://db:5000/": tls: failed to verify certificate: x509: certificate has expired',
        level="ERROR",
        baseline_count=0,
        incident_count=400,
        baseline_rate=0.0,
        incident_rate=40.0,
        is_new=True,
        is_error=True,
        score=300.0,
        first_seen=640.0,
        hints=[Fault.CERTIFICATE_EXPIRY],
        mentions=["db"],
        hosts=[],
    )
    prof = LogServiceProfile(
        service="api",
        score=300.0,
        error_ratio_baseline=0.0,
        error_ratio_incident=0.3,
        onset=640.0,
        templates=[x509],
        hints={Fault.CERTIFICATE_EXPIRY: 300.0},
        mentions={"db": 300.0},
    )
    api_spans = TraceServiceProfile(
        service="api",
        baseline_spans=500,
        incident_spans=500,
        latency_z=0.0,
        self_time_z=0.0,
        baseline_self_ms=5.0,
        incident_self_ms=5.0,
        baseline_error_rate=0.0,
        incident_error_rate=0.3,
        origin_errors=150,  # the failing TLS calls end in api's own spans
        origin_share=1.0,
        origin_excess=15.0,
        onset=640.0,
    )
    sig = Signals(
        periods=P,
        graph=_chain(),
        metrics=service_profiles(
            [_a("api", "request_error_ratio", 40.0, 640.0), _a("db", "request_rate", 20.0, 640.0, direction=-1)]
        ),
        logs=LogAnalysis(profiles={"api": prof}, lines=5000, templates=20),
        traces=TraceAnalysis(spans=1000, edges=[], profiles={"api": api_spans}, has_status=True, has_baseline=True),
        symptom="web",
    )
    cands = rank(sig)
    assert cands[0].service == "db" and cands[0].fault is Fault.CERTIFICATE_EXPIRY
    api = next(c for c in cands if c.service == "api")
    assert api.victim > 0.5


def test_a_change_is_scored_against_the_onset_of_the_component_it_touched() -> None:
    from day2ai.analysis.fusion import build_features

    anomalies = [_a("api", "request_error_ratio", 30.0, 610.0), _a("db", "request_error_ratio", 30.0, 1100.0)]
    changes = score_changes([Change(timestamp=1050.0, service="db", kind=ChangeKind.DEPLOY, summary="v2")], 600.0)
    assert changes[0].proximity < 0.5  # 7.5 minutes after the incident's first anomaly
    feats = build_features(Signals(periods=P, metrics=service_profiles(anomalies), changes=changes))
    db = feats["db"].change
    assert db is not None and db.proximity > 0.9 and db.minutes_before_onset == pytest.approx(0.8, abs=0.1)


def test_with_metrics_only_the_size_of_the_change_counts_more_than_a_slightly_earlier_onset() -> None:
    anomalies = [_a("a", "request_error_ratio", 40.0, 630.0), _a("b", "cpu_usage_ratio", 180.0, 700.0)]
    metrics_only = Signals(periods=P, metrics=service_profiles(anomalies))
    assert rank(metrics_only)[0].service == "b"
    g = CallGraph()
    g.add_all([("x", "a"), ("x", "b")], "topology")  # with a call graph, magnitude only breaks ties
    assert rank(metrics_only.model_copy(update={"graph": g}))[0].service == "a"
