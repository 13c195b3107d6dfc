"""Tests of ``day2ai logs parse`` through a local typer app (register() is the only entry)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from day2ai.cli.logs import MAX_MESSAGE_CHARS, MAX_RECORD_BYTES, register


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """day2ai test app."""

    register(app)
    return app


def test_jsonl_one_object_per_line_in_order(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    lines = [f"Receiving block blk_{i * 7919} src: /10.0.0.{i}:50{i} dest: /10.0.1.{i}:50010" for i in range(5)]
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


def _sample_lines() -> list[str]:
    return [f"Served block blk_{i * 31} to /10.0.0.{i}" if i % 3 else f"Deleting block blk_{i}" for i in range(30)]


def _ids(output: str) -> list[tuple[str, str]]:
    return [(row["template_id"], row["template"]) for row in map(json.loads, output.splitlines())]


def test_gzip_detected_by_magic_bytes_gives_same_ids_as_plain(tmp_path: Path) -> None:
    text = "\n".join(_sample_lines()) + "\n"
    plain, packed = tmp_path / "a.log", tmp_path / "a.data"  # no .gz extension on purpose
    plain.write_text(text, encoding="utf-8")
    packed.write_bytes(gzip.compress(text.encode()))
    app = make_app()
    runs = [CliRunner().invoke(app, ["logs", "parse", str(p), "--format", "jsonl"]) for p in (plain, packed, plain)]
    assert all(r.exit_code == 0 for r in runs)
    assert _ids(runs[0].stdout) == _ids(runs[1].stdout) == _ids(runs[2].stdout)
    assert len(runs[1].stdout.splitlines()) == 30
    assert {t for _, t in _ids(runs[1].stdout)} == {"Served block <*> to <*>", "Deleting block <*>"}


def test_corrupt_or_truncated_gzip_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(_sample_lines() * 50) + "\n").encode())
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    bad = tmp_path / "bad.gz"
    bad.write_bytes(data[:10] + b"\x00garbage" * 20)
    for path in (cut, bad):
        result = CliRunner().invoke(make_app(), ["logs", "parse", str(path), "--format", "jsonl"])
        assert result.exit_code == 2, result.output
        assert path.name in result.stderr and "Traceback" not in result.output
        assert result.stdout == ""


def test_jsonl_records_are_detected_and_their_message_mined(tmp_path: Path) -> None:
    records = [
        {
            "timestamp": "2023-01-29T08:48:42Z",
            "level": "ERROR",
            "message": f"Order {i} failed\n\tat Foo.bar(Foo.java:{i})",
        }
        for i in range(5)
    ]
    log = tmp_path / "logs.jsonl.gz"
    log.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in records).encode()))
    auto = CliRunner().invoke(make_app(), ["logs", "parse", str(log), "--format", "jsonl"])
    assert auto.exit_code == 0, auto.output
    assert {t for _, t in _ids(auto.stdout)} == {"Order <*> failed"}
    forced = CliRunner().invoke(make_app(), ["logs", "parse", str(log), "--format", "jsonl", "--input", "jsonl"])
    assert forced.stdout == auto.stdout
    as_lines = CliRunner().invoke(make_app(), ["logs", "parse", str(log), "--format", "jsonl", "--input", "lines"])
    assert "timestamp" in as_lines.stdout  # the raw JSON text was mined


def test_forced_jsonl_rejects_a_line_without_message(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.write_text('{"message": "ok 1"}\n{"msg": "no message field"}\n', encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(log), "--input", "jsonl"])
    assert result.exit_code == 2 and "x.jsonl:2" in result.stderr
    plain = tmp_path / "y.log"
    plain.write_text("not json at all\n", encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(plain), "--input", "jsonl"])
    assert result.exit_code == 2 and "y.log:1" in result.stderr


def test_very_long_line_is_cut_and_marked(tmp_path: Path) -> None:
    log = tmp_path / "long.log"
    huge = "x " * (MAX_RECORD_BYTES * 2)  # longer than the read bound: read in bounded pieces
    log.write_text(f"short 1\n{huge}\nshort 2\n", encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(log), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert rows[1].get("truncated") is True and "truncated" not in rows[0]
    assert rows[0]["template_id"] == rows[2]["template_id"]
    assert len(rows[1]["template"]) <= MAX_MESSAGE_CHARS


def test_empty_file_and_byte_order_mark(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(empty), "--format", "jsonl"])
    assert result.exit_code == 0 and result.stdout == ""
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b'\xef\xbb\xbf{"message": "disk 1 full"}\n{"message": "disk 2 full"}\n')
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(bom), "--format", "jsonl"])
    assert result.exit_code == 0
    assert {row["template"] for row in map(json.loads, result.stdout.splitlines())} == {"disk <*> full"}


def test_bzip2_and_xz_are_read_and_zstd_is_refused(tmp_path: Path) -> None:
    import bz2
    import lzma

    data = ("\n".join(_sample_lines()) + "\n").encode()
    expected = None
    for name, packed in (("a.bz", bz2.compress(data)), ("a.x", lzma.compress(data)), ("a.txt", data)):
        path = tmp_path / name
        path.write_bytes(packed)
        result = CliRunner().invoke(make_app(), ["logs", "parse", str(path), "--format", "jsonl"])
        assert result.exit_code == 0, result.output
        expected = expected or result.stdout
        assert result.stdout == expected
    zstd = tmp_path / "a.zst"
    zstd.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 20)
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(zstd)])
    assert result.exit_code == 2 and "a.zst" in result.stderr and "zstd" in result.stderr
    cut = tmp_path / "cut.xz"
    cut.write_bytes(lzma.compress(data * 50)[:100])
    result = CliRunner().invoke(make_app(), ["logs", "parse", str(cut)])
    assert result.exit_code == 2 and "cut.xz" in result.stderr
