"""Links from hypotheses to runbooks: remediations cite the section (``path#anchor``) that matches
the hypothesis' service and fault."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from day2ai.knowledge.types import Hit
from day2ai.models import Fault, Hypothesis, Remediation


class RunbookFinder(Protocol):
    async def arunbook_for(self, service: str, fault: Fault | str) -> Hit | None: ...


def with_runbook(hypothesis: Hypothesis, hit: Hit | None) -> Hypothesis:
    """A copy of ``hypothesis`` whose remediations cite ``hit`` (added as one when there are none).

    Remediations that already cite a runbook keep theirs. ``hit`` None returns the hypothesis as is.
    """
    if hit is None:
        return hypothesis
    if not hypothesis.remediations:
        action = f"Follow the runbook section '{hit.title}'"
        remediation = Remediation(
            action=action, rationale="runbook for this service and fault", risk="medium", runbook=hit.ref
        )
        return hypothesis.model_copy(update={"remediations": [remediation]})
    updated = [r if r.runbook else r.model_copy(update={"runbook": hit.ref}) for r in hypothesis.remediations]
    return hypothesis.model_copy(update={"remediations": updated})


async def link_runbooks(kb: RunbookFinder, hypotheses: Sequence[Hypothesis]) -> list[Hypothesis]:
    """Every hypothesis with its remediations pointing at the matching runbook section, if any."""
    cache: dict[tuple[str, str], Hit | None] = {}
    out: list[Hypothesis] = []
    for hyp in hypotheses:
        key = (hyp.service, hyp.fault.value)
        if key not in cache:
            cache[key] = await kb.arunbook_for(hyp.service, hyp.fault)
        out.append(with_runbook(hyp, cache[key]))
    return out
