"""Resource bounds (#16): YAML expansion and depth, line length, decompressed bytes, records,
each limit named when it is hit, and the reading goes on after it."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
import yaml

from day2ai.cli import main
from day2ai.errors import InputError
from day2ai.knowledge.markdown import split_front_matter
from day2ai.sources.bundle import load_bundle
from day2ai.sources.bundle_read import BundleLimits
from day2ai.sources.config import parse_site_config
from day2ai.yamlsafe import MAX_DEPTH, YamlLimitError, load
from tests.bundle_factory import INCIDENT, write_bundle

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
DEEP = "a: " + "[" * 100_000 + "]" * 100_000 + "\n"
LOG = b'{"timestamp": 1773482400, "service": "a", "message": "%s"}\n'


def test_billion_laughs_is_refused_quickly() -> None:
    with pytest.raises(YamlLimitError, match="MAX_NODES"):
        load(LAUGHS)
    assert load("base: &b {x: 1}\nother: {<<: *b, y: 2}\n") == {"base": {"x": 1}, "other": {"x": 1, "y": 2}}


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(yaml.YAMLError):  # libyaml's own flow-depth guard, or ours (MAX_DEPTH)
        load(DEEP)
    with pytest.raises(YamlLimitError, match="MAX_DEPTH"):
        load("a:\n" + "".join("  " * i + "- \n" for i in range(1, MAX_DEPTH + 5)))


@pytest.mark.parametrize("text", [LAUGHS, DEEP])
def test_hostile_incident_yaml_exits_2(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_bundle(tmp_path / "b", incident=text)
    assert main(["investigate", str(root), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "incident.yaml" in err and err.count("\n") == 1


@pytest.mark.parametrize("text", [LAUGHS, DEEP])
def test_hostile_site_yaml_is_a_config_error(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError):
        parse_site_config(text)
    (tmp_path / "site.yaml").write_text(text)
    assert main(["investigate", "--config", str(tmp_path / "site.yaml"), "--service", "a"]) == 2
    assert "site.yaml" in capsys.readouterr().err


def test_hostile_runbook_front_matter_is_refused() -> None:
    with pytest.raises(InputError, match=r"runbooks/x\.md"):
        split_front_matter(f"---\n{LAUGHS}---\n# body\n", "runbooks/x.md")


def _logs(root: Path) -> list[str]:
    return [r.message for r in load_bundle(root, LIMITS).iter_file("logs")]


LIMITS = BundleLimits(max_line_bytes=4096, max_file_bytes=1 << 20, max_records=1000, max_text_chars=100)


def test_long_line_is_skipped_and_named_and_reading_goes_on(tmp_path: Path) -> None:
    data = LOG % b"before" + LOG % (b"y" * 10_000) + LOG % b"after"
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl": data})
    bundle = load_bundle(root, LIMITS)
    assert [r.message for r in bundle.iter_file("logs")] == ["before", "after"]
    (gap,) = bundle.data_gaps()
    assert "line 2" in gap.reason and "max_line_bytes" in gap.reason


def test_long_text_is_cut_and_marked(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl": LOG % (b"z" * 1000) + LOG % b"next"})
    bundle = load_bundle(root, LIMITS)
    messages = [r.message for r in bundle.iter_file("logs")]
    assert messages[0].startswith("z" * 100) and "[... cut 900 chars]" in messages[0] and messages[1] == "next"
    assert "max_text_chars" in bundle.data_gaps()[0].reason


def test_gzip_bomb_stops_at_the_byte_limit(tmp_path: Path) -> None:
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = co.compress(LOG % b"first") + b"".join(co.compress(b"a" * (1 << 20)) for _ in range(64)) + co.flush()
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl.gz": bomb})
    bundle = load_bundle(root, LIMITS)
    assert [r.message for r in bundle.iter_file("logs")] == ["first"]
    reasons = " ".join(g.reason for g in bundle.data_gaps())
    assert "max_file_bytes" in reasons


def test_records_per_file_are_bounded(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl.gz": gzip.compress((LOG % b"m") * 5000)})
    bundle = load_bundle(root, LIMITS)
    assert sum(1 for _ in bundle.iter_file("logs")) == 1000
    assert "max_records" in bundle.data_gaps()[0].reason


def test_limits_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY2AI_BUNDLE_MAX_RECORDS", "2")
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl": (LOG % b"m") * 5})
    assert len(_logs_default(root)) == 2
    monkeypatch.setenv("DAY2AI_BUNDLE_MAX_RECORDS", "lots")
    with pytest.raises(InputError, match="DAY2AI_BUNDLE_MAX_RECORDS"):
        load_bundle(root)


def _logs_default(root: Path) -> list[str]:
    return [r.message for r in load_bundle(root).iter_file("logs")]


def test_oversized_yaml_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_bundle(tmp_path / "b", incident=INCIDENT + "# " + "x" * 6_000_000 + "\n")
    assert main(["validate", str(root)]) == 2
    assert "limit" in capsys.readouterr().err
