"""Tests of ``day2ai logs parse`` through a local typer app (register() is the only entry)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from day2ai.cli.logs import register


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """day2ai test app."""

    register(app)
    return app


def test_jsonl_one_object_per_line_in_order(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    lines = [
        f"Receiving block blk_{i * 7919} src: /10.0.0.{i}:50{i} dest: /10.0.1.{i}:50010" for i in range(5)
    ]
    lines.insert(2, "Verification succeeded for blk_42")
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(log), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 7))
    assert rows[0]["template"] == "Receiving block <*> src: <*> dest: <*>"
    assert len({r["template_id"] for i, r in enumerate(rows) if i != 2}) == 1
    assert rows[2]["template_id"] != rows[0]["template_id"]
    assert rows[2]["template"] == "Verification succeeded for <*>"


def test_text_format_and_undecodable_bytes(tmp_path: Path) -> None:
    log = tmp_path / "b.log"
    log.write_bytes(b"bad \xff byte 12\r\nbad \xfe byte 13\r\n")
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(log)])
    assert result.exit_code == 0
    assert "2 lines, 1 templates" in result.stdout
    assert "bad \ufffd byte <*>" in result.stdout


def test_state_is_saved_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first, second = tmp_path / "1.log", tmp_path / "2.log"
    first.write_text("disk 1 full\nnet 2 down\n", encoding="utf-8")
    second.write_text("net 9 down\n", encoding="utf-8")
    app = make_app()
    r1 = CliRunner().invoke(app, ["logs", "parse", str(first), "--format", "jsonl", "--state", str(state)])
    r2 = CliRunner().invoke(app, ["logs", "parse", str(second), "--format", "jsonl", "--state", str(state)])
    assert r1.exit_code == r2.exit_code == 0
    assert json.loads(r2.stdout)["template_id"] == json.loads(r1.stdout.splitlines()[1])["template_id"]


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    app = make_app()
    missing = CliRunner().invoke(app, ["logs", "parse", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2
    assert missing.stderr.strip().count("\n") == 0 and "nope.log" in missing.stderr
    assert "Traceback" not in missing.output
    directory = CliRunner().invoke(app, ["logs", "parse", str(tmp_path)])
    assert directory.exit_code == 2 and "directory" in directory.stderr
    state = tmp_path / "bad.json"
    state.write_text("{not json", encoding="utf-8")
    log = tmp_path / "x.log"
    log.write_text("a\n", encoding="utf-8")
    bad_state = CliRunner().invoke(app, ["logs", "parse", str(log), "--state", str(state)])
    assert bad_state.exit_code == 2 and "bad.json" in bad_state.stderr
