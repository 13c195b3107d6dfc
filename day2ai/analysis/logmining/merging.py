"""Comparing and generalising template tokens: similarity, coverage, merging."""

from __future__ import annotations

import re
from collections.abc import Sequence

from day2ai.analysis.logmining.masking import WILDCARD

# ALL-CAPS words (states, event kinds): MinerConfig.caps_words_differ, on in 70 of 70
# leave-systems-out choices (a tie: with the final rules, off gives the same mean GA).
_ENUM_WORD = re.compile(r"[A-Z][A-Z0-9_]+")
# Where a generalised word may keep a common prefix / suffix: punctuation, never letters or digits.
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


def word_positions(
    template: Sequence[str], is_open: Sequence[bool], tokens: Sequence[str], hard: Sequence[int]
) -> list[int]:
    """The ``hard`` positions where the two words can be constants of different statements.

    Where one word is a bare variable (``<*>``) and the other carries one glued to some text
    (``github.com:<*>``: a host the endpoint rule did not catch, ``dsl-<*>``), the position
    holds a variable: such a difference never separates templates. Every other difference
    (``(uid=<*>)`` / ``LOGIN(uid=<*>)``, ``Foo#<*>`` / ``Bar#<*>``, plain words) may be two
    statements and needs the evidence of several distinct values (``min_distinct_values``).
    """
    return [i for i in hard if not _same_variable(template[i], tokens[i])]


def _same_variable(want: str, got: str) -> bool:
    if WILDCARD not in want or WILDCARD not in got:
        return False
    return want == WILDCARD or got == WILDCARD


def similarity(
    template: Sequence[str],
    is_open: Sequence[bool],
    tokens: Sequence[str],
    misses: int,
    caps: bool = True,
    constants_only: bool = False,
) -> tuple[float, int] | None:
    """(similarity, constants); None if merging is forbidden or the template misses more than
    ``misses`` positions (it then cannot reach the threshold).

    The similarity is the share of positions the template accepts or, with ``constants_only``,
    the share of the template's constant words that the message repeats (positions that hold a
    variable in the template are left out: agreeing on them says nothing about the statement,
    and a line with a long header of variables would otherwise match any other line of that
    header). With ``caps``, two different ALL-CAPS words (``RUNNING`` / ``FAILED``) forbid
    merging: such words often name states and event kinds rather than values.
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
            caps and want.isupper() and got.isupper() and _ENUM_WORD.fullmatch(want) and _ENUM_WORD.fullmatch(got)
        ):
            return None
        else:
            misses -= 1
    if constants_only:
        words = len(tokens) - (same - constants)  # positions where the template has a word
        return (constants / words if words else 1.0, constants)
    return (same / len(tokens) if tokens else 1.0, constants)
