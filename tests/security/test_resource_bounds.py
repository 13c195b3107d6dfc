"""Benchmark-style bound (#16): no hostile input of at most 10 MB takes more than 1 GB RSS or 60 s.

The bounds are the issue's targets, far above what a run needs on a quiet machine (see
.dev/bench-security.md); they catch a regression to unbounded behaviour, not a slow day."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.hostile import build_cases, measure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return build_cases(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", ["one 9 MB log line", "gzip bomb, 600 MiB without a newline",
                                  "gzip of valid lines inflating past the caps", "billion laughs in incident.yaml",
                                  "100k-deep incident.yaml", "10 MB of binary garbage"])
def test_hostile_input_is_bounded(cases: dict[str, list[str]], name: str, tmp_path: Path) -> None:
    cost = measure(cases[name])
    assert "Traceback" not in cost.stderr_tail
    assert cost.code in (0, 2), cost.stderr_tail
    assert cost.max_rss_mb < 1024, f"{name}: {cost.max_rss_mb:.0f} MB"
    assert cost.seconds < 60, f"{name}: {cost.seconds:.1f} s"


ADVERSARIAL = ["a." * 50_000, "--" + "a_" * 50_000, "x-y.z_" * 20_000, "a://b:" * 15_000, "mysql " * 15_000,
               "password is " * 8_000, "A1b/" * 25_000, "postgres://u:" + "@" * 50_000]


def test_redactor_is_linear_on_adversarial_text() -> None:
    """Each input is ~100 kB; a quadratic rule takes minutes on one of them (as two did before #16)."""
    import time

    from day2ai.redact import redact

    started = time.monotonic()
    for text in ADVERSARIAL:
        redact(text)
    assert time.monotonic() - started < 30
