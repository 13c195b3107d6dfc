"""Per-request behaviour patterns and how they change at the onset (event patterns, as in Nezha).

A *unit* is one service's part of one request (trace): the operation it served, the operations of
other services it called, and the log templates it wrote for that request. A code fault changes
these even when it moves no metric: an exception skips the calls and log lines after it, a wrong
return value sends the caller down another branch. For every operation the units of the fault-free
period are compared with those of the incident period: units whose pattern the baseline never
showed (more than sampling would explain: Good-Turing's missing mass) and baseline patterns that
vanished (more than chance would explain) are the shift. The onset is where the pattern mix of the
recording around the detection changes most (a likelihood-ratio change point).

Pure functions over arrays; the accumulators in ``traces`` and ``logs`` feed them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from pydantic import BaseModel

from day2ai.analysis.units import PatternTable

# a gap this long between requests separates two recordings (a trace store's retention windows, a
# dataset's fault-free and faulty captures): a change point is only searched inside the recording
# that holds the detection; five minutes, a usual alert evaluation horizon, not fitted
MAX_GAP_S = 300.0
# change-point candidates: one every STEP_S seconds, each side holding at least MIN_SIDE_S seconds
STEP_S = 10.0
MIN_SIDE_S = 20.0
# an operation needs this many units in each period to be compared (a rate of 1 in 3 is the least
# a comparison can resolve); not fitted
MIN_UNITS = 3
# a pattern expected fewer times than this under no change is pooled with the other rare ones
# before the mix is tested (Cochran's rule for chi-square tables), not fitted
MIN_EXPECTED = 5.0


class PatternShift(BaseModel):
    """How much one service's per-request behaviour changed (the most changed operation)."""

    service: str
    operation: str
    z: float  # standardized excess of novel or vanished patterns
    novel: float  # share of incident units with a pattern the baseline never showed
    expected_novel: float  # that share expected from sampling alone (Good-Turing missing mass)
    vanished: float  # share of baseline units whose pattern no incident unit showed
    baseline_units: int
    incident_units: int
    example: str = ""  # one novel (or vanished) pattern, readable
    usual: str = ""  # the baseline's most common pattern of that operation
    kind: Literal["novel", "vanished", "mix"] = "novel"  # which test found the shift
    example_before: float = 0.0  # the example's share of the baseline units
    example_after: float = 0.0  # the example's share of the incident units
    # what the example path has that the usual one lacks, and the reverse ("call X", "log T")
    added: list[str] = []
    missing: list[str] = []

    def describe(self) -> str:
        if self.kind == "novel":
            what = (
                f"{self.novel:.0%} of its requests for {self.operation} took a path the baseline never showed "
                f"(sampling explains {self.expected_novel:.0%})"
            )
        elif self.kind == "vanished":
            what = f"{self.vanished:.0%} of its baseline requests for {self.operation} took paths no longer seen"
        else:
            what = (
                f"the mix of its request paths for {self.operation} changed: one went from "
                f"{self.example_before:.0%} to {self.example_after:.0%} of its requests"
            )
        counts = f"{self.baseline_units} vs {self.incident_units} requests"
        if self.added or self.missing:  # the difference reads better than two whole paths
            which = {"novel": "the new path", "vanished": "the vanished path", "mix": "that path"}[self.kind]
            diff = [f"+ {a}" for a in self.added[:3]] + [f"- {m}" for m in self.missing[:3]]
            return f"{self.service}: {what}, z={self.z:.1f} ({counts}); {which} vs the usual one: " + "; ".join(diff)
        usual = f" instead of {self.usual[:120]}" if self.usual and self.usual != self.example else ""
        return f"{self.service}: {what}, z={self.z:.1f} ({counts}); e.g. {self.example[:160]}{usual}"




def recording(table: PatternTable, at: float) -> tuple[float, float] | None:
    """Bounds of the contiguous recording (no gap over MAX_GAP_S) holding time ``at``, or the last
    one before it."""
    if len(table) == 0:
        return None
    t = np.sort(table.time)
    i = int(np.searchsorted(t, at, side="right")) - 1
    if i < 0:
        return None
    gaps = np.flatnonzero(np.diff(t) > MAX_GAP_S)
    lo = int(gaps[gaps < i].max()) + 1 if (gaps < i).any() else 0
    after = gaps[gaps >= i]
    hi = int(after.min()) if len(after) else len(t) - 1
    return float(t[lo]), float(t[hi])


