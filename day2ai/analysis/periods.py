"""Baseline and incident periods: which part of the window is "healthy" and which is "the incident".

The incident's explicit ``baseline`` wins when given (it may be short or not adjacent to the
incident). Otherwise the baseline is the part of the window before the estimated onset. The
onset is estimated from the telemetry (earliest sustained anomalies), bounded by ``detected_at``,
because an alert usually fires some minutes after the fault starts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from day2ai.models import Incident

MIN_GUARD_S = 120.0
MAX_GUARD_S = 900.0


class Periods(BaseModel):
    """Epoch-second bounds of the baseline and incident periods."""

    model_config = ConfigDict(frozen=True)

    baseline_start: float
    baseline_end: float
    incident_start: float
    incident_end: float
    onset: float
    explicit_baseline: bool = False

    @property
    def baseline_seconds(self) -> float:
        return max(0.0, self.baseline_end - self.baseline_start)

    @property
    def incident_seconds(self) -> float:
        return max(0.0, self.incident_end - self.incident_start)

    def in_baseline(self, t: float) -> bool:
        return self.baseline_start <= t < self.baseline_end

    def in_incident(self, t: float) -> bool:
        return self.incident_start <= t <= self.incident_end


def preliminary_periods(incident: Incident) -> Periods:
    """Periods before any onset estimate: baseline ends a guard interval before detection."""
    w0, w1 = incident.window.start_s, incident.window.end_s
    detected = min(max(incident.detected_at.timestamp(), w0), w1)
    pre = detected - w0
    if pre < 4 * MIN_GUARD_S:  # detection at (or before) the window start: use the first third
        onset = w0 + max(pre, (w1 - w0) / 3.0)
    else:
        onset = detected - min(MAX_GUARD_S, max(MIN_GUARD_S, 0.25 * pre))
    return periods_for_onset(incident, onset)


def periods_for_onset(incident: Incident, onset: float) -> Periods:
    """Final periods for an onset estimate."""
    w0, w1 = incident.window.start_s, incident.window.end_s
    onset = min(max(onset, w0), w1)
    if incident.baseline is not None and incident.baseline.seconds > 0:
        b0, b1 = incident.baseline.start_s, incident.baseline.end_s
        # an explicit baseline that overlaps the anomaly is cut at the onset when possible
        if b0 < onset < b1 and onset - b0 >= 0.3 * (b1 - b0):
            b1 = onset
        return Periods(
            baseline_start=b0,
            baseline_end=b1,
            incident_start=max(onset, min(b1, w1)),
            incident_end=w1,
            onset=onset,
            explicit_baseline=True,
        )
    return Periods(baseline_start=w0, baseline_end=onset, incident_start=onset, incident_end=w1, onset=onset)


def combine_onsets(onsets: Sequence[float], incident: Incident, quantile: float = 0.2) -> float | None:
    """A robust global onset from per-series onsets of strong anomalies (None if there are none).

    A low quantile rather than the minimum: the root cause tends to move first, but a single
    noisy series should not drag the baseline into nothing.
    """
    if not onsets:
        return None
    w0 = incident.window.start_s
    detected = incident.detected_at.timestamp()
    arr = np.sort(np.asarray(onsets, dtype=float))
    value = float(np.quantile(arr, quantile)) if len(arr) >= 5 else float(arr[0])
    if len(arr) >= 2 and len(arr) < 5:
        value = float(arr[1]) if arr[1] - arr[0] > 600 else float(arr[0])
    low = w0 + min(MIN_GUARD_S, 0.2 * max(0.0, detected - w0))
    if detected > w0:
        value = min(value, detected)
    return max(value, low)
