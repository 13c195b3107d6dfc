"""Values shared between statements: words already seen as values of one variable.

A variable often takes its values from one vocabulary in several statements: the user names
of ``session opened for user <*>`` are those of ``session closed for user <*>``. Once plain
words at one position were merged as values of a variable (``min_distinct_values`` of them
were seen), every set of sibling templates elsewhere that differ only in words *of that same
vocabulary* is one statement too, even with fewer distinct values: they vary like the
variable does. Words that were never values of one merged variable need their own evidence.

Used by :class:`~day2ai.analysis.logmining.miner.TemplateMiner` (``MinerConfig.shared_values``).
Memory is bounded: at most ``limit`` words are remembered, then the table starts afresh.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

from day2ai.analysis.logmining.masking import WILDCARD
from day2ai.analysis.logmining.merging import is_enum_word


class SharedValues:
    """Word -> the vocabulary (set of words) of the merged variables it was a value of.

    Vocabularies that share a word are one vocabulary (disjoint sets, the smaller joins the
    larger), so learning costs time in proportion to the words moved, not to the vocabulary.
    """

    __slots__ = ("_caps", "_limit", "_members", "_root")

    def __init__(self, limit: int, caps: bool) -> None:
        self._root: dict[str, str] = {}  # word -> a word naming its vocabulary
        self._members: dict[str, set[str]] = {}  # naming word -> the vocabulary
        self._limit = limit
        self._caps = caps

    def __len__(self) -> int:
        return len(self._root)

    def known(self, values: Iterable[str]) -> bool:
        """True when every word of ``values`` belongs to one vocabulary already learned."""
        roots = {self._root.get(w) for w in values}
        return len(roots) == 1 and None not in roots

    def learn(self, values: Iterable[str]) -> set[str] | None:
        """Record the plain words merged at one position; return the grown vocabulary, if it grew
        (the miner's own set: read it, do not change it).

        Words holding a variable say nothing about the vocabulary; with ``caps``, ALL-CAPS words
        (state and event names, never merged) are not learned either.
        """
        words = {v for v in values if WILDCARD not in v and not (self._caps and is_enum_word(v))}
        if len(words) < 2 or self.known(words):
            return None
        if len(self._root) + len(words) > self._limit:
            self._root.clear()
            self._members.clear()
        names = {self._root.get(w, w) for w in words}  # a new word names its own vocabulary
        groups = sorted(((n, self._members.get(n) or {n}) for n in names), key=lambda g: len(g[1]), reverse=True)
        name, largest = groups[0]
        self._root.setdefault(name, name)
        for other_name, other in groups[1:]:
            largest |= other
            for word in other:
                self._root[word] = name
            self._members.pop(other_name, None)
        self._members[name] = largest
        return largest

    def vocabularies(self) -> list[list[str]]:
        """Every vocabulary, sorted (for saving)."""
        return sorted(sorted(v) for v in self._members.values())

    def restore(self, vocabularies: Iterable[Sequence[str]]) -> None:
        for words in vocabularies:
            self.learn(words)


def sibling_groups(templates: Iterable[Sequence[str]], vocabulary: Container[str]) -> list[list[int]]:
    """Indexes of templates (token lists) that differ only at one position, in words of ``vocabulary``.

    Each group has at least two members; a template may appear in several groups.
    """
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, tokens in enumerate(templates):
        for i, token in enumerate(tokens):
            if token in vocabulary:
                groups.setdefault((i, *tokens[:i], *tokens[i + 1 :]), []).append(index)
    return [members for members in groups.values() if len(members) > 1]
