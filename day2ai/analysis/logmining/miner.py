"""Streaming log-template miner (Drain family).

Each message is masked (see :mod:`.masking`), split on whitespace and routed through a
prefix tree keyed by its token count and its first constant tokens. In the leaf it joins the
most similar template (share of the template's constant tokens it repeats, at least
``similarity_threshold``) or starts a new one. Joining refines the template: positions that
differ become variables. When two words differ only in their middle, the common prefix and
suffix up to a delimiter are kept (``environment:<*>``). Two different ALL-CAPS words
(``RUNNING`` / ``FAILED``) are never merged: such words name states and event kinds, not
values. An exact cache on the masked text skips the tree for repeated shapes.

Template ids (``T1``, ``T2`` ...) are stable for the life of a miner and across
:meth:`TemplateMiner.to_json` / :meth:`TemplateMiner.from_json`. Memory is bounded: at most
``max_templates`` templates are kept, the least recently seen is evicted first.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from day2ai.analysis.logmining.masking import WILDCARD, Masker, MaskingConfig, render_template
from day2ai.analysis.logmining.state import MinerState, TemplateState, parse_state
from day2ai.errors import InputError

_DELIMITERS = frozenset(" ,;:=|\"'[](){}!<>/@#$%&+*.-_")
_ENUM_WORD = re.compile(r"[A-Z][A-Z0-9_]+")
_HAS_DIGIT = re.compile(r"\d")


class MinerConfig(BaseModel):
    """Settings of a :class:`TemplateMiner` (one configuration for every system)."""

    model_config = ConfigDict(frozen=True)

    similarity_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    prefix_tokens: int = Field(default=1, ge=0, le=8, description="Leading tokens used as tree keys.")
    min_distinct_values: int = Field(
        default=4,
        ge=2,
        description="Templates differing only in plain words merge once this many values were seen.",
    )
    max_children: int = Field(default=100, ge=2, description="Distinct keys per tree node before <*>.")
    max_templates: int = Field(default=5000, ge=1, description="Cap on templates; LRU eviction beyond.")
    cache_size: int = Field(default=100_000, ge=0, description="Entries of the exact masked-text cache.")
    masking: MaskingConfig = Field(default_factory=MaskingConfig)


class Match(BaseModel):
    """Result of adding one message to the miner."""

    model_config = ConfigDict(frozen=True)

    template_id: str
    template: str
    is_new: bool = Field(description="The message started a new template.")
    changed: bool = Field(description="The message refined (generalised) an existing template.")


class TemplateInfo(BaseModel):
    """A mined template and how often it was seen."""

    model_config = ConfigDict(frozen=True)

    template_id: str
    template: str
    count: int
    first_line: int = Field(description="1-based index of the first message that made or joined it.")
    last_line: int


class _Cluster:
    __slots__ = (
        "alias",
        "alive",
        "count",
        "first_line",
        "id",
        "key",
        "last_line",
        "number",
        "open",
        "rendered",
        "tokens",
    )

    def __init__(self, number: int, tokens: list[str], key: tuple[object, ...], line: int) -> None:
        self.number = number
        self.id = f"T{number}"
        self.alias: _Cluster | None = None
        self.tokens = tokens
        # Positions generalised by merging: they accept any word the pattern covers. Wildcards
        # that come from masking stay closed: they only accept masked variables.
        self.open = [False] * len(tokens)
        self.key = key
        self.count = 0
        self.first_line = line
        self.last_line = line
        self.alive = True
        self.rendered: str | None = None

    def text(self) -> str:
        if self.rendered is None:
            self.rendered = render_template(self.tokens)
        return self.rendered


def _is_variable(token: str) -> bool:
    return WILDCARD in token or _HAS_DIGIT.search(token) is not None


def _resolve(cluster: _Cluster) -> _Cluster:
    while cluster.alias is not None:
        cluster = cluster.alias
    return cluster


def _hard_positions(cluster: _Cluster, tokens: list[str]) -> list[int]:
    """Positions where the message has a word the template does not accept."""
    return [
        i
        for i, (want, got, is_open) in enumerate(zip(cluster.tokens, tokens, cluster.open, strict=True))
        if want != got and not (is_open and _covers(want, got))
    ]


def _covers(pattern: str, token: str) -> bool:
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


class TemplateMiner:
    """Streaming template miner. Not thread-safe: use one per stream (or guard it)."""

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._masker = Masker(self.config.masking)
        self._threshold = self.config.similarity_threshold
        self._clusters: OrderedDict[str, _Cluster] = OrderedDict()
        self._leaves: dict[tuple[object, ...], list[_Cluster]] = {}
        self._children: dict[tuple[object, ...], set[str]] = {}
        self._cache: dict[str, _Cluster] = {}
        self._aliases: dict[str, _Cluster] = {}
        self._next_id = 1
        self.lines = 0
        self.evicted = 0

    # -- public API -------------------------------------------------------------------------

    def mask(self, message: str) -> str:
        """The masked form of ``message`` (what the tree sees)."""
        return self._masker.mask(message)

    def add(self, message: str) -> Match:
        """Add one message; return the template it now belongs to."""
        cluster, is_new, changed = self._add(message)
        return Match.model_construct(
            template_id=cluster.id, template=cluster.text(), is_new=is_new, changed=changed
        )

    def add_id(self, message: str) -> str:
        """Add one message; return only its template id (the fast path for bulk mining)."""
        return self._add(message)[0].id

    def add_many(self, messages: Iterable[str]) -> list[str]:
        """Add every message; return their template ids, in order."""
        add = self._add
        return [add(message)[0].id for message in messages]

    def resolve(self, template_id: str) -> str:
        """The current id of a template: ids of templates merged into another resolve to the survivor."""
        cluster = self._aliases.get(template_id)
        return _resolve(cluster).id if cluster is not None else template_id

    def template(self, template_id: str) -> str | None:
        """Current text of a template, or None if unknown (never seen, or evicted)."""
        cluster = self._clusters.get(self.resolve(template_id))
        return cluster.text() if cluster is not None else None

    def templates(self) -> list[TemplateInfo]:
        """Every live template, most frequent first."""
        infos = [
            TemplateInfo(
                template_id=c.id,
                template=c.text(),
                count=c.count,
                first_line=c.first_line,
                last_line=c.last_line,
            )
            for c in self._clusters.values()
        ]
        infos.sort(key=lambda info: (-info.count, info.first_line))
        return infos

    def to_json(self) -> str:
        """The whole miner state as a JSON document (see :class:`MinerState`)."""
        state = MinerState(
            config=self.config.model_dump(mode="json"),
            next_id=self._next_id,
            lines=self.lines,
            templates=[
                TemplateState(
                    number=c.number,
                    tokens=list(c.tokens),
                    open=list(c.open),
                    count=c.count,
                    first_line=c.first_line,
                    last_line=c.last_line,
                )
                for c in self._clusters.values()
            ],
            aliases={old: _resolve(c).id for old, c in self._aliases.items() if _resolve(c).alive},
        )
        return state.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> TemplateMiner:
        """Rebuild a miner saved by :meth:`to_json`; raises :class:`InputError` on a bad document."""
        state = parse_state(text)
        try:
            config = MinerConfig.model_validate(state.config)
        except ValueError as exc:
            raise InputError(f"invalid miner state: config: {exc}") from exc
        miner = cls(config)
        miner._next_id = state.next_id
        miner.lines = state.lines
        for saved in state.templates:
            key = miner._route(saved.tokens, create=True)
            cluster = _Cluster(saved.number, list(saved.tokens), key, saved.first_line)
            cluster.open = list(saved.open)
            cluster.count = saved.count
            cluster.last_line = saved.last_line
            miner._leaves.setdefault(key, []).append(cluster)
            miner._clusters[cluster.id] = cluster
        for old, new in state.aliases.items():
            target = miner._clusters.get(new)
            if target is not None:
                miner._aliases[old] = target
        return miner

    def match(self, message: str) -> str | None:
        """Template id ``message`` would join, without changing the miner; None if none fits."""
        masked = self._masker.mask(message)
        cached = self._cache.get(masked)
        if cached is not None and _resolve(cached).alive:
            return _resolve(cached).id
        tokens = masked.split()
        leaf = self._leaves.get(self._route(tokens, create=False))
        if not leaf:
            return None
        best = self._best(leaf, tokens)
        return best.id if best is not None and self._covers_all(best, tokens) else None

    # -- internals --------------------------------------------------------------------------

    def _add(self, message: str) -> tuple[_Cluster, bool, bool]:
        self.lines += 1
        masked = self._masker.mask(message)
        cached = self._cache.get(masked)
        if cached is not None:
            cached = _resolve(cached)
            if cached.alive:
                self._touch(cached)
                return cached, False, False
        tokens = masked.split()
        key = self._route(tokens, create=True)
        leaf = self._leaves.setdefault(key, [])
        best = self._best(leaf, tokens)
        cluster: _Cluster | None = None
        hard: list[int] = []
        if best is not None:
            hard = _hard_positions(best, tokens)
            cluster = self._merge_siblings(leaf, best, tokens, hard) if hard else best
        is_new = cluster is None
        changed = bool(hard) and not is_new
        if cluster is None:
            cluster = _Cluster(self._next_id, tokens, key, self.lines)
            self._next_id += 1
            leaf.append(cluster)
            self._clusters[cluster.id] = cluster
            if len(self._clusters) > self.config.max_templates:
                self._evict()
        else:
            self._refine(cluster, tokens)
        self._touch(cluster)
        if self.config.cache_size:
            if len(self._cache) >= self.config.cache_size:
                self._cache.clear()
            self._cache[masked] = cluster
        return cluster, is_new, changed

    def _merge_siblings(
        self, leaf: list[_Cluster], best: _Cluster, tokens: list[str], hard: list[int]
    ) -> _Cluster | None:
        """Merge the templates that differ from ``best`` only at ``hard`` positions, if enough values.

        Returns the surviving (oldest) template, or None when fewer than ``min_distinct_values``
        distinct words were seen at those positions (the message then starts its own template).
        """
        fixed = [i for i in range(len(tokens)) if i not in hard]
        reference = best.tokens
        values = [{tokens[i]} for i in hard]
        siblings: list[_Cluster] = []
        for other in leaf:
            ot = other.tokens
            if all(ot[i] == reference[i] or WILDCARD in ot[i] or WILDCARD in reference[i] for i in fixed):
                siblings.append(other)
                for seen, i in zip(values, hard, strict=True):
                    seen.add(ot[i])
        if min(len(seen) for seen in values) < self.config.min_distinct_values:
            return None
        survivor = min(siblings, key=lambda c: c.number)
        for other in siblings:
            if other is not survivor:
                self._absorb(survivor, other, leaf)
        return survivor

    def _absorb(self, survivor: _Cluster, other: _Cluster, leaf: list[_Cluster]) -> None:
        self._refine(survivor, other.tokens)
        survivor.count += other.count
        survivor.first_line = min(survivor.first_line, other.first_line)
        survivor.last_line = max(survivor.last_line, other.last_line)
        other.alias = survivor
        other.alive = False
        leaf.remove(other)
        del self._clusters[other.id]
        self._aliases[other.id] = survivor
        if len(self._aliases) > 10 * self.config.max_templates:
            for stale in list(self._aliases)[: len(self._aliases) // 2]:
                del self._aliases[stale]

    def _touch(self, cluster: _Cluster) -> None:
        cluster.count += 1
        cluster.last_line = self.lines
        self._clusters.move_to_end(cluster.id)

    def _route(self, tokens: list[str], *, create: bool) -> tuple[object, ...]:
        key: tuple[object, ...] = (len(tokens),)
        for token in tokens[: self.config.prefix_tokens]:
            word = WILDCARD if _is_variable(token) else token
            seen = self._children.get(key)
            if seen is None:
                if not create:
                    return (*key, word)
                seen = self._children[key] = set()
            if word not in seen:
                if len(seen) >= self.config.max_children:
                    word = WILDCARD
                elif create:
                    seen.add(word)
            key = (*key, word)
        return key

    def _best(self, leaf: list[_Cluster], tokens: list[str]) -> _Cluster | None:
        best: _Cluster | None = None
        best_score = (-1.0, -1)
        for cluster in leaf:
            score = self._similarity(cluster, tokens)
            if score is not None and score > best_score:
                best, best_score = cluster, score
        if best is None or best_score[0] < self._threshold:
            return None
        return best

    @staticmethod
    def _similarity(cluster: _Cluster, tokens: list[str]) -> tuple[float, int] | None:
        """(share of positions the template accepts, constants) or None if merging is forbidden."""
        same = constants = 0
        for want, got, is_open in zip(cluster.tokens, tokens, cluster.open, strict=True):
            if want == got:
                same += 1
                if want != WILDCARD:
                    constants += 1
            elif is_open and _covers(want, got):
                same += 1
            elif _ENUM_WORD.fullmatch(want) and _ENUM_WORD.fullmatch(got):
                return None
        return (same / len(tokens) if tokens else 1.0, constants)

    def _covers_all(self, cluster: _Cluster, tokens: list[str]) -> bool:
        return not _hard_positions(cluster, tokens)

    def _refine(self, cluster: _Cluster, tokens: list[str]) -> bool:
        changed = False
        template = cluster.tokens
        for i in _hard_positions(cluster, tokens):
            got = tokens[i]
            template[i] = WILDCARD if got == WILDCARD else merge_tokens(template[i], got)
            cluster.open[i] = True
            changed = True
        if changed:
            cluster.rendered = None
        return changed

    def _evict(self) -> None:
        _, victim = self._clusters.popitem(last=False)
        victim.alive = False
        leaf = self._leaves.get(victim.key)
        if leaf is not None:
            leaf.remove(victim)
            if not leaf:
                del self._leaves[victim.key]
        self.evicted += 1
