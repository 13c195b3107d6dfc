"""Case-by-case comparison, result files, and the Markdown report with its plot."""

from __future__ import annotations

from pathlib import Path

import pytest

from day2ai.errors import InputError
from day2ai.evaluation.compare import compare, render_comparison
from day2ai.evaluation.report_md import plot_confusion, render_markdown, write_markdown
from day2ai.evaluation.results import CaseResult, load_result, save_result
from day2ai.evaluation.scoring import aggregate


def case(cid: str, rank: int | None, fault_ok: bool = False, error: str | None = None,
         fault: str = "cpu_saturation") -> CaseResult:
    ranked = ["x"] * ((rank or 3) - 1) + (["db"] if rank else [])
    return CaseResult(id=cid, truth_service="db", truth_fault=fault, ranked_services=ranked, rank=rank,
                      predicted_fault=fault if fault_ok else "memory_leak", fault_correct=fault_ok,
                      error=error, seconds=0.5)


def test_compare_finds_regressions_and_improvements() -> None:
    a = aggregate([case("same", 1, True), case("worse", 1), case("lost", 2), case("better", None),
                   case("fault-lost", 1, True), case("gone", 1)])
    b = aggregate([case("same", 1, True), case("worse", 3), case("lost", None, error="Timeout"),
                   case("better", 2), case("fault-lost", 1, False), case("new", 1)])
    c = compare(a, b, label_a="a.json", label_b="b.json")
    assert [x.id for x in c.regressions] == ["fault-lost", "lost", "worse"]
    assert [x.id for x in c.improvements] == ["better"]
    assert c.only_in_a == ["gone"] and c.only_in_b == ["new"]
    lost = next(x for x in c.cases if x.id == "lost")
    assert "#2 -> miss" in lost.why and "Timeout" in lost.why
    ac1 = next(s for s in c.scores if s.name == "ac@1")
    assert ac1.delta == round(b.ac_at_1 - a.ac_at_1, 4)
    text = render_comparison(c)
    assert "regressions (3):" in text and "worse: truth service #1 -> #3" in text
    assert "only in A (1): gone" in text


def test_result_files_round_trip_and_bad_files(tmp_path: Path) -> None:
    result = aggregate([case("a", 1, True), case("b", None, error="boom")], suite="s", investigator="i")
    path = save_result(result, tmp_path / "sub" / "r.json")
    assert load_result(path) == result
    assert path.read_text() == save_result(load_result(path), tmp_path / "again.json").read_text()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match=r"bad\.json:1: invalid JSON"):
        load_result(tmp_path / "bad.json")
    (tmp_path / "shape.json").write_text('{"cases": "many"}')
    with pytest.raises(InputError, match=r"shape\.json"):
        load_result(tmp_path / "shape.json")
    with pytest.raises(InputError, match="no such result file"):
        load_result(tmp_path / "missing.json")


def test_markdown_report_tables_misses_and_plot(tmp_path: Path) -> None:
    result = aggregate([case("hit", 1, True), case("miss|<b>", 2, fault="disk_full"),
                        case("err", None, error="ValueError: a\nb | c")], suite="suite", investigator="inv")
    text = render_markdown(result, plot="r.png")
    assert "| AC@1 | 0.333 |" in text and "![scores](r.png)" in text
    assert "## Confusion of fault words" in text and "| disk_full |" in text
    assert "## Misses (2)" in text
    assert "miss\\|&lt;b&gt;" in text  # case data cannot break the table or inject HTML
    assert "ValueError: a b \\| c" in text
    out = write_markdown(result, tmp_path / "rep" / "r.md")
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![scores](r.png)" in out.read_text()
    fig = plot_confusion(result)
    assert fig.axes[0].get_ylabel() == "truth fault"
