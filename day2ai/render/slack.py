"""A report as a Slack message: ``{"text": ..., "blocks": [...]}`` in mrkdwn, within Block Kit limits.

Everything that comes from the incident or the telemetry (titles, service names, evidence
summaries, remediation text) is untrusted: ``&``, ``<`` and ``>`` are escaped, so that a log line
cannot post ``<!channel>`` or a link, and formatting characters are taken out of bold spans.
Limits respected (Slack Block Kit reference): at most 50 blocks, header text at most 150
characters, section text at most 3,000, context at most 10 elements; and the whole message's text
at most ``max_chars``. Long evidence is shortened; hypotheses below ``min_confidence`` are folded
into one context line.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from day2ai.models import Hypothesis, Report
from day2ai.render.common import split_hypotheses

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_MESSAGE = 12000  # Slack refuses messages whose blocks carry much more text (msg_blocks_too_long)
MIN_CHARS = 600  # below this a message cannot hold the header, the intro and one hypothesis
DEFAULT_MIN_CONFIDENCE = 0.15
ELLIPSIS = "…"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FORMAT_CHARS = re.compile(r"[*_~`]")


def escape(text: str) -> str:
    """Slack mrkdwn escaping of the three control characters (and removal of C0 controls)."""
    text = _CONTROL.sub(" ", text)
    return "".join(_ESCAPES.get(c, c) for c in text)


def fit(text: str, limit: int, *, one_line: bool = True) -> str:
    """``text`` escaped, shortened (with an ellipsis) so that the escaped form has at most ``limit`` chars.

    Never cuts inside an escape entity. ``one_line`` folds newlines into spaces.
    """
    if limit <= 0:
        return ""
    if one_line:
        text = " ".join(text.split())
    full = escape(text)
    if len(full) <= limit:
        return full
    out: list[str] = []
    used = 0
    for char in _CONTROL.sub(" ", text):
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > limit - len(ELLIPSIS):
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + ELLIPSIS


def plain(text: str, limit: int) -> str:
    """Plain text (header blocks): one line, controls removed, at most ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def bold(text: str, limit: int) -> str:
    """``*text*`` with the formatting characters taken out of ``text`` (so the span cannot break)."""
    inner = fit(_FORMAT_CHARS.sub("", text), limit - 2) or "?"
    return f"*{inner}*"


def runbook_ref(runbook: str, base_url: str | None) -> str:
    """A runbook as an absolute ``<url|runbook>`` link when a base URL is known, else as plain text."""
    target = runbook.strip()
    if base_url and not re.match(r"^[a-z][a-z0-9+.-]*://", target, re.I):
        target = base_url.rstrip("/") + "/" + target.lstrip("/")
    if re.match(r"^https?://", target, re.I):
        url = quote(target, safe=":/?#[]@!$&'()*+,;=%-._~")
        url = url.replace("&", "&amp;").replace("|", "%7C")
        if len(url) <= 500:
            return f"<{url}|runbook>"
    return "runbook: " + fit(runbook, 200)


def _evidence_lines(report: Report, hyp: Hypothesis, limit: int, max_evidence: int) -> list[str]:
    by_id = report.evidence_by_id()
    cited = [by_id[i] for i in hyp.supporting if i in by_id]
    lines = [f"• `{e.id}` {e.source.value}: {fit(e.summary, limit)}" for e in cited[:max_evidence]]
    if len(cited) > max_evidence:
        lines.append(f"• _and {len(cited) - max_evidence} more_")
    return lines


def hypothesis_text(report: Report, rank: int, hyp: Hypothesis, budget: int, *,
                    runbook_base_url: str | None = None, max_evidence: int = 3, evidence_chars: int = 200) -> str:
    """The mrkdwn of one hypothesis, at most ``budget`` characters (lines that do not fit are left out)."""
    budget = min(budget, MAX_SECTION)
    head = (f"{rank}. {bold(hyp.service, 120)} `{hyp.fault.value}` (confidence {hyp.confidence:.2f})")
    lines = [head]
    if hyp.summary:
        lines.append(fit(hyp.summary, 400))
    lines.extend(_evidence_lines(report, hyp, evidence_chars, max_evidence))
    for rem in hyp.remediations[:2]:
        ref = f" ({runbook_ref(rem.runbook, runbook_base_url)})" if rem.runbook else ""
        lines.append(f"• suggested: {fit(rem.action, 200)}{ref}")
    out: list[str] = []
    used = 0
    for line in lines:
        extra = len(line) + (1 if out else 0)
        if used + extra > budget:
            if not out:  # even the head line does not fit: shorten it as plain text
                out.append(fit(f"{rank}. {hyp.service} {hyp.fault.value} {hyp.confidence:.2f}", budget))
            break
        out.append(line)
        used += extra
    return "\n".join(out)


