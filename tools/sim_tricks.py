"""Trick detector: how often do naive one-line rules name the simulator's true root service?

    .venv/bin/day2ai simulate --out /tmp/simdev --suite dev --seed 2026
    .venv/bin/python tools/sim_tricks.py /tmp/simdev [--json out.json]

A rule that is right far more often than a careless on-call engineer would be (above ~50 % AC@1
over the dev suite) is a tell: a quirk of the simulator an investigator could learn instead of
reasoning. Rules (each answers one service, or nothing):

  a  most ERROR/FATAL log lines over the whole window
  a2 most ERROR/FATAL log lines from 15 min before detection to the end
  b  service of the most recent change before detection
  c  the symptom service of incident.yaml
  d  largest relative rise of p99 latency (incident vs baseline metrics)
  e  largest absolute rise of the error ratio (incident vs baseline metrics)
  f  the only service with a log template that is new in the incident (no answer if 0 or 2+)
  g  the service named most often in other services' ERROR lines ("who is everyone blaming")
  o  (not naive; a reference that the root stays diagnosable) earliest onset: the service whose
     p99 latency or error ratio first leaves its baseline band (mean + 4 sd, held for 2 points)
  t  trace-linked logs: share of log lines with a trace_id that a span of the bundle carries
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import itertools

from day2ai.timeutil import parse_timestamp

RULES = ("a", "a2", "b", "c", "d", "e", "f", "g", "o")
_MASKS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<uuid>"),
    (re.compile(r"\b\d+\.\d+\.\d+\.\d+(:\d+)?\b"), "<ip>"),
    (re.compile(r"\b[0-9a-f]{6,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(\.\d+)?"), "<n>"),
    (re.compile(r"\[[^\]]*\]"), "[<v>]"),
)


def rows(bundle: Path, stem: str) -> Iterator[dict[str, Any]]:
    for name, opener in ((f"{stem}.jsonl", open), (f"{stem}.jsonl.gz", gzip.open)):
        p = bundle / name
        if p.is_file():
            with opener(p, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
                for line in fh:
                    if line.strip():
                        yield json.loads(line)


def template(message: str) -> str:
    text = message.splitlines()[0][:160] if message else ""
    for pat, repl in _MASKS:
        text = pat.sub(repl, text)
    return text


def _mean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x == x]
    return sum(xs) / len(xs) if xs else None


def _onset(values: list[list[Any]], base: list[float], after: float, until: float, floor: float) -> float | None:
    """First time (after the baseline, up to detection) a series leaves mean + 4 sd for 2 points."""
    base = [x for x in base if x == x]
    if len(base) < 4:
        return None
    mu = sum(base) / len(base)
    sd = (sum((x - mu) ** 2 for x in base) / len(base)) ** 0.5
    limit = max(mu + 4 * sd, mu * 1.5 if floor == 0 else mu + floor)
    hot = [float(ts) for ts, v in values if after <= float(ts) <= until and float(v) > limit]
    for a, b in itertools.pairwise(hot):
        if b - a <= 61:
            return a
    return None


def _names(bundle: Path) -> list[str]:
    """Service names the bundle shows (topology, or the services of metrics and logs)."""
    topo = bundle / "topology.yaml"
    if topo.is_file():
        return [s["name"] for s in yaml.safe_load(topo.read_text())["services"]]
    return sorted({m["metric"]["service"] for m in rows(bundle, "metrics")})


def case_answers(bundle: Path) -> tuple[dict[str, Any], dict[str, str | None], float | None]:
    inc = yaml.safe_load((bundle / "incident.yaml").read_text())
    truth = yaml.safe_load((bundle / "truth.yaml").read_text())["root_cause"]
    start = parse_timestamp(inc["window"]["start"])
    detected = parse_timestamp(inc["detected_at"])
    if inc.get("baseline"):
        b0, b1 = parse_timestamp(inc["baseline"]["start"]), parse_timestamp(inc["baseline"]["end"])
    else:
        b0, b1 = start, start + 0.4 * (detected - start)
    i0 = detected - 600
    ans: dict[str, str | None] = dict.fromkeys(RULES)

    errors_all: Counter[str] = Counter()
    errors_inc: Counter[str] = Counter()
    before: dict[str, set[str]] = defaultdict(set)
    after: dict[str, Counter[str]] = defaultdict(Counter)
    with_tid: list[str] = []
    names = _names(bundle)
    blamed: Counter[str] = Counter()
    for r in rows(bundle, "logs"):
        t = parse_timestamp(r["timestamp"])
        svc = r["service"]
        if str(r.get("level") or "").upper() in ("ERROR", "FATAL"):
            errors_all[svc] += 1
            msg = str(r.get("message") or "")
            blamed.update(n for n in names if n != svc and n in msg)
            if t >= detected - 900:
                errors_inc[svc] += 1
        tpl = template(str(r.get("message") or ""))
        if t < b1:
            before[svc].add(tpl)
        elif t >= i0 - 300:
            after[svc][tpl] += 1
        if r.get("trace_id"):
            with_tid.append(str(r["trace_id"]))
    ans["a"] = errors_all.most_common(1)[0][0] if errors_all else None
    ans["g"] = blamed.most_common(1)[0][0] if blamed else None
    ans["a2"] = errors_inc.most_common(1)[0][0] if errors_inc else None
    new = [s for s, c in after.items() if any(n >= 3 and tpl not in before[s] for tpl, n in c.items())]
    ans["f"] = new[0] if len(new) == 1 else None

    changes = [c for c in rows(bundle, "changes") if parse_timestamp(c["timestamp"]) <= detected]
    if changes:
        ans["b"] = max(changes, key=lambda c: parse_timestamp(c["timestamp"]))["service"]
    ans["c"] = (inc.get("symptom") or {}).get("service")

    series: dict[tuple[str, str], list[tuple[list[float], list[float]]]] = defaultdict(list)
    onsets: dict[str, float] = {}
    for m in rows(bundle, "metrics"):
        name = m["metric"]["__name__"]
        if name not in ("request_latency_p99_seconds", "request_error_ratio"):
            continue
        base = [float(v) for ts, v in m["values"] if b0 <= ts < b1]
        cur = [float(v) for ts, v in m["values"] if ts >= i0]
        series[(name, m["metric"]["service"])].append((base, cur))
        first = _onset(m["values"], base, b1, detected, 0.01 if name == "request_error_ratio" else 0.0)
        if first is not None:
            svc = m["metric"]["service"]
            onsets[svc] = min(onsets.get(svc, first), first)
    lat: dict[str, float] = {}
    err: dict[str, float] = {}
    for (name, svc), parts in series.items():
        b = _mean([x for p in parts for x in p[0]])
        c = _mean([x for p in parts for x in p[1]])
        if b is None or c is None:
            continue
        if name == "request_latency_p99_seconds":
            lat[svc] = c / max(b, 0.005)
        else:
            err[svc] = c - b
    ans["o"] = min(onsets, key=lambda s: (onsets[s], -lat.get(s, 0) - err.get(s, 0))) if onsets else None
    ans["d"] = max(lat, key=lambda s: lat[s]) if lat else None
    ans["e"] = max(err, key=lambda s: err[s]) if err else None

    linked: float | None = None
    if with_tid:
        tids = {s["trace_id"] for s in rows(bundle, "traces")}
        if tids:
            linked = sum(t in tids for t in with_tid) / len(with_tid)
    return truth, ans, linked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite", type=Path)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cases = sorted(p for p in args.suite.iterdir() if (p / "truth.yaml").is_file())
    hits: Counter[str] = Counter()
    fired: Counter[str] = Counter()
    by_fault: dict[str, Counter[str]] = defaultdict(Counter)
    faults: Counter[str] = Counter()
    links: list[float] = []
    for p in cases:
        truth, ans, linked = case_answers(p)
        faults[truth["fault"]] += 1
        if linked is not None:
            links.append(linked)
        for rule, svc in ans.items():
            fired[rule] += svc is not None
            ok = svc == truth["service"]
            hits[rule] += ok
            by_fault[truth["fault"]][rule] += ok
    n = len(cases)
    print(f"{n} cases in {args.suite}")
    print("rule  AC@1   answered")
    for rule in RULES:
        print(f"{rule:<4} {hits[rule] / n:6.1%}  {fired[rule]:>3}/{n}")
    if links:
        print(
            f"trace-linked log lines (of lines with a trace_id, bundles with traces): "
            f"mean {sum(links) / len(links):.1%}, min {min(links):.1%}, max {max(links):.1%}"
        )
    print("\nper fault (hits / cases):")
    print("fault".ljust(28) + "".join(r.rjust(5) for r in RULES))
    for f in sorted(faults):
        print(f.ljust(28) + "".join(f"{by_fault[f][r]}/{faults[f]}".rjust(5) for r in RULES))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cases": n,
                    "ac1": {r: hits[r] / n for r in RULES},
                    "answered": dict(fired),
                    "by_fault": {f: dict(c) for f, c in by_fault.items()},
                    "faults": dict(faults),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
