"""Hostile inputs of at most 10 MB, and a measurement of what one CLI run on them costs
(used by test_resource_bounds.py and tools/bench_security.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

INCIDENT = """\
id: hostile-0001
title: hostile input
detected_at: 2026-03-14T10:32:00Z
window: {start: 2026-03-14T10:00:00Z, end: 2026-03-14T10:45:00Z}
symptom: {service: web}
"""
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
MAX_INPUT = 10 * 1024 * 1024


def _bundle(root: Path, name: str, files: dict[str, bytes], incident: str = INCIDENT) -> Path:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "incident.yaml").write_text(incident)
    for file, data in files.items():
        (path / file).write_bytes(data)
    return path


def _gzip(chunks: int, chunk: bytes, head: bytes = b"") -> bytes:
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    return co.compress(head) + b"".join(co.compress(chunk) for _ in range(chunks)) + co.flush()


def _log(i: int, message: str) -> bytes:
    return json.dumps({"timestamp": 1773482400 + i % 2700, "service": f"svc{i % 7}", "level": "ERROR",
                       "message": message}).encode() + b"\n"


def build_cases(root: Path) -> dict[str, list[str]]:
    """name -> day2ai CLI arguments, for inputs of at most 10 MB each."""
    # < 32 KiB, so gzip refers back to it: about 100:1, the most deflate gives
    valid_block = b"".join(_log(i, f"request {i} failed: connection refused to db-{i % 5}") for i in range(200))
    cases = {
        "one 9 MB log line": _bundle(root, "long-line", {
            "logs.jsonl": _log(0, "ok") + _log(1, "x " * 4_500_000) + _log(2, "after")}),
        "gzip bomb, 600 MiB without a newline": _bundle(root, "bomb", {
            "logs.jsonl.gz": _gzip(600, b"a" * (1 << 20))}),
        "gzip of valid lines inflating past the caps": _bundle(root, "valid-bomb", {
            "logs.jsonl.gz": _gzip(300_000_000 // len(valid_block), valid_block)}),
        "billion laughs in incident.yaml": _bundle(root, "laughs", {}, incident=LAUGHS),
        "100k-deep incident.yaml": _bundle(root, "deep", {}, incident="a: " + "[" * 100_000 + "]" * 100_000),
        "10 MB of binary garbage": _bundle(root, "garbage", {
            "logs.jsonl": bytes(range(256)) * (9 * 1024 * 1024 // 256)}),
    }
    for path in cases.values():
        size = sum(p.stat().st_size for p in path.iterdir())
        if size > MAX_INPUT:
            raise ValueError(f"{path}: {size} bytes is more than the 10 MB the bound is about")
    return {name: ["investigate", str(path), "--format", "json"] for name, path in cases.items()}


@dataclass
class Cost:
    code: int
    seconds: float
    max_rss_mb: float  # peak of the sum over the process tree (the CLI, its forkserver, its workers)
    stderr_tail: str


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (Linux /proc), in kB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[pid] = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    tree, frontier = {root}, [root]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier and p not in tree]
        tree.update(kids)
        frontier = kids
    return sum(rss.get(p, 0) for p in tree)


def measure(args: list[str], timeout: float = 300.0) -> Cost:
    """Run ``day2ai ARGS`` in a fresh process; its wall time and the peak RSS of its process tree
    (sampled every 50 ms from /proc)."""
    cli = "import sys; from day2ai.cli import main; sys.exit(main(sys.argv[1:]))"
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", cli, *args], stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            if time.monotonic() - started > timeout:
                proc.kill()
            time.sleep(0.05)
        seconds = time.monotonic() - started
        err.seek(0)
        tail = err.read().decode(errors="replace")[-300:]
    return Cost(code=proc.returncode, seconds=seconds, max_rss_mb=peak / 1024, stderr_tail=tail)
