"""Record live backends into a bundle, then replay it: the same hypotheses as the live run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from day2ai.agent.offline import OfflineInvestigator
from day2ai.errors import InputError
from day2ai.models import Report
from day2ai.sources.base import MetricQuery, Sources
from day2ai.sources.bundle import load_bundle, validate_bundle
from day2ai.sources.config import close_sources, live_incident
from day2ai.sources.record import record_bundle
from tests.sources.servers.prom import PrometheusServer
from tests.sources.servers.scenario import SERVICES, Scenario
from tests.sources.servers.site import TOKENS, SplitTransport, live_site, mock_transport

pytestmark = pytest.mark.prometheus


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in TOKENS.items():
        monkeypatch.setenv(k, v)


def hypotheses(report: Report) -> list[tuple[str, str, float, str]]:
    return [(h.service, h.fault.value, round(h.confidence, 6), h.summary) for h in report.hypotheses]


async def test_record_then_replay_gives_the_live_hypotheses(
    prometheus: PrometheusServer, scenario: Scenario, tmp_path: Path, env: None
) -> None:
    site = live_site(prometheus.url)
    incident = live_incident("frontend", "1h", now=scenario.end)
    transport = SplitTransport(mock_transport(scenario))

    live_sources = site.build_sources(transport=transport)
    live = await OfflineInvestigator().investigate(incident, live_sources)
    await close_sources(live_sources)

    record_sources = site.build_sources(transport=transport)
    summary = await record_bundle(incident, record_sources, tmp_path / "bundle")
    await close_sources(record_sources)
    await transport.aclose()

    assert summary.gaps == [] and summary.counts["logs"] > 100 and summary.counts["changes"] == 1
    assert summary.counts["metrics"] >= 3 * len(SERVICES)
    assert validate_bundle(tmp_path / "bundle") == []
    assert not (tmp_path / "bundle" / "truth.yaml").exists()
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.incident == incident and set(bundle.files) == {"metrics", "logs", "traces", "changes"}

    replay = await OfflineInvestigator().investigate(bundle.incident, bundle.sources)
    assert live.hypotheses, live.gaps
    assert hypotheses(replay) == hypotheses(live)
    assert [e.summary for e in replay.evidence] == [e.summary for e in live.evidence]
    assert "payments" in live.ranked_services()[:2]
    text = live.model_dump_json() + replay.model_dump_json()
    assert not any(secret in text for secret in TOKENS.values())


async def test_recorded_metrics_match_what_the_live_source_returns(
    prometheus: PrometheusServer, scenario: Scenario, tmp_path: Path, env: None
) -> None:
    site = live_site(prometheus.url)
    incident = live_incident("payments", "30m", now=scenario.end)
    sources = Sources(metrics=site.build_sources().metrics, names={"metrics": "prometheus"})
    summary = await record_bundle(incident, sources, tmp_path / "b", lookback=0)
    assert [g.source for g in summary.gaps] == ["logs", "traces", "changes"]
    bundle = load_bundle(tmp_path / "b")
    q = MetricQuery(
        start=incident.baseline.start_s,
        end=incident.window.end_s,  # type: ignore[union-attr]
        names=("request_error_ratio",),
    )
    assert sources.metrics is not None and bundle.sources.metrics is not None
    live = sorted([(s.service, s.timestamps, s.values) async for s in sources.metrics.series(q)])
    replayed = sorted([(s.service, s.timestamps, s.values) async for s in bundle.sources.metrics.series(q)])
    assert live == replayed and len(live) == len(SERVICES)
    manifest = yaml.safe_load((tmp_path / "b" / "recording.yaml").read_text())
    assert manifest["counts"]["metrics"] == summary.counts["metrics"] and manifest["backends"] == {
        "metrics": "prometheus"
    }
    await close_sources(sources)


async def test_failing_backend_leaves_a_partial_bundle_with_the_gap_named(
    scenario: Scenario, tmp_path: Path, env: None
) -> None:
    site = live_site("http://127.0.0.1:9")  # nothing listens on the discard port
    incident = live_incident("frontend", "1h", now=scenario.end)
    sources = site.build_sources(transport=SplitTransport(mock_transport(scenario)))
    summary = await record_bundle(incident, sources, tmp_path / "b")
    assert [g.source for g in summary.gaps] == ["metrics (prometheus)"]
    assert "cannot connect" in summary.gaps[0].reason and summary.counts["metrics"] == 0
    assert validate_bundle(tmp_path / "b") == []
    assert summary.counts["logs"] > 0 and summary.counts["traces"] > 0
    with pytest.raises(InputError, match="not empty"):
        await record_bundle(incident, sources, tmp_path / "b")
    again = await record_bundle(incident, sources, tmp_path / "b", overwrite=True)
    assert again.counts == summary.counts
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a bundle directory"):
        await record_bundle(incident, sources, tmp_path / "other", overwrite=True)
    await close_sources(sources)
