"""The model's final answer: its schema, parsing (tool call or JSON text) and grounding.

Grounding means every hypothesis cites at least one evidence id that this run produced. An
answer with problems gets one correction round; what is still ungrounded after that is dropped
and named in the report's notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from day2ai.models import Fault, Hypothesis, Remediation

SUBMIT_TOOL = "submit_hypotheses"
MAX_HYPOTHESES = 5


class RemediationAnswer(BaseModel):
    action: str = Field(min_length=1, description="what to do, e.g. 'roll back payments to v1.4.2'")
    runbook: str | None = Field(default=None, description="runbook path#anchor if one was cited")


class HypothesisAnswer(BaseModel):
    """One ranked root-cause hypothesis."""

    service: str = Field(min_length=1, description="the service or component where the fault started")
    fault: Fault = Field(description="the kind of fault")
    confidence: float = Field(ge=0.0, le=1.0, description="0..1")
    summary: str = Field(min_length=1, description="one or two sentences a human can act on")
    evidence: list[str] = Field(description="ids of the evidence that supports it, e.g. ['e3', 'e7']")
    contradicting: list[str] = Field(default_factory=list, description="ids of evidence against it")
    remediation: list[str | RemediationAnswer] = Field(default_factory=list, description="suggested actions")

    @field_validator("fault", mode="before")
    @classmethod
    def _fault_word(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower().replace(" ", "_").replace("-", "_")
        return value

    @field_validator("evidence", "contradicting", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v for v in re.split(r"[,\s]+", value) if v]
        return value


class FinalAnswer(BaseModel):
    """Ranked hypotheses, best first."""

    hypotheses: list[HypothesisAnswer] = Field(description="best first")


class AnswerError(ValueError):
    """The answer could not be parsed; the message is written for the model to fix it."""


def parse_answer(payload: str | dict[str, Any]) -> FinalAnswer:
    """Parse a ``submit_hypotheses`` call's arguments or a text reply holding a JSON object."""
    data = _extract_json(payload) if isinstance(payload, str) else payload
    if isinstance(data, list):
        data = {"hypotheses": data}
    elif isinstance(data, dict) and "hypotheses" not in data and "service" in data:
        data = {"hypotheses": [data]}  # a single hypothesis
    try:
        return FinalAnswer.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:6]
        )
        raise AnswerError(f"the answer does not match the schema ({problems})") from exc


def _extract_json(text: str) -> Any:
    """The JSON in a reply: the whole text, a fenced block, or the outermost object or list."""
    candidates = [text.strip()]
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        candidates.append(fenced.group(1))
    for opening, closing in (("{", "}"), ("[", "]")):
        start, end = text.find(opening), text.rfind(closing)
        if start != -1 and end > start:
            candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise AnswerError("no JSON object with a 'hypotheses' list was found in the reply")


class Grounded(BaseModel):
    hypotheses: list[Hypothesis]
    problems: list[str] = Field(default_factory=list)  # for the correction prompt
    dropped: list[str] = Field(default_factory=list)  # for the report notes


def ground(answer: FinalAnswer, evidence_ids: set[str], *, limit: int = MAX_HYPOTHESES) -> Grounded:
    """Keep hypotheses citing at least one known id; strip unknown ids; name every problem."""
    kept: list[Hypothesis] = []
    problems: list[str] = []
    dropped: list[str] = []
    for rank, h in enumerate(answer.hypotheses[:limit], start=1):
        label = f"hypothesis {rank} ({h.service}, {h.fault.value})"
        unknown = [i for i in h.evidence if i not in evidence_ids]
        valid = [i for i in h.evidence if i in evidence_ids]
        if unknown:
            problems.append(f"{label} cites evidence ids that do not exist: {', '.join(unknown)}")
        if not valid:
            if not h.evidence:
                problems.append(f"{label} cites no evidence")
            dropped.append(f"{label}: no evidence from this run supports it")
            continue
        kept.append(_to_hypothesis(h, valid, evidence_ids))
    if not answer.hypotheses:
        problems.append("the answer contains no hypotheses")
    return Grounded(hypotheses=kept, problems=problems, dropped=dropped)


def _to_hypothesis(h: HypothesisAnswer, supporting: list[str], evidence_ids: set[str]) -> Hypothesis:
    remediations = [
        Remediation(action=r) if isinstance(r, str) else Remediation(action=r.action, runbook=r.runbook)
        for r in h.remediation
    ]
    return Hypothesis(
        service=h.service.strip(), fault=h.fault, confidence=h.confidence, summary=h.summary.strip(),
        supporting=list(dict.fromkeys(supporting)),
        contradicting=[i for i in h.contradicting if i in evidence_ids],
        remediations=remediations,
    )


def brief_submit_tool_schema() -> dict[str, Any]:
    """The answer tool as offered next to the investigation tools: the shape in one line, the
    full schema (:func:`submit_tool_schema`) only when the answer is asked for (a third of the tokens)."""
    return {"type": "function", "function": {
        "name": SUBMIT_TOOL,
        "description": "Submit the final answer, best first: {hypotheses: [{service, fault, confidence 0-1, "
                       "summary, evidence: [ids], remediation: [actions]}]}.",
        "parameters": {"type": "object", "properties": {"hypotheses": {"type": "array", "items": {"type": "object"}}},
                       "required": ["hypotheses"]},
    }}


def submit_tool_schema(evidence_ids: Sequence[str] | None = None,
                       max_hypotheses: int = MAX_HYPOTHESES) -> dict[str, Any]:
    """The ``submit_hypotheses`` tool in OpenAI format, written by hand to stay small (it is sent
    with every request); the answer is validated with :class:`FinalAnswer` all the same.

    The fault taxonomy (:class:`~day2ai.models.Fault`) and, when given, the evidence ids known so
    far are enums, and lengths are bounded, so servers that constrain output to the schema
    (llama.cpp's grammars, vLLM's guided decoding) can only produce a valid, bounded answer.
    """
    text = {"type": "string"}
    id_item: dict[str, Any] = {"type": "string", "enum": list(evidence_ids)} if evidence_ids else text
    ids = {"type": "array", "items": id_item, "minItems": 1, "maxItems": 6, "description": "evidence ids, e.g. e3"}
    item = {
        "type": "object",
        "properties": {"service": {"type": "string", "maxLength": 80},
                       "fault": {"type": "string", "enum": [f.value for f in Fault]},
                       "confidence": {"type": "number"}, "summary": {"type": "string", "maxLength": 400},
                       "evidence": ids,
                       "remediation": {"type": "array", "items": {"type": "string", "maxLength": 200},
                                       "maxItems": 3}},
        "required": ["service", "fault", "confidence", "summary", "evidence"],
    }
    return {"type": "function", "function": {
        "name": SUBMIT_TOOL,
        "description": "Submit the final answer: ranked root-cause hypotheses, best first.",
        "parameters": {"type": "object", "properties": {"hypotheses": {
            "type": "array", "items": item, "minItems": 1, "maxItems": max_hypotheses}},
                       "required": ["hypotheses"]},
    }}
