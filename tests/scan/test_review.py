"""The operational review: Markdown, self-contained HTML, and the HTML rendered in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from day2ai.render.review import ALERT_COLOUR, BAND_COLOUR, MTTR_COLOUR, review_html, review_markdown
from day2ai.scan.engine import scan_path
from day2ai.scan.models import Finding, FindingEvidence, ScanReport
from day2ai.scan.sim import simulate_history


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ScanReport:
    root = tmp_path_factory.mktemp("review") / "h"
    simulate_history(root, 103, services=12, days=28, step=1800)
    rep = scan_path(root)
    evil = Finding(kind="stale_runbook", service="<script>alert(1)</script>", severity="low", summary="a | b",
                   evidence=[FindingEvidence(source="knowledge", summary="<img src=x onerror=y>")],
                   recommendation="r", runbook="runbooks/x.md")
    rep.findings.append(evil)
    return rep


def test_markdown_review_has_scorecard_trends_and_families(report: ScanReport) -> None:
    md = review_markdown(report)
    assert "| MTTR median (min) |" in md and "## Capacity" in md and "## Configuration drift" in md
    assert "a \\| b" in md


def test_html_is_self_contained_and_escaped(report: ScanReport) -> None:
    page = review_html(report)
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<svg") >= 3  # weekly MTTR, weekly alerts, at least one capacity forecast
    for colour in (MTTR_COLOUR, ALERT_COLOUR, BAND_COLOUR):
        assert colour in page


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.mark.chromium
def test_html_renders_in_headless_chromium(report: ScanReport, tmp_path: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (tools/install_chromium.sh)")
    page = tmp_path / "review.html"
    page.write_text(review_html(report), encoding="utf-8")
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", "--window-size=1000,2600", "--hide-scrollbars", page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    img = image_mod.open(shot).convert("RGB")
    assert img.size == (1000, 2600)
    colours = img.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "screenshot is blank"
    present = {c for _, c in colours}

    def near(target: tuple[int, int, int], tol: int = 12) -> int:
        return sum(n for n, c in colours if all(abs(a - b) <= tol for a, b in zip(c, target, strict=True)))

    assert near(_rgb(MTTR_COLOUR)) > 50, "MTTR line missing"
    assert near(_rgb(ALERT_COLOUR)) > 500, "alert bars missing"
    assert near(_rgb(BAND_COLOUR), 40) > 50 or any(c[0] > 240 and 150 < c[1] < 230 and c[2] < 200 for c in present), \
        "capacity band missing"
