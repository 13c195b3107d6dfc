from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from day2ai.cli.kb import register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    register(app)
    return app


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(_app(), list(args))


def test_ingest_search_stats_round_trip(corpus: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "idx")
    first = _run("kb", "ingest", str(corpus), "--index", index, "--embedding", "hashing", "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["added"] == 5

    again = _run("kb", "ingest", str(corpus), "--index", index)
    assert again.exit_code == 0
    assert "added 0, updated 0, removed 0, unchanged 5" in again.stdout

    res = _run("kb", "search", "x509 certificate has expired", "--index", index, "--format", "json", "-k", "2")
    assert res.exit_code == 0, res.output
    hits = json.loads(res.stdout)
    assert len(hits) == 2
    assert {"path", "anchor", "title", "kind", "score"} <= set(hits[0])
    assert hits[0]["path"] == "runbooks/tls.md" and hits[0]["anchor"] == "renew"
    assert hits[0]["kind"] == "runbook" and 0 <= hits[0]["score"] <= 1

    filtered = _run(
        "kb",
        "search",
        "timeouts",
        "--index",
        index,
        "--format",
        "json",
        "--service",
        "payments",
        "--kind",
        "postmortem",
    )
    assert [h["path"] for h in json.loads(filtered.stdout)] == ["postmortems/2025-01-01-pool.md"]

    text = _run("kb", "search", "disk", "--index", index)
    assert text.exit_code == 0 and "orders-db" in text.stdout

    stats = _run("kb", "stats", "--index", index, "--format", "json")
    data = json.loads(stats.stdout)
    assert data["documents"] == 5 and data["embedder"].startswith("hashing-v1")
    human = _run("kb", "stats", "--index", index)
    assert "documents:  5" in human.stdout


def test_warnings_go_to_stderr(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "runbooks"
    docs.mkdir(parents=True)
    (docs / "a.md").write_text("---\nfault: gremlins\n---\n# A\n\ntext\n")
    res = _run("kb", "ingest", str(tmp_path / "docs"), "--index", str(tmp_path / "idx"), "--embedding", "hashing")
    assert res.exit_code == 0
    assert "unknown fault word 'gremlins'" in res.stderr
    assert "gremlins" not in res.stdout


def test_bad_input_exits_2_with_one_line(tmp_path: Path, corpus: Path) -> None:
    index = str(tmp_path / "idx")
    cases = [
        ("kb", "ingest", str(tmp_path / "missing"), "--index", index),
        ("kb", "search", "x", "--index", str(tmp_path / "nothing-here")),
        ("kb", "stats", "--index", str(tmp_path / "nothing-here")),
    ]
    for args in cases:
        res = _run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert _run("kb", "ingest", str(corpus), "--index", index, "--embedding", "hashing").exit_code == 0
    for extra in (("--fault", "gremlins"), ("--kind", "recipe")):
        res = _run("kb", "search", "x", "--index", index, *extra)
        assert res.exit_code == 2 and res.stderr.startswith("day2ai: error:")


def test_empty_index_folder_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "idx").mkdir()
    res = _run("kb", "search", "x", "--index", str(tmp_path / "idx"))
    assert res.exit_code == 2 and "no knowledge index" in res.stderr
    assert list((tmp_path / "idx").iterdir()) == []  # searching never creates an index
