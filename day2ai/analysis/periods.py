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
# the time before the onset a sparse source may be compared with, even before the window starts (when
# the source returns it): half an hour, the usual length of a baseline (the bundle spec's examples and
# the Nezha dataset keep 30 minutes of metrics before a fault); not fitted
PRE_ONSET_S = 1800.0


class Periods(BaseModel):
    """Epoch-second bounds of the baseline and incident periods."""

    model_config = ConfigDict(frozen=True)

    baseline_start: float
    baseline_end: float
    incident_start: float
    incident_end: float
    onset: float
    explicit_baseline: bool = False
    # fault-free time before the onset inside the window, kept next to an explicit baseline: a
    # source whose data is too sparse in the given baseline (one 1-minute point) falls back on it
    pre_start: float | None = None
    pre_end: float | None = None
    detected: float | None = None  # when the alert fired: a fault still lasts then

    @property
    def baseline_seconds(self) -> float:
        return max(0.0, self.baseline_end - self.baseline_start)

    @property
    def incident_seconds(self) -> float:
        return max(0.0, self.incident_end - self.incident_start)

    def in_baseline(self, t: float) -> bool:
        return self.baseline_start <= t < self.baseline_end

    @property
    def has_pre(self) -> bool:
        return self.pre_start is not None and self.pre_end is not None and self.pre_end > self.pre_start

    def in_incident(self, t: float) -> bool:
        return self.incident_start <= t <= self.incident_end


def needs_pre(periods: Periods, n_base: int, n_inc: int, minimum: int = 1) -> bool:
    """Whether a source should also compare with the fault-free time before the onset: the given
    baseline holds fewer observations of it than the incident period does (or fewer than
    ``minimum``), so its rates would be noisier than the incident's. Both periods are fault-free,
    so their union is too; rates, not counts, are compared."""
    return periods.explicit_baseline and periods.has_pre and n_base < max(minimum, n_inc)


def baseline_label(periods: Periods, widened: bool) -> str:
    """Which fault-free period a comparison used, for the report."""
    if not periods.explicit_baseline:
        return "before the onset"
    return "given + before the onset" if widened else "given"


def preliminary_periods(incident: Incident) -> Periods:
    """Periods before any onset estimate: baseline ends a guard interval before detection."""
    w0, w1 = incident.window.start_s, incident.window.end_s
    b = incident.baseline
    if b is not None and b.seconds > 0 and b.end_s <= w0:
        # the fault-free reference lies before the window (a live investigation: the span before
        # --since): the whole window may hold the onset, search all of it
        return periods_for_onset(incident, w0)
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
        start = min(b1, w1) if b0 <= onset < b1 else onset
        # a fault-free period declared after the onset ends the incident period (the fault was over)
        end = b0 if start < b0 < w1 and b0 - start >= min(MIN_GUARD_S, 0.5 * (w1 - start)) else w1
        pre_end = onset
        return Periods(
            baseline_start=b0,
            baseline_end=b1,
            incident_start=start,
            incident_end=end,
            onset=onset,
            explicit_baseline=True,
            pre_start=min(w0, onset - PRE_ONSET_S),
            pre_end=pre_end,
            detected=incident.detected_at.timestamp(),
        )
    return Periods(
        baseline_start=w0,
        baseline_end=onset,
        incident_start=onset,
        incident_end=w1,
        onset=onset,
        detected=incident.detected_at.timestamp(),
    )


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
    if w0 < detected <= value:
        # the anomalies these series date all start at or after the alert, which fired because the
        # fault had already begun: they are late effects, and date nothing
        return None
    low = w0 + min(MIN_GUARD_S, 0.2 * max(0.0, detected - w0))
    return max(value, low)
