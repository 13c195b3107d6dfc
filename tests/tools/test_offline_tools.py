import re

from day2ai.tools import evidence
from day2ai.tools.base import Investigation
from day2ai.tools.changes import recent_changes
from day2ai.tools.logs import log_patterns, search_logs
from day2ai.tools.metrics import metric_anomalies, metric_series
from day2ai.tools.rca import rank_root_causes
from day2ai.tools.topology import dependencies
from day2ai.tools.traces import trace_summary
from tests.agent.offline_synth import make_world, sources

IDS = re.compile(r"\[e\d+\]")


def _inv(without: tuple[str, ...] = (), fault: str = "cpu_saturation", root: str = "payments") -> Investigation:
    world = make_world(fault, root, seed=4)
    return Investigation(incident=world.incident, sources=sources(world, without=without))


async def test_tools_cite_evidence_ids_and_record_steps() -> None:
    inv = _inv(fault="dependency_failure", root="payments-db")
    text = await metric_anomalies(inv, limit=5)
    assert IDS.search(text) and "payments" in text
    assert IDS.search(await log_patterns(inv))
    assert IDS.search(await trace_summary(inv, service="payments"))
    ranked = await rank_root_causes(inv)
    assert ranked.startswith("1. payments-db dependency_failure")
    assert [s.name for s in inv.timeline] == [
        "metric_anomalies",
        "log_patterns",
        "trace_summary",
        "rank_root_causes",
    ]
    assert all(s.kind == "tool" for s in inv.timeline)
    cited = set(re.findall(r"e\d+", text))
    assert cited <= {e.id for e in inv.evidence}


async def test_each_source_is_read_once() -> None:
    inv = _inv()
    calls = {"n": 0}
    src = inv.sources.logs
    assert src is not None
    orig = src.logs

    def counting(q):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return orig(q)

    src.logs = counting  # type: ignore[method-assign]
    await log_patterns(inv)
    await log_patterns(inv, service="checkout")
    await rank_root_causes(inv)
    assert calls["n"] == 1


async def test_same_finding_is_registered_once() -> None:
    inv = _inv()
    a = await evidence.evidence_for(inv, "metric:payments:cpu")
    b = await evidence.evidence_for(inv, "metric:payments:cpu")
    assert a is not None and a is b and len(inv.evidence) == 1
    assert await evidence.evidence_for(inv, "metric:nowhere:cpu") is None
    assert await evidence.evidence_for(inv, "bogus") is None


async def test_bad_arguments_give_actionable_errors_not_exceptions() -> None:
    inv = _inv()
    assert (await metric_anomalies(inv, kind="banana")).startswith("ERROR: unknown metric kind")
    assert "No metrics for service" in await metric_anomalies(inv, service="nope")
    assert "No series" in await metric_series(inv, service="payments", metric="nope")
    assert "payments" in await metric_series(inv, service="payments", metric="cpu_usage_ratio", points=4)
    assert "Unknown component" in await dependencies(inv, service="nope")
    assert "ERROR" in await search_logs(inv, text=" ")


async def test_missing_sources_answer_plainly_and_become_gaps() -> None:
    inv = _inv(without=("logs", "traces", "changes", "topology"))
    assert await log_patterns(inv) == "No log lines available."
    assert await trace_summary(inv) == "No spans available."
    assert await recent_changes(inv) == "No change log available."
    assert await search_logs(inv, text="x") == "No logs source."
    assert "payments" in await rank_root_causes(inv)
    assert {"logs", "traces", "topology"} <= {g.source for g in inv.gaps}


async def test_search_and_dependencies() -> None:
    inv = _inv()
    assert "handled request" in await search_logs(inv, text="handled", service="payments", limit=3)
    deps = await dependencies(inv, service="payments")
    assert "checkout" in deps and "payments-db" in deps
    assert "components" in await dependencies(inv)
    assert "deploy" in await recent_changes(inv) or "config" in await recent_changes(inv)
