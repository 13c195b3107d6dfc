"""``investigate --config ... --detected-at``: the live incident takes the given alert time."""

import pytest

from day2ai.cli.core import _with_detected_at
from day2ai.errors import InputError
from day2ai.sources.config import live_incident


def test_detected_at_inside_the_window_is_used() -> None:
    inc = live_incident("api", "1h", now=1_800_000_000.0)
    out = _with_detected_at(inc, "2027-01-15T07:50:00Z")
    assert out.detected_at.timestamp() == 1_800_000_000.0 - 600.0
    assert out.window == inc.window


@pytest.mark.parametrize("bad", ["yesterday", "2020-01-01T00:00:00Z"])
def test_bad_or_outside_detected_at_is_bad_input(bad: str) -> None:
    inc = live_incident("api", "1h", now=1_800_000_000.0)
    with pytest.raises(InputError, match="--detected-at"):
        _with_detected_at(inc, bad)
