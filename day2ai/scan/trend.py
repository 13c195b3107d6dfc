"""Robust, seasonality-aware trends over days (pure numpy).

Day-2 questions ("will this disk fill?", "is this dependency getting slower?") are about trends over
days, so series are first reduced to one value per day (the daily maximum for capacity, the daily
median for latency and errors): that removes the daily cycle. The slope is then the
**seasonal Kendall slope** (Hirsch, Slack & Smith 1982): the median of the slopes between days
that fall on the same weekday, which cancels a weekly cycle exactly; with fewer than three weeks
of data it falls back to the plain **Theil-Sen** slope (Sen 1968). Both are medians of pairwise
slopes, so one bad day (an incident's spike) moves them little (breakdown point ~29%). The
uncertainty band is Sen's distribution-free confidence interval on the slope (ranks of the
pairwise slopes from the Mann-Kendall variance), so a trend "exists" when its lower bound is above
zero at 95% confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
Z95 = 1.959963984540054  # two-sided 95% normal quantile
MIN_DAYS = 7  # fewer daily points than a week cannot tell a trend from a weekly cycle
SEASONAL_MIN_DAYS = 21  # three weeks: at least three same-weekday points per season


@dataclass(frozen=True)
class Trend:
    slope: float  # per day
    low: float  # lower bound of the 95% band on the slope
    high: float
    level: float  # fitted value at ``at``
    at: float  # day number (since the origin) of the last daily value
    start_level: float  # fitted value at the first day of the window
    days: int
    seasonal: bool

    @property
    def significant_up(self) -> bool:
        return self.low > 0


def daily(t: np.ndarray, v: np.ndarray, origin: float, stat: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """One value per day since ``origin``: ``max`` or ``median`` of the finite points of each day.
    Returns (day numbers, values)."""
    ok = np.isfinite(v) & np.isfinite(t)
    t, v = t[ok], v[ok]
    if t.size == 0:
        return np.empty(0), np.empty(0)
    day = np.floor((t - origin) / DAY).astype(np.int64)
    order = np.argsort(day, kind="stable")
    day, v = day[order], v[order]
    cuts = np.flatnonzero(np.diff(day)) + 1
    starts = np.concatenate(([0], cuts))
    if stat == "max":
        vals = np.maximum.reduceat(v, starts)
    else:
        vals = np.array([np.median(chunk) for chunk in np.split(v, cuts)])
    return day[starts].astype(np.float64), vals


def seasonal_sen(x: np.ndarray, y: np.ndarray, period: int | None = 7, min_periods: int = 3) -> Trend | None:
    """Seasonal Kendall / Theil-Sen slope of daily values ``y`` at day numbers ``x``.

    ``period`` is the season length in days (7 = weekday seasons); it is used only when the data
    spans at least ``min_periods`` periods. None when there are fewer than :data:`MIN_DAYS` points.
    """
    n = x.size
    if n < MIN_DAYS:
        return None
    seasonal = period is not None and (x[-1] - x[0] + 1) >= min_periods * period
    i, j = np.triu_indices(n, k=1)
    dx = x[j] - x[i]
    keep = (dx > 0) & ((np.mod(dx, period) == 0) if seasonal and period else True)
    i, j, dx = i[keep], j[keep], dx[keep]
    if dx.size < 3:
        return None
    slopes = np.sort((y[j] - y[i]) / dx)
    slope = float(np.median(slopes))
    var = _kendall_variance(x, period if seasonal else None)
    c = Z95 * math.sqrt(var)
    m = slopes.size
    lo_rank = max(math.floor((m - c) / 2.0), 0)
    hi_rank = min(math.ceil((m + c) / 2.0), m - 1)
    intercept = float(np.median(y - slope * x))
    return Trend(slope=slope, low=float(slopes[lo_rank]), high=float(slopes[hi_rank]),
                 level=intercept + slope * float(x[-1]), at=float(x[-1]), start_level=intercept + slope * float(x[0]),
                 days=int(n), seasonal=bool(seasonal))


def sustained(x: np.ndarray, y: np.ndarray, period: int = 7) -> float:
    """Share of week-over-week changes (same weekday, exactly one ``period`` apart) that are increases.

    A sign test that tells a sustained trend from a level shift: after a one-off step only the pairs
    that straddle the step rise, the rest are noise (half of them up), while a real trend raises
    nearly all of them. Returns 0.0 when there is no such pair.
    """
    pos = {int(d): float(v) for d, v in zip(x, y, strict=True)}
    ups = [pos[d + period] > v for d, v in pos.items() if d + period in pos]
    return sum(ups) / len(ups) if ups else 0.0


def step_fits_better(x: np.ndarray, y: np.ndarray, trend: Trend) -> bool:
    """Whether one level shift explains ``y`` better than the trend line (sum of absolute residuals).

    The best single change point (a median on each side) against the Theil-Sen line: a one-off step
    (a data import, a slower release) is flat on both sides, so the step model wins; a real trend
    keeps rising on each side, so the line wins.
    """
    intercept = trend.level - trend.slope * trend.at
    line = float(np.abs(y - (intercept + trend.slope * x)).sum())
    best = math.inf
    for k in range(2, y.size - 1):
        left, right = y[:k], y[k:]
        best = min(best, float(np.abs(left - np.median(left)).sum() + np.abs(right - np.median(right)).sum()))
    return best < line


SUSTAINED_SHARE = 0.75  # with 21 pairs, >= 16 rises has p ~ 0.013 under "no trend"


def _kendall_variance(x: np.ndarray, period: int | None) -> float:
    """Var(S) of the Mann-Kendall statistic without ties, summed over seasons when seasonal."""
    if period is None:
        groups = [x.size]
    else:
        _, counts = np.unique(np.mod(x, period), return_counts=True)
        groups = [int(c) for c in counts]
    return float(sum(g * (g - 1) * (2 * g + 5) / 18.0 for g in groups))


def days_until(trend: Trend, limit: float, slope: float | None = None) -> float | None:
    """Days after the window's last day until the fitted line reaches ``limit`` (0 if already there);
    None when it never does at this slope."""
    s = trend.slope if slope is None else slope
    if trend.level >= limit:
        return 0.0
    if s <= 0:
        return None
    return (limit - trend.level) / s
