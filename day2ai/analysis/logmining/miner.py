"""Streaming log-template miner (Drain family).

Each message is masked token by token (see :mod:`.fastmask` and :mod:`.masking`) and reduced
to its *skeleton*: each run of variables (with the unit words and empty brackets that follow a
variable) becomes one slot, so ``0 bytes`` and ``1190 bytes (1.16 KB)`` take the same place.
The skeleton is routed through a prefix tree keyed by its length and its first constant
tokens. In the leaf it joins the most similar template (share of positions the template
accepts, at least ``similarity_threshold``) or starts a new one. Joining refines the
template: positions that differ become variables (when two words differ only in their middle,
the common prefix and suffix up to a delimiter are kept: ``environment:<*>``), and a
generalised word next to a variable joins its run (the template then moves to the leaf of its
shorter skeleton and merges with an equal template there). A run shows its text while all
members agree on it (``<*> seconds``), else one ``<*>``. Two different ALL-CAPS words
(``RUNNING`` / ``FAILED``) are never merged: such words name states and event kinds, not
values.

Which differences separate statements follows from how log statements are written:

- a bare variable against a word that carries a variable glued to text (``<*>`` /
  ``github.com:<*>``) is one variable that masking caught only partly, and a word that fits
  a masked pattern, glue included (``chdir(<*>)`` / ``chdir(pwd)``), one variable that
  masking missed in one line: never a separation;
- plain words that differ (``opened`` / ``closed`` or ``root`` / ``news``) may be constants of
  two statements or values of one: they merge once ``min_distinct_values`` sibling templates
  show that many values at that position (position-wise variability), or (``shared_values``)
  when they are all values of one variable merged before, in any statement (user names of
  ``session opened`` and ``session closed``; see :mod:`.vocab`). Siblings are equal at every
  other position, or hold there a variable that covers the other word (``tty=<*>`` and
  ``tty=NODEVssh``; not ``tty=:<*>`` and ``tty=NODEVssh``, nor ``Foo#<*>`` and ``Bar#<*>``);
- templates that differ in *more than one* word position (``max_word_differences``) never
  merge: constants of different statements differ together (class name and message text of
  two Java log calls behind one header), a variable varies alone;
- two templates that render to the same text are one template (the older id survives).
Each constant that decides accuracy is a :class:`MinerConfig` field (how it was chosen: there).

Two exact caches skip the work for repeats: message *shape* (digits zeroed, see
:mod:`.fastmask`) -> template, when masking removed every digit; and masked text -> template.

Template ids (``T1``, ``T2`` ...) are stable for the life of a miner and across
:meth:`TemplateMiner.to_json` / :meth:`TemplateMiner.from_json`. Memory is bounded: at most
``max_templates`` templates are kept, the least recently seen is evicted first.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable

from day2ai.analysis.logmining.cluster import Cluster as _Cluster
from day2ai.analysis.logmining.cluster import live as _live
from day2ai.analysis.logmining.cluster import resolve as _resolve
from day2ai.analysis.logmining.config import Match, MinerConfig, TemplateInfo
from day2ai.analysis.logmining.fastmask import (
    SHAPE,
    UNIT_WORDS,
    TokenMasker,
    collapse,
    decode,
    encode,
    hex_shape,
    legacy_skeleton,
)
from day2ai.analysis.logmining.masking import WILDCARD, Masker
from day2ai.analysis.logmining.merging import (
    compatible,
    covers,
    hard_positions,
    merge_runs,
    merge_tokens,
    similarity,
    word_positions,
)
from day2ai.analysis.logmining.state import MinerState, TemplateState, parse_state
from day2ai.analysis.logmining.vocab import SharedValues, sibling_groups
from day2ai.errors import InputError

__all__ = ["Match", "MinerConfig", "TemplateInfo", "TemplateMiner", "merge_tokens"]

_HAS_DIGIT = re.compile(r"\d")


# What placing a message needs when no cache knew it: (masked tokens, the shape cache to record
# it in or None, the shape).
_Pending = tuple[tuple[str, ...], dict[bytes, _Cluster] | None, bytes]


def _fits(run: str | None, word: str) -> bool:
    """True when the text of a one-word variable run (``<*>:``) covers ``word``."""
    return run is not None and " " not in run and WILDCARD in run and covers(run, word)


def _is_variable(token: str) -> bool:
    return WILDCARD in token or _HAS_DIGIT.search(token) is not None


class TemplateMiner:
    """Streaming template miner. Not thread-safe: use one per stream (or guard it)."""

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._masker = Masker(self.config.masking)
        self._units = UNIT_WORDS if self.config.unit_words else frozenset()
        self._caps = self.config.caps_words_differ
        self._constants_only = self.config.similarity_of_constants
        self._tokens = TokenMasker(self._masker, self._units)
        self._threshold = self.config.similarity_threshold
        self._allowed_misses: dict[int, int] = {}
        self._clusters: dict[str, _Cluster] = {}
        # Least recently seen first: (last line when pushed, number, id). Seeing a template does not
        # touch the heap; eviction re-pushes entries whose template was seen since (lazy LRU).
        self._lru: list[tuple[int, int, str]] = []
        self._leaves: dict[tuple[object, ...], list[_Cluster]] = {}
        self._children: dict[tuple[object, ...], set[str]] = {}
        # Exact caches: masked text -> template, and message shape -> template (only for shapes
        # whose masked text is digit-free, hence decided by the shape; see :mod:`.fastmask`).
        self._cache: dict[tuple[str, ...], _Cluster] = {}
        self._shape_cache: dict[bytes, _Cluster] = {}
        self._hex_cache: dict[bytes, _Cluster] = {}
        self._by_text: dict[str, _Cluster] = {}  # rendered text -> template (see _unify)
        self._cache_size = self.config.cache_size
        self._prefix_tokens = self.config.prefix_tokens
        self._max_children = self.config.max_children
        self._use_shapes = self._tokens.exact_shapes and self._cache_size > 0
        self._aliases: dict[str, _Cluster] = {}
        self._shared = SharedValues(4 * self.config.max_templates, self._caps) if self.config.shared_values else None
        self._next_id = 1
        self.lines = 0
        self.evicted = 0

    # -- public API -------------------------------------------------------------------------

    def mask(self, message: str) -> str:
        """The masked form of ``message`` (tokens joined by single spaces)."""
        return " ".join(self._tokens.mask_tokens(message))

    def add(self, message: str) -> Match:
        """Add one message; return the template it now belongs to."""
        cluster, is_new, changed = self._add(message[: self.config.max_message_chars])
        return Match.model_construct(template_id=cluster.id, template=cluster.text(), is_new=is_new, changed=changed)

    def add_id(self, message: str) -> str:
        """Add one message; return only its template id (the fast path for bulk mining)."""
        return self.add_many((message,))[0]

    def add_many(self, messages: Iterable[str]) -> list[str]:
        """Add every message; return their template ids, in order."""
        out: list[str] = []
        append = out.append
        slow = self._insert
        find = self._find
        limit = self.config.max_message_chars
        if not self._use_shapes:
            for message in messages:
                if len(message) > limit:
                    message = message[:limit]
                found = find(message, None)
                append((found if isinstance(found, _Cluster) else slow(found)[0]).id)
            return out
        cache = self._shape_cache
        lines = self.lines
        try:
            for message in messages:
                if len(message) > limit:
                    message = message[:limit]
                shape = message.encode("utf-8", "surrogatepass").translate(SHAPE)
                hit = cache.get(shape)
                if hit is not None and hit.alive:  # merged-away templates are not alive
                    lines += 1
                    hit.count += 1
                    hit.last_line = lines
                    append(hit.id)
                else:
                    self.lines = lines
                    found = find(message, shape, hit)
                    append((found if isinstance(found, _Cluster) else slow(found)[0]).id)
                    lines = self.lines
        finally:
            self.lines = lines
        return out

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
                    runs=list(c.runs),
                    count=c.count,
                    first_line=c.first_line,
                    last_line=c.last_line,
                )
                for c in self._clusters.values()
            ],
            aliases={old: _resolve(c).id for old, c in self._aliases.items() if _resolve(c).alive},
            vocabularies=self._shared.vocabularies() if self._shared is not None else [],
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
            if saved.runs is None:  # saved before variable runs existed: rebuild the skeleton
                tokens, runs, is_open = legacy_skeleton(miner._tokens, saved.tokens, saved.open)
            else:
                tokens, runs, is_open = list(saved.tokens), list(saved.runs), list(saved.open)
            key = miner._route(tokens, create=True)
            cluster = _Cluster(saved.number, tokens, runs, key, saved.first_line)
            cluster.open = is_open
            cluster.count = saved.count
            cluster.last_line = saved.last_line
            miner._leaves.setdefault(key, []).append(cluster)
            miner._clusters[cluster.id] = cluster
            miner._lru.append((cluster.last_line, cluster.number, cluster.id))
        heapq.heapify(miner._lru)
        if miner._shared is not None:
            miner._shared.restore(state.vocabularies)
        for old, new in state.aliases.items():
            target = miner._clusters.get(new)
            if target is not None:
                miner._aliases[old] = target
        return miner

    def match(self, message: str) -> str | None:
        """Template id ``message`` would join, without changing the miner; None if none fits."""
        tokens = self._tokens.mask_tokens(message[: self.config.max_message_chars])
        cached = self._cache.get(tuple(tokens))
        if cached is not None and _resolve(cached).alive:
            return _resolve(cached).id
        slots, _ = self._tokens.skeleton(tokens)
        leaf = self._leaves.get(self._route(slots, create=False))
        if not leaf:
            return None
        best = self._best(leaf, slots)
        return best.id if best is not None and not hard_positions(best.tokens, best.open, slots) else None

    # -- internals --------------------------------------------------------------------------

    def _remember(
        self, key: tuple[str, ...], cluster: _Cluster, table: dict[bytes, _Cluster] | None, shape: bytes
    ) -> None:
        """Cache ``cluster`` for the masked tokens, and for the shape when that decides the template."""
        size = self._cache_size
        if not size:
            return
        if len(self._cache) >= size:
            self._cache.clear()
        self._cache[key] = cluster
        if table is not None:
            if len(table) >= size:
                table.clear()
            table[shape] = cluster

    def _find(self, message: str, plain: bytes | None, hit: _Cluster | None = None) -> _Cluster | _Pending:
        """Count one message; return its template if a cache knows it, else what placing it needs.

        ``plain`` is the message's UTF-8 bytes with digits zeroed (:data:`SHAPE`), if known, and
        ``hit`` what the shape cache holds for it (when the caller looked it up already).
        """
        self.lines += 1
        masker = self._tokens
        table: dict[bytes, _Cluster] | None = None
        shape = b""
        cached: _Cluster | None = None
        if masker.exact_shapes:
            if plain is None:
                plain = encode(message).translate(SHAPE)
                hit = self._shape_cache.get(plain)
            text = decode(plain)
            hexed = hex_shape(message, text) if "x" in text or "X" in text else None
            if hexed is not None:
                shape, table, shape_text = hexed, self._hex_cache, decode(hexed)
                hit = table.get(shape)
            else:
                shape, table, shape_text = plain, self._shape_cache, text
            if hit is not None and self._use_shapes:
                cached = _live(hit)
                if cached is not None and cached is not hit:  # merged since: follow the survivor
                    table[shape] = cached
            if cached is None:
                tokens, digit_free = masker.mask_line(message, text, shape_text)
                if not (digit_free and self._use_shapes):
                    table = None
        else:
            tokens = tuple(masker.mask_tokens(message))
        if cached is None:
            found = self._cache.get(tokens)
            cached = _live(found) if found is not None else None
            if cached is None:
                return tokens, table, shape
            if cached is not found:  # merged since: point the entry at the survivor
                self._remember(tokens, cached, table, shape)
            elif table is not None:  # a new shape of a known masked text
                if len(table) >= self._cache_size:
                    table.clear()
                table[shape] = cached
        cached.count += 1
        cached.last_line = self.lines
        return cached

    def _add(self, message: str) -> tuple[_Cluster, bool, bool]:
        """Add one message: (its template, started a new one, refined an existing one)."""
        found = self._find(message, None)
        return (found, False, False) if isinstance(found, _Cluster) else self._insert(found)

    def _insert(self, pending: _Pending) -> tuple[_Cluster, bool, bool]:
        """Place a message no cache knew (see :meth:`_find`) in the tree."""
        tokens, table, shape = pending
        slots, runs = self._tokens.skeleton(tokens)
        cluster, is_new, changed = self._place(slots, runs)
        self._touch(cluster)
        self._remember(tokens, cluster, table, shape)
        return cluster, is_new, changed

    def _place(self, slots: list[str], runs: list[str | None]) -> tuple[_Cluster, bool, bool]:
        """Find or create the template of a skeleton through the tree."""
        key = self._route(slots, create=True)
        leaf = self._leaves.get(key)
        if leaf is None:
            leaf = self._leaves[key] = []
        best = self._best(leaf, slots)
        cluster: _Cluster | None = None
        hard: list[int] = []
        if best is not None:
            hard = word_positions(
                best.tokens, best.open, slots, hard_positions(best.tokens, best.open, slots), best.runs, runs
            )
            cluster = self._merge_siblings(leaf, best, slots, hard) if hard else best
        if cluster is None:
            cluster = _Cluster(self._next_id, slots, runs, key, self.lines)
            self._next_id += 1
            leaf.append(cluster)
            self._clusters[cluster.id] = cluster
            heapq.heappush(self._lru, (cluster.last_line, cluster.number, cluster.id))
            if len(self._clusters) > self.config.max_templates:
                self._evict()
            elif len(self._lru) > 2 * len(self._clusters) + 64:  # drop entries of merged templates
                self._lru = [(c.last_line, c.number, c.id) for c in self._clusters.values()]
                heapq.heapify(self._lru)
            survivor = self._unify(cluster)
            return survivor, survivor is cluster, survivor is not cluster
        changed = self._refine(cluster, slots, runs) or bool(hard)
        if changed:
            cluster = self._recollapse(cluster)
            cluster = self._unify(cluster)
        return cluster, False, changed

    def _unify(self, cluster: _Cluster) -> _Cluster:
        """Merge ``cluster`` with a live template of the same text and length (the older id survives).

        Two templates that read the same are one template to everyone downstream (an id per text);
        they arise when the same statement was split while its variable looked like plain words.
        """
        text = cluster.text()
        by_text = self._by_text
        other = by_text.get(text)
        if (
            other is None
            or other is cluster
            or not other.alive
            or len(other.tokens) != len(cluster.tokens)
            or other.text() != text
        ):
            if len(by_text) >= 4 * self.config.max_templates:
                by_text.clear()
            by_text[text] = cluster
            return cluster
        survivor, loser = (other, cluster) if other.number < cluster.number else (cluster, other)
        self._absorb(survivor, loser, self._leaves.get(loser.key, []))
        by_text[survivor.text()] = survivor
        return survivor

    def _recollapse(self, cluster: _Cluster) -> _Cluster:
        """Collapse variable slots a refinement made adjacent, and move the template to its new leaf.

        A template is normalised like a message: when a generalised word (``(<*>)``) now sits next
        to a variable, both form one run. The template then has a shorter skeleton; if a template
        with that skeleton exists, the two merge (the older id survives).
        """
        tokens, runs, is_open = collapse(cluster.tokens, cluster.runs, cluster.open, self._units)
        if len(tokens) == len(cluster.tokens):
            return cluster
        old = self._leaves.get(cluster.key)
        if old is not None and cluster in old:
            old.remove(cluster)
            if not old:
                del self._leaves[cluster.key]
        cluster.tokens, cluster.runs, cluster.open = tokens, runs, is_open
        cluster.rendered = None
        cluster.key = self._route(tokens, create=True)
        leaf = self._leaves.setdefault(cluster.key, [])
        best = self._best(leaf, tokens)
        leaf.append(cluster)
        if best is None or word_positions(
            best.tokens, best.open, tokens, hard_positions(best.tokens, best.open, tokens), best.runs, runs
        ):
            return cluster
        survivor, other = (best, cluster) if best.number < cluster.number else (cluster, best)
        self._absorb(survivor, other, leaf)
        return survivor

    def _merge_siblings(
        self, leaf: list[_Cluster], best: _Cluster, tokens: list[str], hard: list[int]
    ) -> _Cluster | None:
        """Merge the templates that differ from ``best`` only at ``hard`` positions, if enough values.

        Returns the surviving (oldest) template, or None when fewer than ``min_distinct_values``
        distinct words were seen at those positions and (``shared_values``) they are not all
        values of one variable merged before (the message then starts its own template).
        """
        if len(hard) > self.config.max_word_differences:
            return None
        fixed = [i for i in range(len(tokens)) if i not in hard]
        reference = best.tokens
        values = [{tokens[i]} for i in hard]
        siblings: list[_Cluster] = []
        for other in leaf:
            ot = other.tokens
            if all(compatible(reference[i], ot[i]) for i in fixed):
                siblings.append(other)
                for seen, i in zip(values, hard, strict=True):
                    seen.add(ot[i])
        shared = self._shared
        if min(len(seen) for seen in values) < self.config.min_distinct_values and not (
            shared is not None and len(hard) == 1 and shared.known(values[0])
        ):
            return None
        survivor = self._absorb_all(siblings, leaf)
        if shared is not None and len(hard) == 1:
            self._share(shared, values[0])
        return _resolve(survivor)

    def _absorb_all(self, group: list[_Cluster], leaf: list[_Cluster]) -> _Cluster:
        """Merge ``group`` into its oldest template; return that template."""
        survivor = min(group, key=lambda c: c.number)
        for other in group:
            if other is not survivor:
                self._absorb(survivor, other, leaf)
        return survivor

    def _share(self, shared: SharedValues, values: set[str]) -> None:
        """Learn the values just merged; merge sibling templates anywhere that differ only in them."""
        vocabulary = shared.learn(values)
        if vocabulary is None:
            return
        survivors: list[_Cluster] = []
        for leaf in [leaf for leaf in self._leaves.values() if len(leaf) > 1]:
            members = list(leaf)
            for group in sibling_groups([c.tokens for c in members], vocabulary):
                alive = [members[i] for i in group if members[i].alive]
                if len(alive) > 1:
                    survivors.append(self._absorb_all(alive, leaf))
        for cluster in survivors:
            if cluster.alive:
                self._unify(self._recollapse(cluster))

    def _absorb(self, survivor: _Cluster, other: _Cluster, leaf: list[_Cluster]) -> None:
        self._refine(survivor, other.tokens, other.runs)
        survivor.count += other.count
        survivor.first_line = min(survivor.first_line, other.first_line)
        survivor.last_line = max(survivor.last_line, other.last_line)
        other.alias = survivor
        other.alive = False
        if other in leaf:
            leaf.remove(other)
            if not leaf and self._leaves.get(other.key) is leaf:
                del self._leaves[other.key]
        del self._clusters[other.id]
        self._aliases[other.id] = survivor
        if len(self._aliases) > 10 * self.config.max_templates:
            for stale in list(self._aliases)[: len(self._aliases) // 2]:
                del self._aliases[stale]

    def _touch(self, cluster: _Cluster) -> None:
        cluster.count += 1
        cluster.last_line = self.lines

    def _route(self, tokens: list[str], *, create: bool) -> tuple[object, ...]:
        key: tuple[object, ...] = (len(tokens),)
        children = self._children
        for token in tokens[: self._prefix_tokens]:
            word = WILDCARD if _is_variable(token) else token
            seen = children.get(key)
            if seen is None:
                if not create:
                    return (*key, word)
                seen = children[key] = set()
            if word not in seen:
                if len(seen) >= self._max_children:
                    word = WILDCARD
                elif create:
                    seen.add(word)
            key = (*key, word)
        return key

    def _best(self, leaf: list[_Cluster], tokens: list[str]) -> _Cluster | None:
        if not leaf:
            return None
        size = len(tokens)
        misses = self._allowed_misses.get(size)
        if misses is None:  # most positions a template below the threshold can miss
            misses = size
            while misses > 0 and (size - misses) / size < self._threshold:
                misses -= 1
            self._allowed_misses[size] = misses
        best: _Cluster | None = None
        best_score = (-1.0, -1)
        for cluster in leaf:
            score = similarity(cluster.tokens, cluster.open, tokens, misses, self._caps, self._constants_only)
            if score is not None and score > best_score:
                best, best_score = cluster, score
        if best is None or best_score[0] < self._threshold:
            return None
        return best

    def _refine(self, cluster: _Cluster, tokens: list[str], runs: list[str | None]) -> bool:
        """Generalise ``cluster`` so it covers the skeleton (tokens, runs); True if it changed."""
        changed = False
        template = cluster.tokens
        mine = cluster.runs
        for i in hard_positions(cluster.tokens, cluster.open, tokens):
            got = tokens[i]
            if template[i] == WILDCARD and _fits(mine[i], got):
                pass  # a word the run's text covers (``<*>:`` / ``./a.out:``): the run keeps its text
            elif got == WILDCARD and _fits(runs[i], template[i]):
                template[i], mine[i] = WILDCARD, runs[i]
            else:
                template[i] = WILDCARD if got == WILDCARD else merge_tokens(template[i], got)
                mine[i] = None
            cluster.open[i] = True
            changed = True
        for i, run in enumerate(runs):
            if mine[i] is not None and run != mine[i] and not (run is None and _fits(mine[i], tokens[i])):
                mine[i] = merge_runs(mine[i], run)
                changed = True
        if changed:
            cluster.rendered = None
        return changed

    def _evict(self) -> None:
        """Drop the least recently seen template."""
        heap = self._lru
        while True:
            line, number, cid = heapq.heappop(heap)
            victim = self._clusters.get(cid)
            if victim is None:  # merged into another template
                continue
            if victim.last_line != line:  # seen since: queue it again
                heapq.heappush(heap, (victim.last_line, number, cid))
                continue
            break
        del self._clusters[cid]
        victim.alive = False
        leaf = self._leaves.get(victim.key)
        if leaf is not None:
            leaf.remove(victim)
            if not leaf:
                del self._leaves[victim.key]
        self.evicted += 1
