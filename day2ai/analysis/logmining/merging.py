"""Comparing and generalising template tokens: similarity, coverage, merging."""

from __future__ import annotations

import re
from collections.abc import Sequence

from day2ai.analysis.logmining.masking import WILDCARD

_ENUM_WORD = re.compile(r"[A-Z][A-Z0-9_]+")
_DELIMITERS = frozenset(" ,;:=|\"'[](){}!<>/@#$%&+*.-_")


def covers(pattern: str, token: str) -> bool:
    """True when template token ``pattern`` (which contains ``<*>``) covers ``token``."""
    if pattern == WILDCARD or token == pattern:
        return True
    head, _, tail = pattern.partition(WILDCARD)
    return len(token) >= len(head) + len(tail) and token.startswith(head) and token.endswith(tail)


def merge_tokens(pattern: str, token: str) -> str:
    """Generalise template token ``pattern`` so it also covers ``token``.

    Keeps the longest common prefix ending with a delimiter and the longest common suffix
    starting with one; everything between becomes ``<*>``.
    """
    if pattern == WILDCARD:
        return WILDCARD
    if WILDCARD in pattern:
        head, _, tail = pattern.partition(WILDCARD)
    else:
        head = tail = pattern
    limit = min(len(head), len(token))
    i = 0
    while i < limit and head[i] == token[i]:
        i += 1
    while i > 0 and head[i - 1] not in _DELIMITERS:
        i -= 1
    prefix = head[:i]
    room = min(len(tail), len(token) - len(prefix))
    j = 0
    while j < room and tail[len(tail) - 1 - j] == token[len(token) - 1 - j]:
        j += 1
    while j > 0 and tail[len(tail) - j] not in _DELIMITERS:
        j -= 1
    suffix = tail[len(tail) - j :] if j else ""
    return prefix + WILDCARD + suffix


def merge_runs(mine: str | None, other: str | None) -> str | None:
    """Text of a variable run covering both texts: word by word if they have as many words, else None."""
    if mine is None or other is None:
        return None
    words, others = mine.split(" "), other.split(" ")
    if len(words) != len(others):
        return None
    return " ".join(a if a == b else merge_tokens(a, b) for a, b in zip(words, others, strict=True))


def hard_positions(template: Sequence[str], is_open: Sequence[bool], tokens: Sequence[str]) -> list[int]:
    """Positions where the message has a word the template does not accept."""
    return [
        i
        for i, (want, got, flag) in enumerate(zip(template, tokens, is_open, strict=True))
        if want != got and not (flag and covers(want, got))
    ]


def similarity(
    template: Sequence[str], is_open: Sequence[bool], tokens: Sequence[str], misses: int
) -> tuple[float, int] | None:
    """(share of positions the template accepts, constants); None if merging is forbidden or the
    template misses more than ``misses`` positions (it then cannot reach the threshold).

    Two different ALL-CAPS words (``RUNNING`` / ``FAILED``) forbid merging: such words name
    states and event kinds, not values.
    """
    same = constants = 0
    for want, got, flag in zip(template, tokens, is_open, strict=True):
        if want == got:
            same += 1
            if want != WILDCARD:
                constants += 1
        elif flag and covers(want, got):
            same += 1
        elif misses == 0 or (
            want.isupper() and got.isupper() and _ENUM_WORD.fullmatch(want) and _ENUM_WORD.fullmatch(got)
        ):
            return None
        else:
            misses -= 1
    return (same / len(tokens) if tokens else 1.0, constants)
