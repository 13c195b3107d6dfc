"""The user docs stay true: their examples parse, validate and match what the code produces."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from day2ai import investigate, load_bundle, validate_bundle
from day2ai.evaluation.results import CaseResult, SuiteResult
from day2ai.models import Incident, Topology, Truth
from day2ai.sources.bundle import parse_change, parse_log, parse_series, parse_span

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLE = DOCS / "examples" / "bundle"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def sections(doc: str) -> dict[str, list[tuple[str, str]]]:
    """Heading text -> the (language, body) code blocks under it, for every ``## `` heading."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    out: dict[str, list[tuple[str, str]]] = {}
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        title, _, body = part.partition("\n")
        out[title.strip()] = FENCE.findall(body)
    return out


def only(blocks: list[tuple[str, str]], lang: str) -> str:
    found = [body for kind, body in blocks if kind == lang]
    assert len(found) == 1, f"expected one {lang} block, got {len(found)}"
    return found[0]


def test_example_bundle_is_valid_and_investigates() -> None:
    assert validate_bundle(EXAMPLE) == []
    report = investigate(load_bundle(EXAMPLE))
    assert report.hypotheses and report.incident.id == "checkout-latency-0007"
    known = report.evidence_by_id()
    assert all(i in known for h in report.hypotheses for i in h.supporting)


def test_bundle_format_examples_parse() -> None:
    sec = sections("bundle-format.md")
    assert Incident.model_validate(yaml.safe_load(only(sec["incident.yaml"], "yaml"))).id == "checkout-latency-0007"
    topo = Topology.model_validate(yaml.safe_load(only(sec["topology.yaml"], "yaml")))
    assert ("checkout", "orders-db") in topo.edges()
    assert Truth.model_validate(yaml.safe_load(only(sec["truth.yaml"], "yaml"))).root_cause.service == "payments"
    for title, parse in (("metrics.jsonl", parse_series), ("logs.jsonl", parse_log), ("traces.jsonl", parse_span),
                         ("changes.jsonl", parse_change)):
        parse(json.loads(only(sec[title], "json")))


def test_bundle_format_taxonomy_is_the_code_s() -> None:
    from day2ai.models import Fault

    text = (DOCS / "bundle-format.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(\w+)` \|", text, flags=re.M))
    assert table == {f.value for f in Fault}


def _keys(obj: Any) -> set[str]:
    return set(obj) if isinstance(obj, dict) else set()


def test_cli_contract_investigate_example_has_the_real_keys() -> None:
    doc = json.loads(only(sections("cli-contract.md")["`day2ai investigate BUNDLE --format json`"], "json"))
    real = investigate(load_bundle(EXAMPLE)).to_contract()
    assert _keys(doc) == _keys(real)
    assert _keys(doc["hypotheses"][0]) == _keys(real["hypotheses"][0])
    assert _keys(doc["usage"]) == _keys(real["usage"])


def test_cli_contract_eval_example_is_a_result() -> None:
    doc = json.loads(only(sections("cli-contract.md")["`day2ai eval SUITE --out RESULT.json`"], "json"))
    result = SuiteResult.model_validate({**doc, "avg@5": doc["avg@5"]})
    assert result.per_case[0].rank == 1
    assert _keys(doc["per_case"][0]) <= set(CaseResult.model_fields)


def test_cli_contract_json_blocks_parse_and_commands_exist() -> None:
    from typer.main import get_command

    from day2ai.cli import build_app

    for blocks in sections("cli-contract.md").values():
        for kind, body in blocks:
            if kind == "json":
                json.loads(body)
    names = set(get_command(build_app()).commands)  # type: ignore[attr-defined]
    text = (DOCS / "cli-contract.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`day2ai ([a-z][a-z-]+)", text))
    assert mentioned, "no command found in the doc"
    assert mentioned <= names, mentioned - names


@pytest.mark.skipif(importlib.util.find_spec("day2ai.sources.history") is None, reason="no ops-history reader")
def test_ops_history_examples_load(tmp_path: Path) -> None:
    from day2ai.sources.history import load_history

    sec = sections("ops-history.md")
    (tmp_path / "site.yaml").write_text(only(sec["site.yaml"], "yaml"))
    for name in ("incidents.jsonl", "alerts.jsonl", "changes.jsonl"):
        body = only(sec[name], "json")
        json.loads(body)
        (tmp_path / name).write_text(body)
    history = load_history(tmp_path)
    text = repr(history)
    assert "shop-prod" in text and "INC-142" in text and "CheckoutLatencyHigh" in text and "chg-881" in text
    truth = yaml.safe_load(only(sec["truth.yaml (evaluation only)"], "yaml"))
    assert {f["kind"] for f in truth["findings"]} <= set(re.findall(r"^\| `(\w+)` \|", (DOCS / "ops-history.md")
                                                                     .read_text(encoding="utf-8"), flags=re.M))


def test_docs_do_not_send_users_outside_the_project() -> None:
    for path in DOCS.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/spec" not in text, path.name
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (path.parent / target).exists(), f"{path.name}: broken link {target}"


def test_bundle_format_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    monkeypatch.chdir(ROOT)
    code = only(sections("bundle-format.md")["Reading bundles from Python"], "python")
    scope: dict[str, Any] = {}
    exec(compile(code, "bundle-format.md", "exec"), scope)
    assert scope["problems"] == [] and scope["bundle"].incident.id == "checkout-latency-0007"
