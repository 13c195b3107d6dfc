"""day2ai: investigate production incidents like a senior SRE.

The public API is these names and nothing else (pinned by tests/test_public_api.py)::

    from day2ai import investigate, ainvestigate, load_bundle, validate_bundle, evaluate
    from day2ai import Investigator, OfflineInvestigator, LLMInvestigator, KnowledgeBase
    from day2ai import Incident, Report, Hypothesis, Evidence, Fault, Day2AIError
    from day2ai import astream, scan, ascan

Every name loads on first use (``_LAZY``): ``import day2ai`` imports no pydantic model, no
numpy and no heavy dependency, so command-line tools and scripts start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from day2ai.agent.base import Investigator
    from day2ai.agent.llm import LLMInvestigator
    from day2ai.agent.offline import OfflineInvestigator
    from day2ai.api import ainvestigate, astream, investigate
    from day2ai.errors import Day2AIError
    from day2ai.evaluation import evaluate
    from day2ai.knowledge import KnowledgeBase
    from day2ai.models import Evidence, Fault, Hypothesis, Incident, Report
    from day2ai.scan import ascan, scan
    from day2ai.sources.bundle import load_bundle, validate_bundle

__version__ = "0.1.0"

_LAZY = {
    "Day2AIError": "day2ai.errors",
    "Evidence": "day2ai.models",
    "Fault": "day2ai.models",
    "Hypothesis": "day2ai.models",
    "Incident": "day2ai.models",
    "Report": "day2ai.models",
    "Investigator": "day2ai.agent.base",
    "ainvestigate": "day2ai.api",
    "astream": "day2ai.api",
    "investigate": "day2ai.api",
    "load_bundle": "day2ai.sources.bundle",
    "validate_bundle": "day2ai.sources.bundle",
    "OfflineInvestigator": "day2ai.agent.offline",
    "LLMInvestigator": "day2ai.agent.llm",
    "KnowledgeBase": "day2ai.knowledge",
    "evaluate": "day2ai.evaluation",
    "scan": "day2ai.scan",  # a callable package: day2ai.scan(...) works whichever import came first
    "ascan": "day2ai.scan",
}

__all__ = [
    "Day2AIError",
    "Evidence",
    "Fault",
    "Hypothesis",
    "Incident",
    "Investigator",
    "KnowledgeBase",
    "LLMInvestigator",
    "OfflineInvestigator",
    "Report",
    "ainvestigate",
    "ascan",
    "astream",
    "evaluate",
    "investigate",
    "load_bundle",
    "scan",
    "validate_bundle",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'day2ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
