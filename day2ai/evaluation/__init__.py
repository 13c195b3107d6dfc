"""Evaluation: run investigators over suites of bundles and score them against their truth.

``evaluate``/``aevaluate`` run a suite; ``compare`` diffs two results case by case; the
baselines (``RandomInvestigator``, ``LoudestSymptomInvestigator``) give context to the scores;
``day2ai.evaluation.rcaeval`` converts the public RCAEval benchmark into bundles.
Imports stay light: matplotlib, the simulator and the converter load only when used.
"""

from day2ai.evaluation.baselines import LoudestSymptomInvestigator, RandomInvestigator
from day2ai.evaluation.compare import Comparison, compare
from day2ai.evaluation.harness import aevaluate, discover_cases, evaluate, run_case
from day2ai.evaluation.results import CaseResult, SuiteResult, load_result, save_result

__all__ = [
    "CaseResult",
    "Comparison",
    "LoudestSymptomInvestigator",
    "RandomInvestigator",
    "SuiteResult",
    "aevaluate",
    "compare",
    "discover_cases",
    "evaluate",
    "load_result",
    "run_case",
    "save_result",
]
