"""Units: one service's part of one request, as the pattern comparison sees it.

A unit is one operation of a service in one request: which other services' operations it called
and which log statements it wrote. Built from spans and the log lines that carry a trace id (placed
in the call that wrote them: the span the line names, else the call whose time span holds it).
Pure functions over lists; :mod:`day2ai.analysis.patterns` compares the units of two periods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# the longest group of words (one list item) whose repeats collapse_repeats folds; not fitted
MAX_REPEAT_UNIT = 8


@dataclass
class PatternTable:
    """Units as arrays: time, service index, operation index, pattern index."""

    services: list[str]
    operations: list[tuple[int, str]]  # (service index, operation name)
    patterns: list[str]  # readable pattern descriptions
    parts: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)  # (calls, logs)
    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    service: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    op: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pattern: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    children: list[list[int]] = field(default_factory=list)  # the units it called in the same trace
    failed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # a call it made failed
    # per pattern: it holds an error-level log statement
    error: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.time)


_Key = tuple[str, int, str]  # (trace, service, operation)


@dataclass
class _Unit:
    time: float
    callees: set[str] = field(default_factory=set)
    kids: set[_Key] = field(default_factory=set)  # the units it called
    failed: bool = False  # a call it made (to a service or a peer) failed


def entry_spans(span_service: Sequence[int], span_parent: Sequence[int]) -> list[int]:
    """Per span, the span by which its service was entered: the nearest ancestor (or itself) whose
    parent is in another service or absent. A cycle of parents (broken data) ends the walk."""
    n = len(span_service)
    top = [-1] * n
    for i in range(n):
        chain: list[int] = []
        j = i
        while top[j] < 0:
            p = span_parent[j]
            if p < 0 or p >= n or span_service[p] != span_service[j] or p in chain:
                top[j] = j
                break
            chain.append(j)
            j = p
        for c in chain:
            top[c] = top[j]
    return top


def _attribute_logs(
    entries: dict[int, list[float]],
    top: Sequence[int],
    span_trace: Sequence[str],
    span_service: Sequence[int],
    index: dict[str, int],
    log_links: Iterable[tuple[str, str, str, float, int]],
) -> dict[int, set[str]]:
    """Log events per entry span (``entries``: its [start, end]). A line that names its span (a
    span of its service in its trace) belongs to that span's entry; another to the entry into its
    service whose time span holds it (the innermost, when calls nest), else to the nearest one."""
    by_request: dict[tuple[str, int], list[int]] = {}
    for e in entries:
        by_request.setdefault((span_trace[e], span_service[e]), []).append(e)
    logged: dict[int, set[str]] = {}
    for trace, svc, event, t, span in log_links:
        s = index.get(svc, -1)
        if 0 <= span < len(top) and span_service[span] == s and span_trace[span] == trace:
            logged.setdefault(top[span], set()).add(event)
            continue
        cands = by_request.get((trace, s))
        if not cands:
            continue
        best = cands[0]
        if len(cands) > 1:
            best = min(cands, key=lambda e: (max(entries[e][0] - t, t - entries[e][1], 0.0), -entries[e][0]))
        logged.setdefault(best, set()).add(event)
    return logged


def build_units(
    services: Sequence[str],
    span_service: Sequence[int],
    span_name: Sequence[str],
    span_start: Sequence[float],
    span_parent: Sequence[int],
    span_trace: Sequence[str],
    log_links: Iterable[tuple[str, str, str, float, int]] = (),
    failed_callers: Iterable[int] = (),
    error_templates: Iterable[str] = (),
    span_end: Sequence[float] | None = None,
) -> PatternTable:
    """Units from spans (parent given as a span index, -1 for none) and ``(trace_id, service,
    template, time, span)`` log links (``span``: the index of the span the line names, -1 for none).

    A unit is one operation of a service in one request: the entries into the service (a call from
    another service, or a root span) under that operation's name, with the spans under them in the
    service. Its pattern is the set of other services' operations it called and the set of log
    templates it wrote. A request that calls a service's check and then its write gives two units,
    so the lines of one do not change the other's pattern; one that calls the same operation five
    times gives one (the request, not the call, is the sample). ``failed_callers``: spans whose call
    is known to have failed (error status on a call into another service, or on a call to a peer
    such as a database). ``error_templates``: the templates logged at error level. ``span_end``:
    each span's end (seconds), to place a log line that names no span in the call that wrote it
    (default: its start)."""
    ends = span_start if span_end is None else span_end
    top = entry_spans(span_service, span_parent)
    entries: dict[int, list[float]] = {}  # entry span -> [start, end] of its spans
    for i, e in enumerate(top):
        se = entries.setdefault(e, [span_start[e], ends[e]])
        se[0], se[1] = min(se[0], span_start[i]), max(se[1], ends[i])
    unit_of = {e: (span_trace[e], span_service[e], span_name[e]) for e in entries}
    units: dict[_Key, _Unit] = {}
    for e, (t0, _) in entries.items():
        u = units.setdefault(unit_of[e], _Unit(t0))
        u.time = min(u.time, t0)
    for i, s in enumerate(span_service):
        p = span_parent[i]
        if 0 <= p < len(top) and span_service[p] != s:  # a call from the parent's service to this operation
            caller = units[unit_of[top[p]]]
            caller.callees.add(f"{services[s]}:{span_name[i]}")
            caller.kids.add(unit_of[i])
    for caller_span in failed_callers:
        units[unit_of[top[caller_span]]].failed = True
    index = {name: i for i, name in enumerate(services)}
    logged: dict[_Key, set[str]] = {}
    for e, events in _attribute_logs(entries, top, span_trace, span_service, index, log_links).items():
        logged.setdefault(unit_of[e], set()).update(events)
    ops: dict[tuple[int, str], int] = {}
    pats: dict[str, int] = {}
    parts: list[tuple[frozenset[str], frozenset[str]]] = []
    erroneous: list[bool] = []  # per pattern: a unit of it logged at error level or had a call fail
    errs = set(error_templates)
    n = len(units)
    time = np.empty(n)
    service = np.empty(n, dtype=np.int64)
    op = np.empty(n, dtype=np.int64)
    pattern = np.empty(n, dtype=np.int64)
    failed = np.fromiter((u.failed for u in units.values()), dtype=bool, count=n)
    position = {key: k for k, key in enumerate(units)}
    children = [[position[c] for c in u.kids] for u in units.values()]
    for k, (key, u) in enumerate(units.items()):
        calls = ", ".join(sorted(u.callees)) or "-"
        logs = " | ".join(sorted(logged.get(key, ()))) or "-"
        pat = f"calls [{calls}] logs [{logs}]"
        time[k], service[k] = u.time, key[1]
        op[k] = ops.setdefault((key[1], key[2]), len(ops))
        pattern[k] = pats.setdefault(pat, len(pats))
        if pattern[k] == len(erroneous):
            erroneous.append(False)
            parts.append((frozenset(u.callees), frozenset(logged.get(key, ()))))
        erroneous[pattern[k]] |= u.failed or bool(errs & logged.get(key, set()))
    return PatternTable(
        services=list(services),
        operations=list(ops),
        patterns=list(pats),
        parts=parts,
        time=time,
        service=service,
        op=op,
        pattern=pattern,
        children=children,
        failed=failed,
        error=np.array(erroneous, dtype=bool),
    )


def statement_key(template: str) -> str:
    """A log statement's identity: its template with repeated list items folded
    (:func:`collapse_repeats`), up to the first list. What follows a list (its last item, the text
    after it) changes with the list's length and with where a long line was cut, not with the
    statement that wrote it."""
    return collapse_repeats(template).split(" …", 1)[0]


def collapse_repeats(text: str, longest: int = MAX_REPEAT_UNIT) -> str:
    """``text`` with every run of a repeated group of up to ``longest`` words kept once, followed by
    an ellipsis: a log line that lists one item per element (``Ticket(seat=<*>, ...), Ticket(...),
    ...``) is one statement whatever the list's length, while the template miner sees a template
    per length (and, for a line cut at a length limit, per place of the cut)."""
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(1, longest + 1):
            unit = words[i : i + size]
            if len(unit) < size or words[i + size : i + 2 * size] != unit:
                continue
            reps = 2
            while words[i + reps * size : i + (reps + 1) * size] == unit:
                reps += 1
            out.extend([*unit, "…"])
            i += reps * size
            rest = words[i:]
            if (
                len(rest) <= size
                and rest
                and rest[:-1] == unit[: len(rest) - 1]
                and unit[len(rest) - 1].startswith(rest[-1])
            ):
                i = len(words)  # a line cut at a length limit inside the next repeat
            break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)
