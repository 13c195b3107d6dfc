from day2ai.analysis.changes import change_scores, score_changes, time_proximity
from day2ai.models import ChangeKind
from day2ai.sources.base import Change


def _ch(ts: float, svc: str, kind: ChangeKind = ChangeKind.DEPLOY) -> Change:
    return Change(timestamp=ts, service=svc, kind=kind, summary=f"{svc} change")


def test_time_proximity_prefers_changes_just_before_the_onset() -> None:
    assert time_proximity(1000.0, 1000.0) == 1.0
    assert time_proximity(700.0, 1000.0) > time_proximity(100.0, 1000.0)
    assert time_proximity(1100.0, 1000.0) > time_proximity(5000.0, 1000.0)
    assert time_proximity(5000.0, 1000.0) < 0.1


def test_score_changes_orders_and_filters_old_ones() -> None:
    scored = score_changes([_ch(100.0, "a"), _ch(950.0, "b"), _ch(-90000.0, "c")], onset=1000.0)
    assert [c.service for c in scored] == ["b", "a"]
    assert scored[0].minutes_before_onset > 0


def test_change_scores_discount_by_graph_distance() -> None:
    scored = score_changes([_ch(990.0, "db", ChangeKind.CONFIG)], onset=1000.0)
    best = change_scores(scored, {("api", "db"): 1}, ["api", "db", "web"])
    assert best["db"][0] > best["api"][0] > 0
    assert "web" not in best
