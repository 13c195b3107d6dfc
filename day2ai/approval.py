"""The approval hook: the only way a remediation may ever be carried out.

day2ai's tools are read-only and its remediations are suggestions. A bot that wants to act on one
(roll back, restart, scale) passes it through :func:`apply_remediation` with an explicit
``approve`` hook (a human clicking a button in Slack, a change-management check). Without an
approval the executor is never called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from day2ai.errors import ApprovalRequired
from day2ai.models import Remediation

T = TypeVar("T")
ApprovalHook = Callable[[Remediation], Awaitable[bool]]


async def deny_all(remediation: Remediation) -> bool:
    """The default hook: nothing is approved."""
    return False


async def apply_remediation(
    remediation: Remediation,
    execute: Callable[[Remediation], Awaitable[T]],
    approve: ApprovalHook = deny_all,
) -> T:
    """Run ``execute(remediation)`` only if ``approve(remediation)`` says yes.

    Every remediation day2ai produces has ``requires_approval=True`` unless it is purely
    informational; those still go through the hook, so one code path guards all actions.
    Raises :class:`~day2ai.errors.ApprovalRequired` when the hook declines.
    """
    if not await approve(remediation):
        raise ApprovalRequired(f"not approved: {remediation.action}")
    return await execute(remediation)