def _g(b: np.ndarray, a: np.ndarray, nb: np.ndarray | float, na: np.ndarray | float) -> float:
    """The likelihood-ratio (G) statistic of a 2 x K table: counts ``b`` and ``a`` of each cell,
    ``nb`` and ``na`` the period totals of each cell's row group (arrays when cells of several
    tables are summed at once)."""
    tot, n = b + a, nb + na
    with np.errstate(divide="ignore", invalid="ignore"):
        gb = np.where(b > 0, b * np.log(b * n / (nb * tot)), 0.0)
        ga = np.where(a > 0, a * np.log(a * n / (na * tot)), 0.0)
    return 2.0 * float(np.sum(gb + ga))


def _g_statistic(keys_before: np.ndarray, keys_after: np.ndarray, op_of_key: np.ndarray) -> float:
    """Standardized sum over operations of the likelihood-ratio (G) statistic of before/after x
    pattern: (G - df) / sqrt(2 df), so operations with many patterns do not dominate by size."""
    nb_op = np.bincount(op_of_key, weights=keys_before, minlength=op_of_key.max() + 1)
    na_op = np.bincount(op_of_key, weights=keys_after, minlength=op_of_key.max() + 1)
    ok = (nb_op >= MIN_UNITS) & (na_op >= MIN_UNITS)
    if not ok.any():
        return 0.0
    sel = ok[op_of_key] & ((keys_before + keys_after) > 0)
    b, a, o = keys_before[sel], keys_after[sel], op_of_key[sel]
    g_total = _g(b, a, nb_op[o], na_op[o])
    df_total = int(len(o) - len(np.unique(o)))
    if df_total <= 0:
        return 0.0
    return (g_total - df_total) / math.sqrt(2.0 * df_total)


