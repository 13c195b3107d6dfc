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


def is_enum_word(word: str) -> bool:
    """True for an ALL-CAPS word (``RUNNING``, ``GC_OVERHEAD``): a state or event name."""
    return word.isupper() and _ENUM_WORD.fullmatch(word) is not None


def covers(pattern: str, token: str) -> bool:
    """True when template token ``pattern`` (which contains ``<*>``) covers ``token``."""
    if pattern == WILDCARD or token == pattern:
        return True
    head, _, tail = pattern.partition(WILDCARD)
    return len(token) >= len(head) + len(tail) and token.startswith(head) and token.endswith(tail)


def compatible(a: str, b: str) -> bool:
    """True when two template tokens can hold the same thing: equal, or one's variable covers the
    other (``tty=<*>`` / ``tty=NODEVssh``; not ``tty=:<*>`` / ``tty=NODEVssh``)."""
    return a == b or (WILDCARD in a and covers(a, b)) or (WILDCARD in b and covers(b, a))


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
    template: Sequence[str],
    is_open: Sequence[bool],
    tokens: Sequence[str],
    hard: Sequence[int],
    template_runs: Sequence[str | None] | None = None,
    runs: Sequence[str | None] | None = None,
) -> list[int]:
    """The ``hard`` positions where the two words can be constants of different statements.

    Where one word holds a masked variable and its text around the variable also fits the
    other word, the position holds one variable that masking recognised in one line and
    missed (or caught only partly) in the other: such a difference never separates
    templates. That is the case when one word is a bare variable and the other carries one
    (``<*>`` / ``github.com:<*>``), and when one word's pattern covers the other word, glue
    included (``chdir(<*>)`` / ``chdir(pwd)``, ``rhost=<*>`` / ``rhost=<*>.example.net``); for
    a variable slot the text of its run counts as its pattern (``template_runs`` / ``runs``: the
    slot ``<*>`` of ``<*>:`` covers ``./a.out:``).
    Every other difference (``(uid=<*>)`` / ``LOGIN(uid=<*>)``, ``Foo#<*>`` / ``Bar#<*>``,
    plain words, and a bare variable against a plain word, whose form it does not constrain)
    may be two statements and needs the evidence of several distinct values
    (``min_distinct_values``).
    """
    return [
        i
        for i in hard
        if not (
            _same_variable(template[i], tokens[i])
            or _same_variable(_run_text(template, template_runs, i), _run_text(tokens, runs, i))
        )
    ]


def _run_text(tokens: Sequence[str], runs: Sequence[str | None] | None, i: int) -> str:
    """The text of the variable run at ``i`` (``<*>:``), else the token itself."""
    run = runs[i] if runs is not None and tokens[i] == WILDCARD else None
    return run if run is not None else tokens[i]


def _same_variable(want: str, got: str) -> bool:
    """True when ``want`` and ``got`` are one variable seen with and without (full) masking."""
    if WILDCARD in want and WILDCARD in got:
        return want == WILDCARD or got == WILDCARD or covers(want, got) or covers(got, want)
    if WILDCARD in want:
        return want != WILDCARD and covers(want, got)
    if WILDCARD in got:
        return got != WILDCARD and covers(got, want)
    return False


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
        elif misses == 0 or (caps and is_enum_word(want) and is_enum_word(got)):
            return None
        else:
            misses -= 1
    if constants_only:
        words = len(tokens) - (same - constants)  # positions where the template has a word
        return (constants / words if words else 1.0, constants)
    return (same / len(tokens) if tokens else 1.0, constants)
