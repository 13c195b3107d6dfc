import itertools
from pathlib import Path

import pytest

from day2ai.agent.base import Investigator
from day2ai.agent.offline import OfflineInvestigator
from day2ai.models import Fault
from day2ai.sources.bundle import load_bundle
from day2ai.tokens import count_tokens
from tests.agent.offline_synth import make_world, sources, write_bundle

CASES = [
    ("cpu_saturation", "payments"),
    ("memory_leak", "catalog"),
    ("code_error", "checkout"),
    ("dependency_failure", "payments-db"),
]


def test_is_an_investigator() -> None:
    assert isinstance(OfflineInvestigator(), Investigator)


@pytest.mark.parametrize(("fault", "root"), CASES)
async def test_finds_root_cause_and_fault(fault: str, root: str) -> None:
    world = make_world(fault, root, seed=7)
    report, dossier = await OfflineInvestigator().triage(world.incident, sources(world))
    top = report.hypotheses[0]
    assert top.service == root and top.fault is Fault(fault)
    ids = {e.id for e in report.evidence}
    assert top.supporting and set(top.supporting) <= ids
    assert top.remediations and all(r.requires_approval or r.risk == "low" for r in top.remediations)
    assert report.timeline and any(s.name == "rank_root_causes" for s in report.timeline)
    assert report.usage.tool_calls >= 5
    assert root in dossier and count_tokens(dossier) <= 3000
    assert report.hypotheses[0].confidence >= report.hypotheses[-1].confidence


KINDS = ("metrics", "logs", "traces", "changes", "topology")
SUBSETS = [s for r in range(0, 5) for s in itertools.combinations(KINDS, r)]


@pytest.mark.parametrize("without", SUBSETS, ids=lambda s: "without-" + ("-".join(s) or "nothing"))
async def test_any_subset_of_sources_works_and_names_its_gaps(without: tuple[str, ...]) -> None:
    world = make_world("dependency_failure", "payments-db", seed=3)
    report = await OfflineInvestigator().investigate(world.incident, sources(world, without=without))
    gap_sources = {g.source for g in report.gaps}
    assert set(without) <= gap_sources
    if {"traces", "logs"} - set(without):  # the db is only visible through its callers' spans or logs
        assert report.hypotheses
        assert "payments-db" in report.ranked_services()[:3]


async def test_no_sources_at_all_gives_an_empty_report_with_gaps() -> None:
    world = make_world("cpu_saturation", "payments")
    report = await OfflineInvestigator().investigate(world.incident, sources(world, without=KINDS))
    assert report.hypotheses == []
    assert {g.source for g in report.gaps} >= set(KINDS)


async def test_bundle_on_disk_with_gzip_and_explicit_baseline(tmp_path: Path) -> None:
    world = make_world("memory_leak", "catalog", seed=5, baseline=True)
    bundle = load_bundle(write_bundle(world, tmp_path / "b", gz=True))
    report = await OfflineInvestigator().investigate(bundle.incident, bundle.sources)
    assert report.hypotheses[0].service == "catalog"
    assert any("(given)" in n for n in report.notes)


async def test_deploy_right_before_onset_is_typed_bad_deploy() -> None:
    world = make_world("code_error", "checkout", seed=11, with_deploy=True)
    report = await OfflineInvestigator().investigate(world.incident, sources(world))
    assert report.hypotheses[0].service == "checkout"
    assert report.hypotheses[0].fault is Fault.BAD_DEPLOY


class _Hit:
    ref = "runbooks/payments.md#cpu"


class _KB:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def runbook_for(self, service: str, fault: Fault) -> _Hit:
        self.asked.append((service, str(fault)))
        return _Hit()


async def test_runbooks_come_from_the_knowledge_base() -> None:
    world = make_world("cpu_saturation", "payments", seed=2)
    kb = _KB()
    report = await OfflineInvestigator(max_hypotheses=2).investigate(world.incident, sources(world), knowledge=kb)
    assert kb.asked[0] == ("payments", "cpu_saturation")
    assert report.hypotheses[0].remediations[0].runbook == "runbooks/payments.md#cpu"


async def test_listeners_receive_events() -> None:
    world = make_world("cpu_saturation", "payments", seed=2)
    events: list[str] = []
    await OfflineInvestigator().investigate(world.incident, sources(world), listeners=[lambda e, _p: events.append(e)])
    assert "tool_called" in events and "evidence_added" in events


SMOKE = Path(__file__).resolve().parents[2] / "evals" / "suites" / "smoke"


@pytest.mark.slow
@pytest.mark.skipif(not SMOKE.is_dir(), reason="smoke suite not present")
async def test_smoke_suite_end_to_end() -> None:
    from day2ai.sources.bundle import read_truth

    cases = sorted(p for p in SMOKE.iterdir() if (p / "incident.yaml").is_file())
    assert cases
    hits = 0
    for path in cases:
        bundle = load_bundle(path)
        report, dossier = await OfflineInvestigator().triage(bundle.incident, bundle.sources)
        ids = {e.id for e in report.evidence}
        assert report.hypotheses, path.name
        for h in report.hypotheses:
            assert h.supporting and set(h.supporting) <= ids and set(h.contradicting) <= ids
        assert count_tokens(dossier) <= 3000
        truth = read_truth(path)
        assert truth is not None
        hits += truth.root_cause.service in report.ranked_services()[:3]
    assert hits / len(cases) >= 0.6