def pattern_onset(table: PatternTable, detected: float) -> float | None:
    """The time, in the recording that holds ``detected``, where the mix of patterns per operation
    changes most (maximum standardized G), or None when there is too little to compare."""
    bounds = recording(table, detected)
    if bounds is None:
        return None
    lo, hi = bounds
    last = min(detected, hi) - MIN_SIDE_S
    first = lo + MIN_SIDE_S
    if last <= first:
        return None
    m = (table.time >= lo) & (table.time <= hi)
    order = np.argsort(table.time[m], kind="stable")
    times = table.time[m][order]
    width = len(table.patterns) + 1
    key = (table.op[m] * width + table.pattern[m])[order]
    uniq, inv = np.unique(key, return_inverse=True)
    _, op_dense = np.unique(uniq // width, return_inverse=True)
    total = np.bincount(inv, minlength=len(uniq)).astype(float)
    before = np.zeros(len(uniq))
    done = 0
    best: tuple[float, float] | None = None
    for split in np.arange(first, last + 1e-9, STEP_S):
        upto = int(np.searchsorted(times, split, side="left"))
        if upto > done:  # running counts: each unit is added once
            before += np.bincount(inv[done:upto], minlength=len(uniq))
            done = upto
        z = _g_statistic(before, total - before, op_dense)
        if best is None or z > best[0]:
            best = (z, float(split))
    n_splits = int((last - first) // STEP_S) + 1
    # the largest of n_splits standardized statistics: significant beyond the Bonferroni bound
    # (one-sided 5% over all splits tried), else the mix did not change and there is no onset here
    if best is None or best[0] <= _critical_z(n_splits):
        return None
    return best[1]


def precedes_recording(table: PatternTable, onset: float, detected: float) -> bool:
    """Whether ``onset`` (from coarser sources) lies before the recording that holds the detection,
    which then has nothing before the onset to compare with."""
    bounds = recording(table, detected)
    return bounds is not None and onset < bounds[0]


def _critical_z(tests: int, alpha: float = 0.05) -> float:
    """One-sided normal quantile of alpha / tests (Bonferroni)."""
    return float(NormalDist().inv_cdf(1.0 - alpha / max(tests, 1)))


def pattern_shifts(table: PatternTable, in_base: np.ndarray, in_inc: np.ndarray) -> dict[str, PatternShift]:
    """Per service, the operation whose per-request patterns changed most between the periods.

    A novel unit whose callee (in the same request) is novel too inherited its change: it is left
    out of its operation's comparison, so the change counts where it started, not at every caller.
    """
    out: dict[str, PatternShift] = {}
    novel = _novel_units(table, in_base, in_inc)
    inherited = np.zeros(len(table), dtype=bool)
    for u in np.flatnonzero(novel):
        # its change came from a callee: the callee's part of the request changed too, or the call failed
        inherited[u] = bool(table.failed[u]) or any(novel[c] for c in table.children[u])
    keep = in_inc & ~inherited
    for o, units in _by_operation(table):
        s, name = table.operations[o]
        b = table.pattern[units[in_base[units]]]
        f = table.pattern[units[keep[units]]]
        if len(b) < MIN_UNITS or len(f) < MIN_UNITS:
            continue
        sh = _op_shift(b, f, table.error)
        svc = table.services[s]
        if sh is None or (svc in out and out[svc].z >= sh.z):
            continue
        usual = int(np.bincount(b).argmax())
        out[svc] = PatternShift(
            service=svc,
            operation=name,
            z=round(sh.z, 3),
            novel=round(sh.novel, 4),
            expected_novel=round(sh.expected_novel, 4),
            vanished=round(sh.vanished, 4),
            baseline_units=len(b),
            incident_units=len(f),
            example=table.patterns[sh.example] if sh.example >= 0 else "",
            usual=table.patterns[usual],
            added=_difference(table, sh.example, usual),
            missing=_difference(table, usual, sh.example),
            kind=sh.kind,
            example_before=round(float(np.mean(b == sh.example)), 4),
            example_after=round(float(np.mean(f == sh.example)), 4),
        )
    return out


def _difference(table: PatternTable, a: int, b: int) -> list[str]:
    """The calls and log statements of pattern ``a`` that pattern ``b`` lacks ("call X", "log T")."""
    if a < 0 or b < 0 or a == b or len(table.parts) <= max(a, b):
        return []
    (calls_a, logs_a), (calls_b, logs_b) = table.parts[a], table.parts[b]
    return [f"call {c}" for c in sorted(calls_a - calls_b)] + [f"log {t}" for t in sorted(logs_a - logs_b)]


def _by_operation(table: PatternTable) -> list[tuple[int, np.ndarray]]:
    """(operation, its unit indices) for every operation, in one sort instead of a scan per operation."""
    order = np.argsort(table.op, kind="stable")
    ops, starts = np.unique(table.op[order], return_index=True)
    bounds = [*starts[1:].tolist(), len(order)]
    return [(int(o), order[a:b]) for o, a, b in zip(ops, starts.tolist(), bounds, strict=True)]


def _novel_units(table: PatternTable, in_base: np.ndarray, in_inc: np.ndarray) -> np.ndarray:
    """Incident units whose operation was seen in the baseline, but never with their pattern."""
    width = len(table.patterns) + 1
    key = table.op * width + table.pattern
    seen_keys = np.unique(key[in_base])
    seen_ops = np.unique(table.op[in_base])
    return in_inc & np.isin(table.op, seen_ops) & ~np.isin(key, seen_keys)


def _all_in_first(counts: np.ndarray, n1: int, n2: int) -> np.ndarray:
    """C(n1, c) / C(n1 + n2, c) for each c in ``counts``."""
    out = np.ones(len(counts))
    for i in range(int(counts.max()) if len(counts) else 0):
        out *= np.where(counts > i, (n1 - i) / (n1 + n2 - i), 1.0)
    return out


def _mix_z(bp: np.ndarray, bc: np.ndarray, fp: np.ndarray, fc: np.ndarray) -> tuple[float, int]:
    """How far the mix of patterns moved between the periods, as a standard normal deviate: the
    likelihood-ratio (G) test of homogeneity of the 2 x K table, patterns expected fewer than
    MIN_EXPECTED times pooled into one (Cochran's rule), G's chi-square tail mapped to z by the
    Wilson-Hilferty cube root. Also the pattern whose share grew most (-1 when none did)."""
    keys = np.union1d(bp, fp)
    b = np.zeros(len(keys))
    f = np.zeros(len(keys))
    b[np.searchsorted(keys, bp)] = bc
    f[np.searchsorted(keys, fp)] = fc
    nb, nf = b.sum(), f.sum()
    grew = f / nf - b / nb
    top = int(keys[np.argmax(grew)]) if grew.max() > 0 else -1
    tot = b + f
    small = tot * min(nb, nf) / (nb + nf) < MIN_EXPECTED
    if small.any():
        b = np.append(b[~small], b[small].sum())
        f = np.append(f[~small], f[small].sum())
        tot = b + f
    df = int((tot > 0).sum()) - 1
    if df < 1:
        return 0.0, top
    g = _g(b, f, nb, nf)
    c = 2.0 / (9.0 * df)
    return ((max(g, 0.0) / df) ** (1.0 / 3.0) - (1.0 - c)) / math.sqrt(c), top


@dataclass
class _OpShift:
    z: float
    novel: float
    expected_novel: float
    vanished: float
    example: int  # pattern index, -1 for none
    kind: Literal["novel", "vanished", "mix"]


def _op_shift(base: np.ndarray, inc: np.ndarray, error: np.ndarray) -> _OpShift | None:
    """The shift of one operation's patterns. ``error``: per pattern, whether it holds an error-level
    log statement or a failed call; such a pattern that shrank (or vanished) is a recovery, not a
    fault, and is left out of the vanished and mix tests (one that appeared or grew still counts)."""
    nb, nf = len(base), len(inc)
    bp, bc = np.unique(base, return_counts=True)
    fp, fc = np.unique(inc, return_counts=True)
    seen = np.isin(fp, bp)
    k_novel = float(fc[~seen].sum())
    # Good-Turing: the chance that a new draw shows a pattern not yet seen ~ singletons / draws
    p0 = (float((bc == 1).sum()) + 1.0) / (nb + 2.0)
    z_novel = (k_novel - nf * p0) / math.sqrt(nf * p0 * (1.0 - p0))
    q = bc / nb
    # a pattern seen once is not expected again (Good-Turing's singletons): only patterns the
    # baseline showed twice or more can be said to have vanished
    kept = np.isin(bp, fp)  # baseline patterns seen again (the same set as fp[seen], both sorted)
    share_after = np.zeros(len(bp))
    share_after[kept] = fc[seen] / nf
    recovered = error[bp] & (share_after < q)
    gone = ~kept & (bc >= 2) & ~recovered
    vanished = float(q[gone].sum())
    # chance that a pattern seen c times falls only in the baseline when the two periods are one
    # exchangeable sample (the permutation null): C(nb, c) / C(nb + nf, c); exact for small samples
    absent = np.where((bc >= 2) & ~recovered, _all_in_first(bc, nb, nf), 0.0)
    e_van = float((q * absent).sum())
    var_van = float((q * q * absent * (1.0 - absent)).sum())
    z_van = (vanished - e_van) / math.sqrt(var_van + 1.0 / (nb * nb))
    keep_b, keep_f = ~recovered, ~np.isin(fp, bp[recovered])
    z_mix, grew = _mix_z(bp[keep_b], bc[keep_b], fp[keep_f], fc[keep_f]) if keep_b.any() and keep_f.any() else (0.0, -1)
    z = max(z_novel, z_van, z_mix)
    if z <= 0.0:
        return None
    # the example follows :meth:`PatternShift.describe`: a novel path when there are more than
    # sampling explains, else a vanished one, else the path whose share grew most
    kind: Literal["novel", "vanished", "mix"] = "mix"
    example = grew
    if z_mix < max(z_novel, z_van):
        if k_novel / nf > p0 and (~seen).any():
            kind, example = "novel", int(fp[~seen][np.argmax(fc[~seen])])
        elif gone.any():
            kind, example = "vanished", int(bp[gone][np.argmax(bc[gone])])
    return _OpShift(z, k_novel / nf, p0, vanished, example, kind)


class PatternAnalysis(BaseModel):
    """Pattern shifts per service and the periods they compare."""

    onset: float  # the incident's onset (the pattern change point where one was found)
    baseline_units: int
    incident_units: int
    shifts: dict[str, PatternShift]
    critical_z: float = 3.0  # a shift beyond this is significant (Bonferroni over the operations compared)

    def top_z(self) -> float:
        return max((s.z for s in self.shifts.values()), default=0.0)


def analyze_patterns(
    table: PatternTable,
    onset: float,
    baseline: tuple[float, float] | None,
    incident_end: float,
) -> PatternAnalysis:
    """Compare the units before the onset (and in an explicit ``baseline``) with those after it."""
    t = table.time
    in_base = t < onset
    if baseline is not None:
        in_base |= (t >= baseline[0]) & (t < baseline[1])
    end = incident_end if incident_end > onset else float("inf")
    in_inc = (t >= onset) & (t <= end) & ~in_base
    shifts = pattern_shifts(table, in_base, in_inc)
    n_ops = len(table.operations)
    per_base = np.bincount(table.op[in_base], minlength=n_ops)
    per_inc = np.bincount(table.op[in_inc], minlength=n_ops)
    compared = int(((per_base >= MIN_UNITS) & (per_inc >= MIN_UNITS)).sum())
    return PatternAnalysis(
        onset=onset,
        baseline_units=int(in_base.sum()),
        incident_units=int(in_inc.sum()),
        shifts=shifts,
        critical_z=round(_critical_z(compared), 3),
    )
