"""Small builders shared by the analysis tests: the standard periods, a metric anomaly, a call edge."""

from day2ai.analysis.metrics import SeriesAnomaly, classify_metric
from day2ai.analysis.periods import Periods
from day2ai.analysis.traces import EdgeStats

P = Periods(baseline_start=0, baseline_end=600, incident_start=600, incident_end=1200, onset=600)


def anomaly(svc: str, name: str, z: float, onset: float, direction: int = 1, ramp: float = 0.0) -> SeriesAnomaly:
    """A scored series of ``svc``; its kind follows from the metric ``name``."""
    return SeriesAnomaly(
        service=svc,
        name=name,
        kind=classify_metric(name),
        score=z,
        direction=direction,
        onset=onset,
        baseline_value=1.0,
        incident_value=2.0,
        peak_value=3.0,
        ramp=ramp,
    )


def edge(caller: str, callee: str, gap_z: float) -> EdgeStats:
    """A call edge whose callee-side latency and errors did not change; ``gap_z`` is the caller's
    own-time shift around the calls."""
    return EdgeStats(
        caller=caller,
        callee=callee,
        baseline_calls=100,
        incident_calls=100,
        baseline_error_rate=0.0,
        incident_error_rate=0.0,
        baseline_ms=5.0,
        incident_ms=5.0,
        latency_z=0.0,
        peer_only=False,
        gap_z=gap_z,
    )
