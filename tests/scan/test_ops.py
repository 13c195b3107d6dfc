from __future__ import annotations

from day2ai.scan.ops import automation_candidates, noisy_alerts, postmortem_followups
from day2ai.sources.history import ActionItem, AlertRecord, IncidentRecord
from tests.scan.helpers import DAY, START

END = START + 42 * DAY


def _alerts(name: str, n: int, ack_every: int = 0, gap: float = DAY, dur: float = 600) -> list[AlertRecord]:
    return [AlertRecord(alert=name, service="api", severity="page", fired_at=START + i * gap,
                        resolved_at=START + i * gap + dur, acknowledged=bool(ack_every and i % ack_every == 0))
            for i in range(n)]


def test_frequent_unactioned_alert_is_noisy() -> None:
    [f] = noisy_alerts(_alerts("A", 20), START, END)
    assert (f.kind, f.alert, f.firings) == ("noisy_alert", "A", 20)


def test_acted_on_or_rare_alerts_are_not_noisy() -> None:
    acked = [AlertRecord(alert="B", service="api", severity="page", fired_at=START + i * DAY, acknowledged=i % 4 != 0)
             for i in range(20)]
    assert noisy_alerts(acked, START, END) == []
    assert noisy_alerts(_alerts("C", 4), START, END) == []


def test_flapping_alert_is_noisy_even_when_acknowledged() -> None:
    flaps = _alerts("F", 8, ack_every=1, gap=900, dur=300)  # re-fires 10 minutes after each resolve
    [f] = noisy_alerts(flaps, START, END)
    assert "flapping" in f.summary


def _inc(i: int, service: str, fault: str | None, title: str = "", **kw: object) -> IncidentRecord:
    return IncidentRecord(id=f"INC-{i}", service=service, severity="sev2", opened_at=START + i * DAY, title=title,
                          resolved_at=START + i * DAY + 3600, fault=fault, **kw)  # type: ignore[arg-type]


def test_recurring_fault_clusters_are_automation_candidates() -> None:
    incs = [_inc(i, "db", "disk_full") for i in range(3)]
    incs += [_inc(10, "db", "memory_leak"), _inc(11, "api", "disk_full")]
    [f] = automation_candidates(incs)
    assert (f.service, f.occurrences) == ("db", 3)


def test_titles_cluster_when_no_fault_is_given() -> None:
    incs = [_inc(i, "api", None, title=f"Cert expired on node-{i}") for i in range(3)]
    [f] = automation_candidates(incs)
    assert f.occurrences == 3
    assert automation_candidates(incs[:2]) == []


def test_overdue_items_and_recurrence_after_postmortem() -> None:
    items = (ActionItem("AI-1", "fix", "open", START + 10 * DAY), ActionItem("AI-2", "x", "done", START + DAY),
             ActionItem("AI-3", "later", "open", END + DAY))
    first = _inc(1, "api", "bad_deploy", postmortem="postmortems/1.md", action_items=items)
    again = _inc(20, "api", "bad_deploy")
    [f] = postmortem_followups([first, again], END)
    assert f.items == ["AI-1", "recurrence:INC-20"] and f.severity == "high"
    assert postmortem_followups([_inc(1, "api", "bad_deploy", postmortem="p.md")], END) == []
