"""Changes near the anomaly onset, scored by time proximity and call-graph distance."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from day2ai.models import ChangeKind
from day2ai.sources.base import Change

TAU_S = 900.0  # a change 15 minutes before the onset keeps e^-1 of its proximity
LATE_S = 600.0  # changes up to 10 minutes after the estimated onset still count a little (onsets are
# estimates, change logs often record completion rather than start)


class ScoredChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    kind: ChangeKind
    timestamp: float
    summary: str
    version: str | None = None
    previous_version: str | None = None
    proximity: float  # 0..1, from the time between the change and the onset
    minutes_before_onset: float

    def describe(self) -> str:
        rel = (
            f"{self.minutes_before_onset:.0f} min before onset"
            if self.minutes_before_onset >= 0
            else f"{-self.minutes_before_onset:.0f} min after onset"
        )
        return f"{self.kind.value} of {self.service} {rel}: {self.summary}"


def time_proximity(change_ts: float, onset: float, tau: float = TAU_S, late: float = LATE_S) -> float:
    """1 at the onset, decaying before it; small for changes well after the onset."""
    dt = onset - change_ts
    if dt >= 0:
        return math.exp(-dt / tau)
    if -dt <= late:
        return 1.0 - 0.7 * (-dt / late)
    return 0.05


def score_changes(changes: Iterable[Change], onset: float, max_age_s: float = 6 * 3600.0) -> list[ScoredChange]:
    """Every change from ``max_age_s`` before the onset on, best first."""
    out = []
    for ch in changes:
        if onset - ch.timestamp > max_age_s:
            continue
        out.append(
            ScoredChange(
                service=ch.service,
                kind=ch.kind,
                timestamp=ch.timestamp,
                summary=ch.summary[:300],
                version=ch.version,
                previous_version=ch.previous_version,
                proximity=round(time_proximity(ch.timestamp, onset), 4),
                minutes_before_onset=round((onset - ch.timestamp) / 60.0, 1),
            )
        )
    out.sort(key=lambda c: -c.proximity)
    return out


def change_scores(
    scored: Iterable[ScoredChange],
    distance: Mapping[tuple[str, str], int] | None = None,
    candidates: Iterable[str] = (),
) -> dict[str, tuple[float, ScoredChange]]:
    """Per candidate: the best change touching it (distance 0) or a neighbour (discounted by hops)."""
    best: dict[str, tuple[float, ScoredChange]] = {}
    cands = list(candidates)
    for ch in scored:
        for cand in cands or [ch.service]:
            hops = 0 if cand == ch.service else (distance or {}).get((cand, ch.service))
            if hops is None:
                continue
            value = ch.proximity * (0.5**hops) if hops else ch.proximity
            if value > best.get(cand, (0.0, ch))[0]:
                best[cand] = (value, ch)
    return best
