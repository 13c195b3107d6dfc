"""The public API is small and stable: this test pins it."""

from __future__ import annotations

import subprocess
import sys

import day2ai

EXPECTED = {
    "Day2AIError", "Evidence", "Fault", "Hypothesis", "Incident", "Investigator", "KnowledgeBase",
    "LLMInvestigator", "OfflineInvestigator", "Report", "ainvestigate", "astream", "evaluate", "investigate",
    "load_bundle", "validate_bundle", "scan", "ascan",
}


def test_public_names_are_pinned() -> None:
    assert set(day2ai.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in EXPECTED:
        assert getattr(day2ai, name) is not None, name


def test_import_is_light_and_does_no_io() -> None:
    code = ("import sys, day2ai; heavy = [m for m in ('chromadb', 'langchain_openai', 'openai', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_scan_is_callable_whichever_import_came_first() -> None:
    code = ("import day2ai.scan.models, day2ai; from day2ai import scan, ascan; "
            "print(callable(day2ai.scan), callable(scan), callable(ascan))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]
