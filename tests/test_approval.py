from __future__ import annotations

import pytest

from day2ai.approval import apply_remediation
from day2ai.errors import ApprovalRequired
from day2ai.models import Remediation

REM = Remediation(action="roll back payments to v2.13.2", risk="medium", requires_approval=True)


async def test_executor_not_called_without_approval() -> None:
    calls: list[str] = []

    async def execute(r: Remediation) -> str:
        calls.append(r.action)
        return "done"

    with pytest.raises(ApprovalRequired):
        await apply_remediation(REM, execute)
    assert calls == []


async def test_executor_called_once_when_approved() -> None:
    seen: list[str] = []

    async def approve(r: Remediation) -> bool:
        seen.append(r.action)
        return True

    async def execute(r: Remediation) -> str:
        return f"ran {r.action}"

    assert await apply_remediation(REM, execute, approve) == "ran roll back payments to v2.13.2"
    assert seen == [REM.action]
