from day2ai.analysis.periods import Periods
from day2ai.analysis.traces import TraceAccumulator, span_error, span_peer

P = Periods(baseline_start=0, baseline_end=600, incident_start=600, incident_end=1200, onset=600)


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
