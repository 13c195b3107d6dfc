from day2ai.analysis.periods import Periods
from day2ai.analysis.traces import TraceAccumulator, span_error, span_peer
from tests.analysis.factories import P, anomaly, edge


def _feed(acc: TraceAccumulator, *, status: bool = True) -> None:
    for i, t in enumerate(range(0, 1200, 5)):
        bad = t >= 600
        tid = f"t{i}"
        st = (lambda e: "error" if e else "ok") if status else (lambda e: None)
        attrs_err = (lambda e: {"http.status_code": 500 if e else 200}) if not status else (lambda e: {})
        acc.add(tid, "a", None, "web", "GET /", float(t), 130.0 if bad else 30.0, st(bad), attrs_err(bad))
        acc.add(tid, "b", "a", "api", "GET /x", float(t), 120.0 if bad else 20.0, st(bad), attrs_err(bad))
        acc.add(
            tid,
            "c",
            "b",
            "api",
            "SELECT",
            float(t),
            110.0 if bad else 10.0,
            st(bad),
            {"peer.service": "orders-db", "db.system": "postgresql", **attrs_err(bad)},
        )


def test_error_origin_and_peer_only_component() -> None:
    acc = TraceAccumulator()
    _feed(acc)
    ta = acc.analyze(P)
    db = ta.profiles["orders-db"]
    assert db.peer_only and db.origin_share == 1.0 and db.origin_errors == 120
    assert ta.profiles["api"].origin_errors == 0
    edges = {(e.caller, e.callee): e for e in ta.edges}
    assert set(edges) == {("web", "api"), ("api", "orders-db")}
    assert edges[("api", "orders-db")].peer_only
    assert edges[("api", "orders-db")].latency_z > 10
    assert edges[("api", "orders-db")].incident_error_rate == 1.0


def test_self_time_locates_the_latency() -> None:
    acc = TraceAccumulator()
    _feed(acc)
    ta = acc.analyze(P)
    assert abs(ta.profiles["web"].self_time_z) < 1 and abs(ta.profiles["api"].self_time_z) < 1
    assert ta.profiles["orders-db"].self_time_z > 10


def test_errors_inferred_without_status() -> None:
    acc = TraceAccumulator()
    _feed(acc, status=False)
    ta = acc.analyze(P)
    assert acc.statuses == 0 and ta.has_status
    assert ta.profiles["orders-db"].origin_share == 1.0


def test_span_error_and_peer_helpers() -> None:
    assert span_error("error", {}) is True
    assert span_error(None, {"http.status_code": "503"}) is True
    assert span_error(None, {"http.status_code": 404}) is False
    assert span_error(None, {"rpc.grpc.status_code": 14}) is True
    assert span_error(None, {}) is None
    assert span_peer({"http.url": "https://api.stripe.com/v1/x"}) == "api.stripe.com"
    assert span_peer({"peer.service": "payments"}) == "payments"
    assert span_peer({}) is None


def test_unknown_parents_are_roots() -> None:
    acc = TraceAccumulator()
    acc.add("t", "x", "missing-parent", "api", "GET", 700.0, 10.0, "ok", {})
    ta = acc.analyze(P)
    assert ta.edges == [] and ta.profiles["api"].incident_spans == 1


def test_time_lost_around_calls_points_at_the_path_to_one_callee() -> None:
    from day2ai.analysis.features import call_gaps
    from day2ai.analysis.traces import TraceAnalysis

    edges = [
        edge("ads", "users", 80.0),
        edge("ads", "orders", 0.5),
        edge("inventory", "users", 60.0),
        edge("cpu-bound", "a", 50.0),  # slow on every call: its own time, not the path
        edge("cpu-bound", "b", 50.0),
        edge("lonely", "c", 80.0),  # one caller, no other calls: cannot tell, counts half
    ]
    gaps = call_gaps(TraceAnalysis(spans=1, edges=edges, profiles={}, has_status=True, has_baseline=True))
    assert gaps[("ads", "users")] > 0.9 and gaps[("inventory", "users")] > 0.9
    assert gaps[("ads", "orders")] < 0.1
    assert gaps[("cpu-bound", "a")] < 0.05 and gaps[("cpu-bound", "b")] < 0.05
    assert 0.4 < gaps[("lonely", "c")] <= 0.5


