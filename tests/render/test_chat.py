"""Slack and Markdown views: any report (long evidence, many hypotheses, hostile text) stays
within Slack's Block Kit limits, escapes what it must, folds what is unlikely, and links runbooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from day2ai.models import (
    Evidence,
    EvidenceSource,
    Fault,
    Gap,
    Hypothesis,
    Incident,
    Remediation,
    Report,
    TimeRange,
)
from day2ai.render.slack import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, message_chars

HOSTILE = ["<!channel>", "<@U123|boss>", "&amp;", "*bold*", "`code`", "<https://evil.example|click>", "\x00\x07",
           "@here", "[x](javascript:alert(1))", "<script>alert(1)</script>", "\n\n> quote", "|", "~"]

text = st.one_of(
    st.text(max_size=50),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=20), max_size=40).map("".join),
    st.integers(min_value=0, max_value=900).map(lambda n: "x<&>" * n),
)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    n_ev = draw(st.integers(0, 30))
    evidence = [Evidence(id=f"e{i}", source=draw(st.sampled_from(list(EvidenceSource))), query="q",
                         summary=draw(text)) for i in range(n_ev)]
    ids = [e.id for e in evidence]
    hyps = []
    for _ in range(draw(st.integers(0, 60))):
        rems = [Remediation(action=draw(text), runbook=draw(st.none() | text)) for _ in range(draw(st.integers(0, 3)))]
        hyps.append(Hypothesis(service=draw(text) or "svc", fault=draw(st.sampled_from(list(Fault))),
                               confidence=draw(st.floats(0, 1)), summary=draw(text),
                               supporting=draw(st.lists(st.sampled_from(ids), max_size=12)) if ids else [],
                               remediations=rems))
    hyps.sort(key=lambda h: -h.confidence)
    now = datetime(2026, 12, 4, tzinfo=UTC)
    incident = Incident(id=draw(text) or "i", title=draw(text) or "t", detected_at=now,
                        window=TimeRange(start=now, end=now))
    gaps = [Gap(source=draw(text), reason=draw(text)) for _ in range(draw(st.integers(0, 20)))]
    return Report(incident=incident, investigator="offline", hypotheses=hyps, evidence=evidence, gaps=gaps)


def _texts(message: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for block in message["blocks"]:
        if "text" in block:
            out.append((block["text"]["type"], block["text"]["text"]))
        out.extend((e["type"], e["text"]) for e in block.get("elements", []))
    return out


def _unescaped(mrkdwn: str) -> list[str]:
    """Angle-bracket spans that are not runbook links we wrote ourselves."""
    return [m for m in re.findall(r"<[^>]*>", mrkdwn) if not re.fullmatch(r"<https?://[^|<>]+\|runbook>", m)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(report=reports(), max_chars=st.integers(0, 20000), min_conf=st.floats(0, 1), most=st.integers(0, 100),
       base=st.none() | st.sampled_from(["https://wiki.example/ops/", "https://w.example/a b|<x>"]))
def test_any_report_stays_within_slack_limits(report: Report, max_chars: int, min_conf: float, most: int,
                                              base: str | None) -> None:
    message = report.to_slack(max_chars=max_chars, min_confidence=min_conf, runbook_base_url=base,
                              max_hypotheses=most)
    assert set(message) == {"text", "blocks"}
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= MAX_BLOCKS
    assert blocks[0]["type"] == "header" and 0 < len(blocks[0]["text"]["text"]) <= MAX_HEADER
    assert "\n" not in blocks[0]["text"]["text"]
    assert message_chars(message) <= min(max(max_chars, 600), 12000)
    assert len(message["text"]) <= 300
    for kind, body in [*_texts(message), ("mrkdwn", message["text"])]:
        assert len(body) <= MAX_SECTION
        assert not re.search(r"[\x00-\x08\x0b-\x1f]", body)
        if kind == "mrkdwn":
            assert not _unescaped(body), body
            assert not re.search(r"&(?!amp;|lt;|gt;)", body), body  # every & is an entity we wrote
    for block in blocks:
        assert len(block.get("elements", [])) <= 10


def _report(n: int, confidences: list[float], summary: str = "pool exhausted", runbook: str | None = None) -> Report:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    ev = [Evidence(id=f"e{i}", source=EvidenceSource.LOGS, query="q", summary=summary) for i in range(n)]
    hyps = [Hypothesis(service=f"svc{i}", fault=Fault.CODE_ERROR, confidence=c, summary=f"summary {i}",
                       supporting=[e.id for e in ev], remediations=[Remediation(action="roll back", runbook=runbook)])
            for i, c in enumerate(confidences)]
    return Report(incident=Incident(id="inc-1", title="checkout slow", detected_at=now,
                                    window=TimeRange(start=now, end=now)),
                  investigator="offline", hypotheses=hyps, evidence=ev)


def test_low_confidence_hypotheses_are_folded_into_one_context_line() -> None:
    report = _report(2, [0.9, 0.5, 0.01, 0.005])
    message = report.to_slack(min_confidence=0.1)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sum(s.startswith(("1. ", "2. ", "3. ", "4. ")) for s in sections) == 2
    contexts = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert len(contexts) == 1 and "svc2" in contexts[0] and "svc3" in contexts[0]
    # the same in Markdown
    md = report.to_markdown(min_confidence=0.1)
    assert "**svc0**" in md and "**svc1**" in md and "**svc2**" not in md and "Also considered: 3. svc2" in md


def test_long_evidence_is_shortened_and_the_message_fits() -> None:
    long = "connection pool exhausted " * 40
    report = _report(6, [0.9, 0.8, 0.7, 0.6, 0.5], summary=long)
    message = report.to_slack(max_chars=3000)
    assert message_chars(message) <= 3000
    texts = "\n".join(t for _, t in _texts(message))
    assert "…" in texts and long.strip() not in texts
    assert all(len(line) <= 260 for line in texts.splitlines())
    assert "*svc0*" in texts and "**" not in texts


def test_runbook_links_are_absolute_with_a_base_url_else_plain_text() -> None:
    report = _report(1, [0.9], runbook="runbooks/payments.md#pool")
    linked = "\n".join(t for _, t in _texts(report.to_slack(runbook_base_url="https://wiki.example/ops")))
    assert "<https://wiki.example/ops/runbooks/payments.md#pool|runbook>" in linked
    plain = "\n".join(t for _, t in _texts(report.to_slack()))
    assert "runbook: runbooks/payments.md#pool" in plain and "<" not in plain
    md = report.to_markdown(runbook_base_url="https://wiki.example/ops/")
    assert "[runbook](https://wiki.example/ops/runbooks/payments.md#pool)" in md
    assert "](runbooks/" not in report.to_markdown() and "`runbooks/payments.md#pool`" in report.to_markdown()


def test_hostile_text_cannot_mention_or_link() -> None:
    report = _report(1, [0.9], summary="<!channel> see <https://evil.example|here> & @here")
    texts = "\n".join(t for _, t in _texts(report.to_slack()))
    assert "<!channel>" not in texts and "&lt;!channel&gt;" in texts and "&amp;" in texts
    md = report.to_markdown()
    assert "<!channel>" not in md and "\\<!channel\\>" in md and "@here" not in md


def test_markdown_bounds_the_number_of_hypotheses_and_evidence() -> None:
    report = _report(9, [0.9] * 8, summary="e" * 1000)
    md = report.to_markdown(max_hypotheses=3, max_evidence=2, evidence_chars=100)
    assert md.count("**svc") == 3 and "and 7 more" in md
    assert max(len(line) for line in md.splitlines()) < 400
