"""Build small incident bundles in a temp dir for tests (one helper for every test that needs one)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

INCIDENT = """\
id: test-0001
title: High error rate on frontend
detected_at: 2026-03-14T10:32:00Z
window:
  start: 2026-03-14T10:00:00Z
  end: 2026-03-14T10:45:00Z
symptom:
  service: frontend
  description: 5xx ratio above 5%
  alert:
    name: HighErrorRate
    labels: {severity: page, service: frontend}
"""

T0 = 1773482400.0  # 2026-03-14T10:00:00Z


def series(name: str, service: str, values: list[float], step: float = 15.0, **labels: str) -> dict[str, Any]:
    return {"metric": {"__name__": name, "service": service, **labels},
            "values": [[T0 + i * step, str(v)] for i, v in enumerate(values)]}


def write_bundle(root: Path, *, incident: str = INCIDENT, topology: str | None = None,
                 truth: str | None = None, gz: tuple[str, ...] = (), raw: dict[str, bytes] | None = None,
                 **files: list[dict[str, Any]]) -> Path:
    """Write incident.yaml and the given JSONL files (``metrics=[...]``, ``logs=[...]`` ...)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "incident.yaml").write_text(incident)
    if topology is not None:
        (root / "topology.yaml").write_text(topology)
    if truth is not None:
        (root / "truth.yaml").write_text(truth)
    for kind, rows in files.items():
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        if kind in gz:
            (root / f"{kind}.jsonl.gz").write_bytes(gzip.compress(data))
        else:
            (root / f"{kind}.jsonl").write_bytes(data)
    for name, content in (raw or {}).items():
        (root / name).write_bytes(content)
    return root
