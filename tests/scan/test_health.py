from __future__ import annotations

import pytest

from day2ai.scan.health import figures, health, trends
from day2ai.scan.models import HealthFigures
from day2ai.sources.history import AlertRecord, ChangeRecord, IncidentRecord
from tests.scan.helpers import DAY, START, history, site

MIN = 60.0
HOUR = 3600.0


def _incidents() -> list[IncidentRecord]:
    # first half: MTTR 30 and 60; second half: 90, 120, 150 (minutes)
    spec = [(1, 5, 30, "chg-1"), (5, 10, 60, None), (12, 2, 90, None), (15, 4, 120, "chg-3"), (18, None, 150, None)]
    return [IncidentRecord(id=f"I{i}", service="api", severity="sev2" if i % 2 else "sev3",
                           opened_at=START + day * DAY,
                           acknowledged_at=None if ack is None else START + day * DAY + ack * MIN,
                           resolved_at=START + day * DAY + res * MIN, change_id=chg)
            for i, (day, ack, res, chg) in enumerate(spec)]


def _changes() -> list[ChangeRecord]:
    out = [ChangeRecord(timestamp=START + d * DAY + HOUR, service="api", kind="deploy", summary="d", id=f"chg-{d}",
                        first_commit_at=START + d * DAY + HOUR - lead * HOUR)
           for d, lead in ((0, 10), (1, 20), (3, 30), (11, 40))]
    out.append(ChangeRecord(timestamp=START + 2 * DAY, service="api", kind="deploy", summary="s", id="stg",
                            environment="staging"))
    out.append(ChangeRecord(timestamp=START + 2 * DAY, service="api", kind="config", summary="c", id="cfg"))
    return out


def _alerts() -> list[AlertRecord]:
    # Europe/Berlin is UTC+1 in January: 21:30Z = 22:30 local (night), 05:30Z = 06:30 (night), 12:00Z day
    return [AlertRecord(alert="A", service="api", severity="page", fired_at=START + 21.5 * HOUR, acknowledged=True),
            AlertRecord(alert="A", service="api", severity="page", fired_at=START + DAY + 5.5 * HOUR),
            AlertRecord(alert="A", service="api", severity="page", fired_at=START + 2 * DAY + 12 * HOUR),
            AlertRecord(alert="B", service="api", severity="ticket", fired_at=START + 15 * DAY, incident_id="I3")]


def _history() -> object:
    s = site(days=20, oncall={"timezone": "Europe/Berlin", "night": "22:00-07:00"})
    return history(s, incidents=_incidents(), changes=_changes(), alerts=_alerts())


def test_whole_period_figures() -> None:
    h = _history()
    f = figures(h, h.site.period.start, h.site.period.end)  # type: ignore[attr-defined]
    assert f.incidents == 5 and f.incidents_by_severity == {"sev1": 0, "sev2": 2, "sev3": 3, "sev4": 0}
    assert f.mtta_minutes_median == pytest.approx(4.5) and f.mtta_minutes_mean == pytest.approx(21 / 4)
    assert f.mttr_minutes_median == 90 and f.mttr_minutes_mean == 90
    assert f.deploys_per_day == pytest.approx(4 / 20)
    assert f.lead_time_hours_median == pytest.approx(25)
    assert f.change_failure_rate == pytest.approx(2 / 4)  # chg-1 and chg-3 of four production deploys
    assert f.failed_deployment_recovery_hours_median == pytest.approx(((30 + 120) / 2) / 60)
    assert f.alerts_per_week == pytest.approx(4 / (20 / 7))
    assert (f.pages, f.night_pages) == (3, 2)
    assert f.unactioned_alert_ratio == pytest.approx(2 / 4)


def test_halves_and_named_trend() -> None:
    sc, _ = health(_history())  # type: ignore[arg-type]
    first, second = sc.halves
    assert (first.incidents, second.incidents) == (2, 3)
    assert (first.mttr_minutes_median, second.mttr_minutes_median) == (45, 120)
    assert "MTTR rising: 45 -> 120 min (worse)" in sc.trends


def test_missing_files_give_null_figures_and_gaps() -> None:
    h = history(site(), incidents=_incidents())
    sc, gaps = health(h)
    assert sc.incidents == 5
    assert sc.deploys_per_day is None and sc.alerts_per_week is None and sc.pages is None
    assert {g[0] for g in gaps} >= {"changes", "alerts"}


def test_steady_figures_have_no_trend() -> None:
    a = HealthFigures(start="a", end="b", mttr_minutes_median=100.0, incidents=10)
    b = HealthFigures(start="b", end="c", mttr_minutes_median=105.0, incidents=3)
    assert trends(a, b) == ["Incidents falling: 10 -> 3 (better)"]
