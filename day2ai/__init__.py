"""day2ai: investigate production incidents like a senior SRE.

The public API is these names and nothing else (pinned by tests/test_public_api.py)::

    from day2ai import investigate, ainvestigate, load_bundle, validate_bundle, evaluate
    from day2ai import Investigator, OfflineInvestigator, LLMInvestigator, KnowledgeBase
    from day2ai import Incident, Report, Hypothesis, Evidence, Fault, Day2AIError

Heavy dependencies (chromadb, langchain-openai) load only when their names are first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from day2ai.agent.base import Investigator
from day2ai.api import ainvestigate, investigate
from day2ai.errors import Day2AIError
from day2ai.models import Evidence, Fault, Hypothesis, Incident, Report
from day2ai.sources.bundle import load_bundle, validate_bundle

if TYPE_CHECKING:
    from day2ai.agent.llm import LLMInvestigator
    from day2ai.agent.offline import OfflineInvestigator
    from day2ai.evaluation import evaluate
    from day2ai.knowledge import KnowledgeBase

__version__ = "0.1.0"

_LAZY = {
    "OfflineInvestigator": "day2ai.agent.offline",
    "LLMInvestigator": "day2ai.agent.llm",
    "KnowledgeBase": "day2ai.knowledge",
    "evaluate": "day2ai.evaluation",
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
    "evaluate",
    "investigate",
    "load_bundle",
    "validate_bundle",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'day2ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
