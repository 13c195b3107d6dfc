"""The command line starts fast: ``day2ai --help`` imports no command module, and the table it
lists from stays equal to what the command modules register."""

from __future__ import annotations

import subprocess
import sys

import pytest

from day2ai import cli


def _real() -> dict[str, str]:
    from typer.main import get_group

    group = get_group(cli.build_app())
    return {name: " ".join((cmd.help or "").split("\n\n")[0].split()) for name, cmd in group.commands.items()}


def test_the_command_table_matches_the_modules() -> None:
    real = _real()
    table = {name: text for name, (module, text) in cli.COMMANDS.items() if module in cli._available_modules()}
    assert set(table) == set(real), "update day2ai.cli.COMMANDS"
    for name, text in table.items():
        assert real[name].startswith(text.rstrip(".")[:40]), (name, text, real[name])
    for name, (module, _) in cli.COMMANDS.items():
        if module in cli._available_modules():
            assert name in cli.module_commands(module), (name, module)


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from day2ai.cli import main; rc = main(['--help']); "
            "heavy = [m for m in ('pydantic', 'rich', 'numpy', 'day2ai.models', 'day2ai.cli.core', 'httpx') "
            "if m in sys.modules]; print('HEAVY', ','.join(heavy), file=sys.stderr); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "investigate" in out.stdout and "kb" in out.stdout
    assert out.stderr.strip().splitlines()[-1] == "HEAVY"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_a_command_missing_from_the_table_is_still_found(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    table = dict(cli.COMMANDS)
    table.pop("validate")
    monkeypatch.setattr(cli, "COMMANDS", table)
    assert cli.main(["validate", "/nonexistent/bundle"]) == 2
    err = capsys.readouterr().err
    assert "No such command" not in err and "bundle" in err


def test_subcommand_help_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["kb", "search", "--help"]) == 0
    assert "--index" in capsys.readouterr().out


def test_import_day2ai_loads_no_model_until_a_name_is_used() -> None:
    code = ("import sys, day2ai; before = [m for m in ('pydantic', 'numpy', 'day2ai.models') if m in sys.modules]; "
            "day2ai.Report; after = 'day2ai.models' in sys.modules; print(','.join(before), after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["True"]  # nothing before; the models once Report is used


def test_bare_day2ai_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Usage: day2ai") and "investigate" in err
