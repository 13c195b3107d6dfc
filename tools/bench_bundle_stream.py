"""Benchmark: stream a big bundle (default 1,000,000 log lines and 200,000 spans) through the sources.

Writes the bundle into a temp dir (or uses --bundle), then reads every log record and span through
``load_bundle(...).sources`` and reports seconds, records/s and the peak RSS of the process.

    .venv/bin/python tools/bench_bundle_stream.py [--logs 1000000] [--spans 200000] [--gz]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import platform
import random
import resource
import tempfile
import time
from pathlib import Path

from day2ai.sources.base import LogQuery, SpanQuery
from day2ai.sources.bundle import load_bundle

INCIDENT = """id: bench
title: streaming benchmark
detected_at: 2026-03-14T10:32:00Z
window: {start: 2026-03-14T09:30:00Z, end: 2026-03-14T10:30:00Z}
symptom: {service: frontend}
"""
T0 = 1773480600.0
SERVICES = [f"svc-{i}" for i in range(30)]
MESSAGES = [
    "GET /api/v1/orders/{id} 200 {ms}ms",
    "payment call failed: connection refused to 10.0.{a}.{b}:5432",
    "cache miss for key user:{id}",
    "timeout waiting for connection from pool after {ms}ms",
]


def write(root: Path, n_logs: int, n_spans: int, gz: bool) -> None:
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    (root / "incident.yaml").write_text(INCIDENT)
    suffix = ".jsonl.gz" if gz else ".jsonl"
    opener = (lambda p: gzip.open(p, "wt", compresslevel=1)) if gz else (lambda p: open(p, "w"))  # noqa: SIM115
    with opener(root / f"logs{suffix}") as fh:
        for i in range(n_logs):
            msg = rng.choice(MESSAGES).format(id=rng.randrange(10**6), ms=rng.randrange(900),
                                              a=rng.randrange(255), b=rng.randrange(255))
            fh.write(json.dumps({"timestamp": T0 + i * 3600 / n_logs, "service": rng.choice(SERVICES),
                                 "level": rng.choice(["INFO", "INFO", "WARN", "ERROR"]), "message": msg,
                                 "trace_id": f"{rng.getrandbits(64):016x}"}) + "\n")
    with opener(root / f"traces{suffix}") as fh:
        for i in range(n_spans):
            fh.write(json.dumps({"trace_id": f"{i // 5:016x}", "span_id": f"{i:016x}",
                                 "parent_span_id": None if i % 5 == 0 else f"{i - 1:016x}",
                                 "service": rng.choice(SERVICES), "name": "GET /x", "start": T0 + i * 0.018,
                                 "duration_ms": rng.random() * 100, "status": "ok"}) + "\n")


async def stream(root: Path) -> tuple[int, int, float, float]:
    src = load_bundle(root).sources
    t = time.perf_counter()
    n_logs = 0
    async for _ in src.logs.logs(LogQuery()):  # type: ignore[union-attr]
        n_logs += 1
    t_logs = time.perf_counter() - t
    t = time.perf_counter()
    n_spans = 0
    async for _ in src.traces.spans(SpanQuery()):  # type: ignore[union-attr]
        n_spans += 1
    return n_logs, n_spans, t_logs, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--logs", type=int, default=1_000_000)
    ap.add_argument("--spans", type=int, default=200_000)
    ap.add_argument("--gz", action="store_true")
    ap.add_argument("--bundle", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.bundle or Path(tmp) / "bundle"
        if args.bundle is None:
            write(root, args.logs, args.spans, args.gz)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        n_logs, n_spans, t_logs, t_spans = asyncio.run(stream(root))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "machine": f"{platform.machine()}, {platform.python_version()}", "gz": args.gz,
        "log_lines": n_logs, "spans": n_spans,
        "log_seconds": round(t_logs, 2), "logs_per_s": round(n_logs / t_logs),
        "span_seconds": round(t_spans, 2), "spans_per_s": round(n_spans / t_spans),
        "peak_rss_mb_before_streaming": round(rss_before, 1), "peak_rss_mb": round(rss, 1)}, indent=1))


if __name__ == "__main__":
    main()