def _fold_line(hyps: list[tuple[int, Hypothesis]], limit: int) -> str:
    parts = [f"{rank}. {h.service} {h.fault.value} {h.confidence:.2f}" for rank, h in hyps]
    return fit("Also considered: " + "; ".join(parts), limit)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def report_slack(report: Report, max_chars: int = 3000, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                 runbook_base_url: str | None = None, *, max_hypotheses: int = 5, max_evidence: int = 3,
                 evidence_chars: int = 200) -> dict[str, Any]:
    """The report as a Slack message (``chat.postMessage`` / incoming-webhook body).

    ``max_chars`` (clamped to 600..12,000) bounds the total text of all blocks; no section exceeds
    Slack's 3,000 characters, there are never more than 50 blocks, and ``text`` stays under 300.
    """
    max_chars = min(MAX_MESSAGE, max(MIN_CHARS, int(max_chars)))
    inc = report.incident
    shown, _ = split_hypotheses(report, min_confidence, min(max_hypotheses, 40))
    part = max_chars // 6  # the header, the intro and each context line get at most a sixth each
    header = plain(f"Incident: {inc.title}", min(MAX_HEADER, part))
    intro_raw = f"{inc.id} · detected {inc.detected_at.isoformat()} · investigator {report.investigator}"
    if inc.symptom.service:
        intro_raw += f" · symptom on {inc.symptom.service}"
    note_len = 60
    reserved = len(header) + min(300, part - note_len) + note_len + min(400, part) * (2 if report.gaps else 1)
    # what is left goes to the hypotheses, shared equally; fold hypotheses if the share is too thin
    while shown and (max_chars - reserved) // len(shown) < 120:
        shown.pop()
    kept = {r for r, _ in shown}
    folded = [(r, h) for r, h in enumerate(report.hypotheses, start=1) if r not in kept]
    note = ""
    if not shown:
        note = "\n" + (f"_No hypothesis reached confidence {min_confidence:.2f}._" if report.hypotheses
                       else "_No hypothesis: not enough evidence._")
    intro = fit(intro_raw, min(300, part - note_len)) + note
    contexts: list[str] = []
    if folded:
        contexts.append(_fold_line(folded, min(400, part)))
    if report.gaps:
        gaps = "Not checked: " + "; ".join(f"{g.source} ({g.reason})" for g in report.gaps)
        contexts.append(fit(gaps, min(400, part)))
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}},
                                    _section(intro)]
    if shown:
        share = (max_chars - reserved) // len(shown)
        for rank, hyp in shown:
            blocks.append(_section(hypothesis_text(report, rank, hyp, share, runbook_base_url=runbook_base_url,
                                                   max_evidence=max_evidence, evidence_chars=evidence_chars)))
    blocks.extend(_context(c) for c in contexts)
    blocks = blocks[:MAX_BLOCKS]
    return {"text": fallback_text(report, min(max_chars, 300)), "blocks": blocks}


def fallback_text(report: Report, limit: int = 300) -> str:
    """The notification text: the incident and the best hypothesis, one line."""
    inc = report.incident
    if report.hypotheses:
        top = report.hypotheses[0]
        raw = f"day2ai: {inc.title}: most likely {top.service} {top.fault.value} ({top.confidence:.2f})"
    else:
        raw = f"day2ai: {inc.title}: no hypothesis"
    return fit(raw, limit)


def message_chars(message: dict[str, Any]) -> int:
    """Total characters of text in a message's blocks (what ``max_chars`` bounds)."""
    total = 0
    for block in message.get("blocks", []):
        if "text" in block:
            total += len(block["text"]["text"])
        total += sum(len(e.get("text", "")) for e in block.get("elements", []))
    return total
