"""The result types of an evaluation run, and their JSON files.

``SuiteResult`` is what ``day2ai eval SUITE --out R.json`` writes: every key the CLI contract
names (``cases``, ``ac@1``, ``ac@3``, ``ac@5``, ``avg@5``, ``fault_accuracy``, ``per_case`` with
``id``, ``truth_service``, ``truth_fault``, ``ranked_services``, ``predicted_fault``, ``rank``,
``seconds`` and ``error``) plus the extra scores of the harness. Pure data: the only I/O is
:func:`save_result` / :func:`load_result`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from day2ai.errors import InputError

SCHEMA_VERSION = 1


class CaseResult(BaseModel):
    """The score of one bundle. A case that failed has ``error`` set and counts as a miss."""

    model_config = ConfigDict(extra="allow")

    id: str
    truth_service: str | None = None
    truth_fault: str | None = None
    ranked_services: list[str] = Field(default_factory=list)
    predicted_fault: str | None = None
    predicted_service: str | None = None
    rank: int | None = None
    seconds: float = 0.0
    error: str | None = None
    bundle: str | None = None
    hypotheses: int = 0
    grounded_hypotheses: int = 0
    fault_correct: bool = False
    remediation_hit: bool | None = None
    tokens: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tool_calls: int = 0
    llm_calls: int = 0
    cost_usd: float = 0.0

    def hit_at(self, k: int) -> bool:
        return self.rank is not None and self.rank <= k


class FaultScores(BaseModel):
    """Scores of the cases whose truth fault is one fault word."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    cases: int
    ac_at_1: float = Field(alias="ac@1")
    ac_at_3: float = Field(alias="ac@3")
    avg_at_5: float = Field(alias="avg@5")
    fault_accuracy: float


class SuiteResult(BaseModel):
    """The scores of one investigator over one suite (``day2ai eval`` JSON)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, extra="allow")

    schema_version: int = SCHEMA_VERSION
    suite: str = ""
    investigator: str = ""
    cases: int
    errors: int = 0
    ac_at_1: float = Field(alias="ac@1")
    ac_at_3: float = Field(alias="ac@3")
    ac_at_5: float = Field(alias="ac@5")
    avg_at_5: float = Field(alias="avg@5")
    fault_accuracy: float
    remediation_hit_rate: float | None = None
    remediation_cases: int = 0
    grounding_rate: float | None = None
    grounded_case_rate: float | None = None
    mean_seconds: float = 0.0
    median_seconds: float = 0.0
    total_seconds: float = 0.0
    mean_tokens: float = 0.0
    total_tokens: int = 0
    per_fault: dict[str, FaultScores] = Field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = Field(default_factory=dict)
    per_case: list[CaseResult] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the result file (contract keys use ``@``)."""
        return self.model_dump(mode="json", by_alias=True)

    def misses(self) -> list[CaseResult]:
        """Cases whose truth service is not ranked first (errors included)."""
        return [c for c in self.per_case if not c.hit_at(1)]

    def cases_frame(self) -> Any:
        """The per-case results as a pandas DataFrame indexed by case id (see :mod:`day2ai.frames`)."""
        from day2ai.frames import cases_frame

        return cases_frame(self)

    def scores_frame(self) -> Any:
        """The headline scores as a pandas DataFrame (one ``value`` column)."""
        from day2ai.frames import scores_frame

        return scores_frame(self)

    def confusion_frame(self) -> Any:
        """Truth fault by predicted fault, as a pandas DataFrame of counts."""
        from day2ai.frames import confusion_frame

        return confusion_frame(self)

    def _repr_html_(self) -> str:
        from day2ai.render.html import suite_html

        return suite_html(self)

    def scores(self) -> dict[str, float | None]:
        """The headline numbers, for tables and comparisons."""
        return {
            "ac@1": self.ac_at_1, "ac@3": self.ac_at_3, "ac@5": self.ac_at_5, "avg@5": self.avg_at_5,
            "fault_accuracy": self.fault_accuracy, "remediation_hit_rate": self.remediation_hit_rate,
            "grounding_rate": self.grounding_rate,
        }


EvalResult = SuiteResult  # the name the issue tracker and notebooks use


def save_result(result: SuiteResult, path: str | Path) -> Path:
    """Write a result as indented JSON (stable key order, so reruns diff cleanly)."""
    out = Path(path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def load_result(path: str | Path) -> SuiteResult:
    """Read a result file written by ``day2ai eval``; bad files raise :class:`InputError`."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such result file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a JSON object")
    try:
        return SuiteResult.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(top)"
        raise InputError(f"{p}: {where}: {err['msg']}") from None
