import pytest

from day2ai.analysis.graph import CallGraph, infer_kind, kind_from_system
from day2ai.analysis.periods import Periods
from day2ai.analysis.traces import TraceAccumulator
from day2ai.models import ComponentKind as K


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("orders-db", K.DATABASE),
        ("orders-db-primary", K.DATABASE),
        ("cart-redis-0", K.CACHE),
        ("sessions-cache", K.CACHE),
        ("inventory-mongo", K.DATABASE),
        ("events-kafka", K.QUEUE),
        ("api.stripe.com", K.EXTERNAL),
        ("payments", None),
        ("queue-worker", None),
        ("db-proxy", None),
        ("orders.prod.svc.cluster.local", None),
        ("10.0.0.12", None),
    ],
)
def test_kind_from_naming_conventions(name: str, kind: K | None) -> None:
    assert infer_kind(name) is kind


def test_kind_from_span_systems_wins_over_names() -> None:
    assert kind_from_system("postgresql") is K.DATABASE
    assert kind_from_system("redis") is K.CACHE
    assert kind_from_system("kafka") is K.QUEUE
    assert kind_from_system("http") is None
    acc = TraceAccumulator()
    for i in range(3):
        acc.add(
            "t", f"s{i}", None, "api", "query", float(i), 5.0, "ok", {"db.system": "redis", "net.peer.name": "store"}
        )
    ta = acc.analyze(Periods(baseline_start=0, baseline_end=1, incident_start=1, incident_end=3, onset=1))
    assert ta.peer_kinds == {"store": K.CACHE}
    g = CallGraph(kinds={"payments": K.SERVICE})
    g.add_all([("payments", "store"), ("payments", "orders-db"), ("payments", "fraud")], "traces")
    g.complete_kinds(ta.peer_kinds)
    assert g.kinds == {"payments": K.SERVICE, "store": K.CACHE, "orders-db": K.DATABASE}
