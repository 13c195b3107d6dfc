from __future__ import annotations

import numpy as np
import pytest

from day2ai.scan.trend import DAY, daily, days_until, seasonal_sen
from tests.scan.helpers import START, daily_cycle, times, weekly_cycle


def test_daily_max_and_median_bucket_by_day() -> None:
    t = START + np.array([0.0, 3600, DAY + 10, DAY + 20, DAY + 30])
    v = np.array([1.0, 3.0, 5.0, np.nan, 1.0])
    x, y = daily(t, v, START, "max")
    assert x.tolist() == [0.0, 1.0] and y.tolist() == [3.0, 5.0]
    _, med = daily(t, v, START, "median")
    assert med.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("slope", [0.5, 2.0, -1.0])
def test_linear_trend_is_recovered_under_daily_and_weekly_cycles(slope: float) -> None:
    rng = np.random.default_rng(3)
    t = times(42, 300)
    v = (100 + slope * (t - START) / DAY) * daily_cycle(t) * weekly_cycle(t) + rng.normal(0, 1, t.size)
    x, y = daily(t, v, START, "max")
    tr = seasonal_sen(x, y)
    assert tr is not None and tr.seasonal
    assert tr.low <= tr.slope * 1.0001 and tr.slope <= tr.high * 1.0001
    assert tr.slope == pytest.approx(slope * 1.3, rel=0.1)  # daily max of a 1.3x peak


def test_weekly_cycle_alone_is_not_a_trend() -> None:
    t = times(42, 300)
    dow = np.floor(t / DAY + 3) % 7
    v = np.where(dow >= 5, 50.0, 55 + 6 * dow)  # fills all week, cleaned at weekends
    x, y = daily(t, v, START, "max")
    tr = seasonal_sen(x, y)
    assert tr is not None and not tr.significant_up
    assert abs(tr.slope) < 0.05


def test_one_day_spike_barely_moves_the_slope() -> None:
    rng = np.random.default_rng(5)
    y = 60 + rng.normal(0, 0.3, 42)
    y[35] = 97
    tr = seasonal_sen(np.arange(42.0), y)
    assert tr is not None and not tr.significant_up


def test_too_few_days_gives_no_trend() -> None:
    assert seasonal_sen(np.arange(5.0), np.arange(5.0)) is None


def test_days_until_limit() -> None:
    tr = seasonal_sen(np.arange(30.0), 10 + 2 * np.arange(30.0))
    assert tr is not None
    assert days_until(tr, 100.0) == pytest.approx((100 - 68) / 2)
    assert days_until(tr, 50.0) == 0.0
    assert days_until(tr, 100.0, slope=0.0) is None
