"""Nothing outside the given directory is read (#16): symlinks out of a knowledge folder or a
bundle are refused, and the skipped file is named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from day2ai.cli import main
from day2ai.knowledge.base import _parse_dir
from day2ai.sources.base import LogQuery
from day2ai.sources.bundle import load_bundle, read_truth, validate_bundle
from tests.bundle_factory import write_bundle

OUTSIDE_TEXT = "root:x:0:0:outside-secret-content:/root:/bin/bash\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "passwd"
    target.parent.mkdir()
    target.write_text(OUTSIDE_TEXT)
    return target


def test_knowledge_ingestion_skips_links_out_of_the_directory(tmp_path: Path, outside: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.md").write_text("# Payments pool\n\nRaise the pool size.\n")
    (docs / "evil.md").symlink_to(outside)
    (docs / "inner.md").symlink_to(docs / "ok.md")  # a link that stays inside is fine
    parsed, failed, warnings = _parse_dir(docs)
    paths = sorted(p.document.path for p in parsed)
    assert paths == ["inner.md", "ok.md"]
    assert not any("outside-secret-content" in c.text for p in parsed for c in p.chunks)
    assert any(w.startswith("evil.md") and "outside" in w for w in warnings)
    assert "evil.md" not in failed


def test_bundle_logs_linked_outside_are_not_read(tmp_path: Path, outside: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = write_bundle(tmp_path / "b")
    os.symlink(outside, root / "logs.jsonl")
    bundle = load_bundle(root)
    assert "logs" not in bundle.files and bundle.sources.logs is None
    gaps = bundle.data_gaps()
    assert len(gaps) == 1 and "logs.jsonl" in gaps[0].reason and "outside the bundle" in gaps[0].reason
    # investigate: a gap in the report and a warning on stderr; validate: an error (exit 2)
    assert main(["investigate", str(root), "--format", "json"]) == 0
    out = capsys.readouterr()
    assert "outside-secret-content" not in out.out + out.err
    assert "logs.jsonl" in out.out and "warning" in out.err and "outside the bundle" in out.err
    problems = validate_bundle(root)
    assert problems and "outside the bundle" in problems[0].problem
    assert main(["validate", str(root)]) == 2


def test_incident_and_truth_linked_outside_are_errors(tmp_path: Path, outside: Path) -> None:
    root = write_bundle(tmp_path / "b")
    os.symlink(outside, root / "truth.yaml")
    with pytest.raises(Exception, match="outside the bundle"):
        read_truth(root)
    (root / "incident.yaml").unlink()
    os.symlink(outside, root / "incident.yaml")
    problems = validate_bundle(root)
    assert len(problems) == 1 and "outside the bundle" in str(problems[0])


def test_link_inside_the_bundle_is_read(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", raw={"real.jsonl": b'{"timestamp": 1, "service": "a", "message": "x"}\n'})
    os.symlink(root / "real.jsonl", root / "logs.jsonl")
    bundle = load_bundle(root)
    import asyncio

    async def read() -> int:
        assert bundle.sources.logs is not None
        return len([r async for r in bundle.sources.logs.logs(LogQuery())])

    assert asyncio.run(read()) == 1 and not bundle.data_gaps()


def test_kb_cli_names_the_skipped_link_and_never_returns_its_content(tmp_path: Path, outside: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.md").write_text("# Payments pool\n\nRaise the pool size when connections run out.\n")
    (docs / "evil.md").symlink_to(outside)
    index = str(tmp_path / "index")
    assert main(["kb", "ingest", str(docs), "--index", index, "--embedding", "hashing"]) == 0
    err = capsys.readouterr().err
    assert "evil.md" in err and "outside" in err
    assert main(["kb", "search", "root outside-secret-content bin bash", "--index", index, "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "evil.md" not in out and "outside-secret-content" not in out
