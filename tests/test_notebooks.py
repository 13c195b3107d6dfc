"""The notebooks run headless, top to bottom, as in CI."""

from __future__ import annotations

import importlib.util

import pytest

from tests.notebooks_util import NOTEBOOKS, has_image, outputs_text, run_notebook

SMOKE = NOTEBOOKS.parent / "evals" / "suites" / "smoke"


@pytest.mark.slow
def test_02_evaluate() -> None:
    if not SMOKE.is_dir():
        pytest.skip(f"{SMOKE} is not generated yet (see evals/suites/README.md)")
    if importlib.util.find_spec("day2ai.agent.offline") is None:
        pytest.skip("the offline investigator is not available")
    nb = run_notebook(NOTEBOOKS / "02_evaluate.ipynb")
    text = outputs_text(nb)
    assert "ac@1" in text and "predicted" in text and "Misses: " in text  # frames built from the result
    assert "| AC@1 |" not in text  # no table parsed out of rendered Markdown
    assert "offline worse than the baseline on:" in text
    assert has_image(nb)  # the scores plot and the confusion matrix


@pytest.mark.slow
def test_01_investigate_an_incident() -> None:
    nb = run_notebook(NOTEBOOKS / "01_investigate_an_incident.ipynb")
    text = outputs_text(nb)
    assert "web: error budget burn rate too high" in text  # the incident is shown
    assert has_image(nb)  # the metrics plot
    assert "tool calls in" in text  # the investigation ran and its evidence was listed


NEZHA = NOTEBOOKS.parents[1] / "shared" / "data" / "nezha-tt-dev"


@pytest.mark.slow
def test_03_explore_a_real_incident() -> None:
    if not (NEZHA / "nezha-tt-25" / "incident.yaml").is_file():
        pytest.skip(f"{NEZHA} (the real Nezha bundles) is not available here")
    nb = run_notebook(NOTEBOOKS / "03_explore_a_real_incident.ipynb", timeout=120)
    text = outputs_text(nb)
    assert "Train Ticket" in text  # the incident is shown
    assert "metric points in" in text and "new (service, template) pairs" in text
    assert "truth: ts-contacts-service / cpu_saturation" in text
    html = [out["data"]["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
            if "text/html" in out.get("data", {})]
    assert any("&mdash;" in h for h in html)  # hypotheses rendered with their evidence
    assert has_image(nb)