def test_edges_carry_the_callers_time_around_the_call() -> None:
    from day2ai.analysis.traces import TraceAccumulator

    acc = TraceAccumulator()
    for i in range(200):
        t = float(i)
        wire = 300.0 if t >= 100 else 1.0  # the network adds 300 ms around each call after t=100
        acc.add(f"t{i}", "p", None, "api", "GET /", t, 20.0 + wire, "ok", {})
        acc.add(f"t{i}", "c", "p", "users", "GET /user", t, 10.0, "ok", {})
    ta = acc.analyze(Periods(baseline_start=0, baseline_end=100, incident_start=100, incident_end=200, onset=100))
    (e,) = ta.edges
    assert (e.caller, e.callee) == ("api", "users")
    assert abs(e.latency_z) < 1.0  # the callee's own spans did not get slower
    assert e.gap_z > 10.0


def test_a_callers_time_lost_around_one_callee_is_not_its_own_work() -> None:
    from day2ai.analysis.features import Signals, build_features
    from day2ai.analysis.traces import TraceAnalysis, TraceServiceProfile

    def profile(name: str, self_z: float) -> TraceServiceProfile:
        return TraceServiceProfile(
            service=name,
            baseline_spans=100,
            incident_spans=100,
            latency_z=self_z,
            self_time_z=self_z,
            baseline_self_ms=5.0,
            incident_self_ms=5.0 + self_z,
            baseline_error_rate=0.0,
            incident_error_rate=0.0,
            origin_errors=0,
            origin_share=0.0,
            origin_excess=0.0,
            onset=None,
        )

    traces = TraceAnalysis(
        spans=400,
        edges=[edge("ads", "users", 200.0), edge("ads", "orders", 0.0)],
        profiles={"ads": profile("ads", 200.0), "users": profile("users", 0.0), "orders": profile("orders", 0.0)},
        has_status=True,
        has_baseline=True,
    )
    feats = build_features(Signals(periods=P, traces=traces))
    assert feats["users"].gap_in > 0.9 and feats["orders"].gap_in < 0.1
    assert feats["ads"].self_time < 0.1  # its extra self time is the time around its calls to users


def test_network_delay_on_the_path_to_a_quiet_callee_ranks_the_callee_first() -> None:
    from day2ai.analysis.fusion import Signals, rank
    from day2ai.analysis.graph import CallGraph
    from day2ai.analysis.metrics import service_profiles
    from day2ai.analysis.traces import TraceAnalysis
    from day2ai.models import Fault

    g = CallGraph()
    g.add_all([("web", "ads"), ("web", "inventory"), ("ads", "users"), ("inventory", "users")], "traces")
    metrics = service_profiles(
        [
            anomaly("ads", "request_latency_p99_seconds", 60.0, 630.0),
            anomaly("inventory", "request_latency_p99_seconds", 50.0, 630.0),
            anomaly("web", "request_latency_p99_seconds", 40.0, 630.0),
            anomaly("users", "cpu_usage_ratio", 1.5, 630.0),
        ]
    )
    traces = TraceAnalysis(
        spans=1000,
        edges=[edge("ads", "users", 300.0), edge("inventory", "users", 250.0), edge("web", "ads", 0.0)],
        profiles={},
        has_status=True,
        has_baseline=True,
    )
    cands = rank(Signals(periods=P, graph=g, metrics=metrics, traces=traces, symptom="web"))
    assert cands[0].service == "users" and cands[0].fault is Fault.NETWORK_DELAY


def test_a_quiet_callee_with_time_lost_around_calls_to_it_is_not_treated_as_undated() -> None:
    from day2ai.analysis.fusion import _onset_factor

    assert _onset_factor(630.0, None) == 0.6  # no onset: partly trusted
    assert _onset_factor(630.0, None, gap=0.95) == 0.95  # its callers lose time around calls to it, now
    assert _onset_factor(630.0, 900.0, gap=0.95) == 0.25  # a dated, later onset still says victim-less


def test_a_span_is_found_by_its_id_as_a_log_line_prints_it() -> None:
    acc = TraceAccumulator()
    acc.add("t1", "00f067aa0ba902b7", None, "checkout", "POST /pay", 0.0, 5.0, None, {})
    assert acc.span_index("t1", "00f067aa0ba902b7") == 0
    assert acc.span_index("t1", "00F067AA0BA902B7") == 0  # a header may print it in capitals
    assert acc.span_index("t2", "00f067aa0ba902b7") == -1  # another trace
