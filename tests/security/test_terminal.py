"""Terminal injection (#16): escape sequences from untrusted text are never printed raw."""

from __future__ import annotations

from pathlib import Path

import pytest

from day2ai.cli import main
from day2ai.safetext import clean

HOSTILE = "ok \x1b]0;title\x07 \x1b[2J\x1b[31mred\x1b[0m \x9b31m \u202egnp.exe\r\x08 \x00 done\ttab\nline2"


def test_clean_escapes_every_control_character() -> None:
    out = clean(HOSTILE)
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e\r\x08\x00")
    assert "\\x1b]0;title\\x07" in out and "\\u202e" in out
    assert out.endswith("done\ttab\nline2")  # tab and newline are layout, kept
    assert clean("plain text: ünïcödé ✓") == "plain text: ünïcödé ✓"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_cli_text_output_has_no_escape_sequences(salted_bundle: Path, fmt: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["investigate", str(salted_bundle), "--format", fmt]) == 0
    out = capsys.readouterr()
    assert "\x1b]" not in out.out and "\x07" not in out.out and "\x1b]" not in out.err
    if fmt == "text":
        assert "pwned" in out.out  # the text is shown, made inert


def test_error_lines_are_cleaned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "b\x1b[31mX"
    assert main(["validate", str(bad)]) == 2
    assert "\x1b" not in capsys.readouterr().err
