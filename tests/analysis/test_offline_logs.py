import pytest

from day2ai.analysis.logs import LogAccumulator, call_site, span_ref
from day2ai.analysis.periods import Periods
from day2ai.analysis.signatures import ComponentMatcher, fault_hints, is_errorish
from day2ai.models import Fault

P = Periods(baseline_start=0, baseline_end=600, incident_start=600, incident_end=1200, onset=600)


def _feed(acc: LogAccumulator) -> None:
    for t in range(0, 1200, 2):
        acc.add(float(t), "api", f"handled request {t} in {t % 50}ms", "INFO")
        if t >= 700:
            acc.add(float(t), "api", f"call to orders-db.prod.svc:5432 failed: timeout after {t % 9}s", "ERROR")
        if t % 100 == 0:
            acc.add(float(t), "worker", f"job {t} done", None)
        if t >= 800 and t % 4 == 0:
            acc.add(float(t), "worker", f"job {t} done", None)


def test_new_error_template_with_peer_and_hint() -> None:
    acc = LogAccumulator(start=0.0)
    _feed(acc)
    la = acc.analyze(P, components=["api", "worker", "orders-db"])
    prof = la.profiles["api"]
    top = prof.templates[0]
    assert top.is_new and top.is_error and top.level == "ERROR"
    assert top.incident_count == 250 and top.baseline_count == 0
    assert "orders-db" in top.mentions
    assert Fault.NETWORK_DELAY in top.hints
    assert prof.mentions["orders-db"] > 0
    assert prof.error_ratio_baseline == 0.0 and prof.error_ratio_incident > 0.3
    assert prof.onset is not None and 690.0 <= prof.onset <= 720.0


def test_rate_change_without_errors_is_notable_but_not_error() -> None:
    acc = LogAccumulator(start=0.0)
    _feed(acc)
    prof = acc.analyze(P, components=[]).profiles["worker"]
    assert prof.score == 0.0
    assert prof.templates and prof.templates[0].score > 5 and not prof.templates[0].is_new


def test_unchanged_template_is_not_notable() -> None:
    acc = LogAccumulator(start=0.0)
    for t in range(0, 1200, 2):
        acc.add(float(t), "api", f"handled request {t}", "INFO")
    assert acc.analyze(P).profiles["api"].templates == []


def test_fault_hints_and_errorish() -> None:
    assert Fault.CERTIFICATE_EXPIRY in fault_hints("x509: certificate has expired or is not yet valid")
    assert Fault.CONNECTION_POOL_EXHAUSTION in fault_hints("timeout waiting for idle connection from pool")
    assert Fault.DISK_FULL in fault_hints("write /var/log/app.log: no space left on device")
    assert fault_hints("user logged in") == []
    assert is_errorish("connection refused") and not is_errorish("request handled")


def test_component_matcher_known_and_hosts() -> None:
    m = ComponentMatcher(["payments", "orders-db", "ui"])
    assert m.known("dial tcp payments.default.svc.cluster.local:8080: connection refused") == ["payments"]
    assert m.known("orders_db is slow, payments too", exclude="payments") == ["orders-db"]
    assert m.hosts("POST https://api.stripe.com/v1/charges failed") == ["api.stripe.com"]
    assert m.hosts("dial tcp 10.0.0.3:5432: i/o timeout") == []


def test_url_user_names_are_not_hosts() -> None:
    m = ComponentMatcher(["api", "db-payments"])
    line = "connection to postgresql://payuser:s3cret@db-payments:5432/pay failed"
    assert m.hosts(line) == []
    assert m.known(line) == ["db-payments"]
    assert m.hosts("redis://cacheuser:12345@cache-7.internal:6379/0 refused") == ["cache-7.internal"]
    assert m.hosts("GET https://admin@status.example.com/health timed out") == ["status.example.com"]


@pytest.mark.parametrize(
    ("line", "site"),
    [
        ("18:27:34.224 INFO  t.s.TravelServiceImpl#366 TraceID: 1ad6 [getTickets]", "t.s.TravelServiceImpl#366"),
        (
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:2181:FastLeaderElection@774] - x",
            "FastLeaderElection@774",
        ),
        ("I0129 10:00:00.000123 1 controller.go:123] syncing", "controller.go:123"),
        ("INFO  PaymentHandler:88 - charged", "PaymentHandler:88"),
        ("2026-03-14 10:00:00,123 INFO app/views.py:42 request done", "app/views.py:42"),
        ("connected to db-1:5432 after 3 retries", ""),  # a host and port, not a call site
        ("user 42 logged in", ""),
        ("x" * 130 + " Foo#12", ""),  # past the header
    ],
)
def test_the_call_site_in_a_log_header_is_found(line: str, site: str) -> None:
    assert call_site(line) == site


def test_trace_links_carry_the_call_site() -> None:
    acc = LogAccumulator(start=0.0)
    acc.add(1.0, "pricing", "10:00:00.1 INFO  c.s.PriceService#46 [price][computed][item 7]", "INFO", "t1")
    acc.add(2.0, "pricing", "10:00:00.2 INFO  c.s.PriceService#40 [price][computed][item 8]", "INFO", "t2")
    (_, _, tid1, site1, at1, _), (_, _, tid2, site2, at2, _) = acc.trace_links
    assert tid1 == tid2 and (site1, site2) == ("c.s.PriceService#46", "c.s.PriceService#40")
    assert (at1, at2) == (1.0, 2.0)


@pytest.mark.parametrize(
    ("line", "attributes", "span"),
    [
        ("16:48:42.424 INFO  t.s.Impl#532 TraceID: 49a5 SpanID: 083e5d40259e7999 [x]", None, "083e5d40259e7999"),
        ('level=info span_id=00F067AA0BA902B7 msg="charged"', None, "00F067AA0BA902B7"),
        ('{"spanId": "00f067aa0ba902b7", "msg": "x"}', None, "00f067aa0ba902b7"),
        ("charged card SpanID: 083e5d40259e7999", {"span_id": "abc123"}, "abc123"),  # the record's own field wins
        ("order 083e5d40259e7999 shipped", None, ""),  # a hex number is not a span id
        ("spanid: 12ab", None, ""),  # too short for a span id
    ],
)
def test_the_span_that_wrote_a_line_is_read_from_its_attributes_or_header(
    line: str, attributes: dict[str, str] | None, span: str
) -> None:
    assert span_ref(line, attributes) == span
    acc = LogAccumulator(start=0.0)
    acc.add(1.0, "pricing", line, "INFO", "t1", attributes)
    assert acc.trace_links[0][5] == span
