"""Alert noise, recurring incidents and postmortem follow-ups (pure).

- ``noisy_alert`` (per alert rule and service): it fires *often* -- at least once a week on average
  and at least :data:`MIN_FIRINGS` times -- and is *rarely actioned*: at most :data:`MAX_ACTIONED`
  (one in four) of its firings were acknowledged or tied to an incident (the SRE book's rule that
  every page must be actionable); or it *flaps*: at least half of its re-firings start within
  :data:`FLAP_GAP` (15 minutes, three Alertmanager group intervals) of the previous resolve.
- ``automation_candidate``: incidents clustered by the service at fault (``root_cause.service``, else
  the incident's service) and the fault word (else the title with digits and ids removed); a
  cluster of :data:`RECURRENCE` (3) or more is toil worth automating.
- ``postmortem_followup`` (per incident service): action items not done and past due at the end of
  the period, and incidents of the same cluster that recurred after a postmortem was written.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

from day2ai.scan.models import Finding, FindingEvidence, Severity
from day2ai.sources.history import AlertRecord, IncidentRecord
from day2ai.timeutil import iso

MIN_FIRINGS = 5
MAX_ACTIONED = 0.25
FLAP_GAP = 15 * 60.0
FLAP_SHARE = 0.5
RECURRENCE = 3
DONE = frozenset({"done", "closed", "resolved", "completed", "fixed", "cancelled", "canceled", "wontfix",
                  "won't fix", "obsolete"})
_NOISE = re.compile(r"[^a-z ]+")


def noisy_alerts(alerts: list[AlertRecord], start: float, end: float) -> list[Finding]:
    weeks = (end - start) / (7 * 86400.0)
    groups: dict[tuple[str, str], list[AlertRecord]] = defaultdict(list)
    for a in alerts:
        if start <= a.fired_at < end:
            groups[(a.alert, a.service)].append(a)
    out = []
    for (name, service), firings in groups.items():
        firings.sort(key=lambda a: a.fired_at)
        n = len(firings)
        actioned = sum(1 for a in firings if a.acknowledged or a.incident_id) / n
        refires = sum(1 for prev, cur in itertools.pairwise(firings)
                      if prev.resolved_at is not None and 0 <= cur.fired_at - prev.resolved_at <= FLAP_GAP)
        flapping = n >= MIN_FIRINGS and refires >= FLAP_SHARE * (n - 1)
        often = n >= max(MIN_FIRINGS, weeks)
        if not (flapping or (often and actioned <= MAX_ACTIONED)):
            continue
        pages = sum(1 for a in firings if a.severity == "page")
        why = [f"{n} firings in {weeks:.1f} weeks", f"{actioned:.0%} acknowledged or tied to an incident"]
        if flapping:
            why.append(f"{refires} re-fired within {FLAP_GAP / 60:.0f} min of resolving (flapping)")
        severity: Severity = "high" if pages >= n / 2 else "medium"
        out.append(Finding(
            kind="noisy_alert", service=service, severity=severity,
            summary=f"alert {name} is noise: " + "; ".join(why),
            evidence=[FindingEvidence(source="alerts", summary="; ".join(why) + f"; {pages} pages")],
            recommendation=("Add hysteresis (a longer `for:`, keep_firing_for) or fix the flapping signal"
                            if flapping else
                            "Retune the threshold, demote it to a ticket, or delete it if nobody acts on it."),
            alert=name, firings=n, score=n * (1 - actioned)))
    return out


def cluster_key(inc: IncidentRecord) -> tuple[str, str]:
    """(service at fault, fault word or normalised title): what "the same incident again" means."""
    service = inc.cause_service or inc.service
    if inc.fault:
        return service, inc.fault
    return service, " ".join(_NOISE.sub(" ", inc.title.lower()).split())


def automation_candidates(incidents: list[IncidentRecord]) -> list[Finding]:
    clusters: dict[tuple[str, str], list[IncidentRecord]] = defaultdict(list)
    for inc in incidents:
        clusters[cluster_key(inc)].append(inc)
    out = []
    for (service, what), group in clusters.items():
        if len(group) < RECURRENCE or not what:
            continue
        group.sort(key=lambda i: i.opened_at)
        ids = ", ".join(i.id for i in group[:8]) + (" ..." if len(group) > 8 else "")
        out.append(Finding(
            kind="automation_candidate", service=service, severity="medium" if len(group) < 6 else "high",
            summary=f"{what} at {service} happened {len(group)} times: automate the fix or remove the cause",
            evidence=[FindingEvidence(source="incidents", summary=f"{len(group)} incidents: {ids}")],
            recommendation="Write the manual fix as a runbook automation (or an auto-remediation behind "
                           "approval), and schedule the permanent fix.",
            occurrences=len(group), score=float(len(group))))
    return out


def postmortem_followups(incidents: list[IncidentRecord], end: float) -> list[Finding]:
    items: dict[str, list[str]] = defaultdict(list)
    evidence: dict[str, list[str]] = defaultdict(list)
    ordered = sorted(incidents, key=lambda i: i.opened_at)
    for inc in ordered:
        for item in inc.action_items:
            if item.status not in DONE and item.due is not None and item.due < end:
                items[inc.service].append(item.id)
                evidence[inc.service].append(f"{item.id} of {inc.id} ({item.title or 'untitled'}) "
                                             f"{item.status}, due {iso(item.due)[:10]}")
        if not inc.postmortem:
            continue
        written = inc.resolved_at or inc.opened_at
        key = cluster_key(inc)
        again = [later for later in ordered if later.opened_at > written and cluster_key(later) == key]
        if again:
            items[inc.service].append(f"recurrence:{again[0].id}")
            evidence[inc.service].append(f"{inc.id} recurred as {', '.join(a.id for a in again[:5])} after its "
                                         f"postmortem {inc.postmortem}")
    out = []
    for service, ids in items.items():
        overdue = [i for i in ids if not i.startswith("recurrence:")]
        recurred = len(ids) - len(overdue)
        parts = ([f"{len(overdue)} postmortem action item(s) overdue"] if overdue else []) + \
                ([f"{recurred} incident(s) recurred after their postmortem"] if recurred else [])
        out.append(Finding(
            kind="postmortem_followup", service=service, severity="high" if recurred else "medium",
            summary=f"{service}: " + " and ".join(parts),
            evidence=[FindingEvidence(source="incidents", summary=e) for e in evidence[service][:6]],
            recommendation="Bring the overdue items to the next review with an owner and a new date; a "
                           "recurrence means the postmortem's fix did not address the cause.",
            items=ids, score=float(len(ids) + 5 * recurred)))
    return out
