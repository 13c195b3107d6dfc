"""Timestamps as the bundle spec allows them: RFC 3339 strings or Unix epoch seconds.

Internally day2ai works in float epoch seconds (UTC); models expose aware ``datetime``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(value: object) -> float:
    """Return epoch seconds for an RFC 3339 string, a datetime or an epoch number.

    Naive strings and datetimes mean UTC; fractions of any precision are accepted
    (nanoseconds are truncated to microsecond float precision). Raises ``ValueError``.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("timestamp is not finite")
        return float(value)
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.timestamp()
    if isinstance(value, str):
        return _parse_string(value.strip())
    raise ValueError(f"expected an RFC 3339 string or epoch seconds, got {type(value).__name__}")


_MINUTES: dict[str, float] = {}  # "YYYY-MM-DDTHH:MM" -> epoch of that minute (bundles repeat them)
_SECONDS = frozenset("0123456789.")


def _parse_string(text: str) -> float:
    # fast path for the common full form ending in Z: the minute from a cache, seconds as a float;
    # anything unusual (offsets, leap seconds, odd digits) takes the exact path below
    if len(text) >= 20 and text[10] in "Tt" and text[-1] in "Zz" and text[4] == "-" and text[19] in ".Zz":
        seconds = text[17:-1]
        if text[16] == ":" and seconds[:2].isdigit() and seconds[0] < "6" and _SECONDS.issuperset(seconds):
            start_of_minute = _MINUTES.get(text[:16])
            if start_of_minute is None:
                try:
                    start_of_minute = datetime.fromisoformat(text[:16]).replace(tzinfo=UTC).timestamp()
                except ValueError:
                    start_of_minute = None
                else:
                    if len(_MINUTES) > 100_000:
                        _MINUTES.clear()
                    _MINUTES[text[:16]] = start_of_minute
            if start_of_minute is not None and seconds.count(".") <= 1 and seconds[-1] != ".":
                return start_of_minute + float(seconds)
        try:
            return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC).timestamp()
        except ValueError:
            pass
    m = _RFC3339.match(text)
    if not m:
        try:
            epoch = float(text)
        except ValueError:
            raise ValueError(f"not an RFC 3339 timestamp or epoch seconds: {text[:40]!r}") from None
        if not math.isfinite(epoch):
            raise ValueError(f"timestamp is not finite: {text[:40]!r}")
        return epoch
    year, month, day, hour, minute, second, frac, tz = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59),
                      tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"invalid date in {text[:40]!r}: {exc}") from None
    epoch = dt.timestamp() + (int(second) - dt.second)
    if frac:
        epoch += int(frac) / (10 ** len(frac))
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch


def to_datetime(epoch: float) -> datetime:
    """Aware UTC datetime for epoch seconds."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)


def iso(epoch: float) -> str:
    """Compact RFC 3339 text (second precision) for humans and prompts."""
    return to_datetime(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
