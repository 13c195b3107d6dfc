"""Tokens the LLM investigator sends per investigation, with a scripted model that follows the triage.

Target (issue 17): on the ``dev`` suite, median total tokens sent to the model per investigation
<= 8,000 (system prompt, tool schemas and tool outputs included), counted with tiktoken over the
messages (``--via fake``) and, stricter, over the whole JSON request body (``--via stub``).

The scripted model (tests/fakes.py, the same fake the unit tests use) behaves like a competent
model that trusts the triage: it reads the triage's ranked candidates, checks the top ones with
a few tool calls, then submits the triage ranking (its top 3 hypotheses that cite evidence) citing
the triage's evidence ids. Two policies:

* ``parallel``: one step with 3 tool calls (logs + metrics of candidate 1, metrics of candidate 2);
* ``sequential``: the same 3 calls in 3 separate steps (each request re-sends the history).

The same policies can run ``--via stub``: through langchain-openai and HTTP against the loopback
stub server (tests/agent/stub_openai.py), where tokens are the stub's ``usage`` (what a provider
would bill). ``--server URL --model NAME`` instead runs the real model behind an OpenAI-compatible
server (e.g. llama.cpp) on the first ``--limit`` cases: whatever it decides, with its own ``usage``.

Usage::

    .venv/bin/python tools/bench_llm_tokens.py [SUITE_DIR] [--policy parallel|sequential|both]
        [--via fake|stub] [--server URL --model NAME --limit N]

Without SUITE_DIR it uses ``evals/suites/dev`` if present, else generates the dev suite with
``day2ai simulate --suite dev`` into a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.messages import AIMessage, BaseMessage  # noqa: E402

from day2ai.agent.base import EventListener  # noqa: E402
from day2ai.agent.llm import LLMInvestigator  # noqa: E402
from day2ai.agent.offline import OfflineInvestigator  # noqa: E402
from day2ai.agent.triage import DOSSIER_TOKENS  # noqa: E402
from day2ai.models import Incident, Report  # noqa: E402
from day2ai.sources.base import Sources  # noqa: E402
from day2ai.sources.bundle import load_bundle, read_truth  # noqa: E402
from day2ai.tokens import count_tokens  # noqa: E402
from tests.fakes import ScriptedChatModel, hypothesis, submit, tool_calls  # noqa: E402


class CapturingTriage:
    """The offline investigator, remembering its last report so the scripted model can read it."""

    name = "offline"

    def __init__(self) -> None:
        self.inner = OfflineInvestigator(dossier_tokens=DOSSIER_TOKENS)
        self.report: Report | None = None

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: list[EventListener] | None = None) -> Report:
        report, _ = await self.triage(incident, sources, knowledge=knowledge, listeners=listeners)
        return report

    async def triage(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                     listeners: list[EventListener] | None = None,
                     with_dossier: bool = True) -> tuple[Report, str]:
        self.report, dossier = await self.inner.triage(incident, sources, knowledge=knowledge,
                                                        listeners=listeners, with_dossier=with_dossier)
        return self.report, dossier


def follow_triage(capture: CapturingTriage, policy: str) -> Any:
    """A policy for ScriptedChatModel: check the top candidates, then submit the triage ranking."""

    def plan() -> list[tuple[str, dict[str, Any]]]:
        hyps = capture.report.hypotheses if capture.report else []
        first = hyps[0].service if hyps else ""
        second = hyps[1].service if len(hyps) > 1 else first
        return [("log_patterns", {"service": first, "errors_only": True, "limit": 5}),
                ("metric_anomalies", {"service": first, "limit": 5}),
                ("metric_anomalies", {"service": second, "limit": 5})]

    def act(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        offered = {t["function"]["name"] for t in tools}
        done = sum(len(getattr(m, "tool_calls", [])) for m in messages if isinstance(m, AIMessage))
        calls = plan()
        if offered != {"submit_hypotheses"} and done < len(calls):
            return tool_calls(*calls) if policy == "parallel" else tool_calls(calls[done])
        hyps = [h for h in (capture.report.hypotheses if capture.report else []) if h.supporting]
        return submit(*[hypothesis(h.service, h.fault.value, h.supporting[:3], h.confidence, h.summary)
                        for h in hyps[:3]])

    return act


def stub_policy(capture: CapturingTriage, policy: str) -> Any:
    """The triage follower for the HTTP stub: reads the request JSON, answers like the fake does."""
    from tests.agent.stub_openai import reply

    act = follow_triage(capture, policy)

    def answer(request: dict[str, Any]) -> Any:
        messages = [AIMessage(content="", tool_calls=[
            {"name": c["function"]["name"], "args": json.loads(c["function"]["arguments"]), "id": c["id"]}
            for c in m.get("tool_calls") or []]) for m in request["messages"] if m["role"] == "assistant"]
        ai = act(list(messages), request.get("tools", []))
        return reply(content=str(ai.content) or None, tool_calls=[(c["name"], c["args"]) for c in ai.tool_calls])

    return answer


async def measure(bundle_dir: Path, policy: str, via: str = "fake") -> dict[str, Any]:
    bundle = load_bundle(bundle_dir)
    capture = CapturingTriage()
    if via == "stub":
        from day2ai.agent.models import chat_model
        from tests.agent.stub_openai import StubOpenAI

        with StubOpenAI(then=stub_policy(capture, policy)) as stub:
            model = chat_model("stub-triage-follower", base_url=stub.base_url, timeout_s=30)
            started = time.perf_counter()
            report = await LLMInvestigator(model, triage=capture).investigate(bundle.incident, bundle.sources)
            first_request = stub.requests[0]
        return _row(bundle_dir, report, started, [first_request["messages"][0]["content"],
                                                  first_request["messages"][1]["content"]], first_request["tools"])
    model = ScriptedChatModel(then=follow_triage(capture, policy), model_name="scripted-triage-follower")
    inv = LLMInvestigator(model, triage=capture)
    started = time.perf_counter()
    report = await inv.investigate(bundle.incident, bundle.sources)
    first = model.requests[0]
    return _row(bundle_dir, report, started, [str(first["messages"][0].content), str(first["messages"][1].content)],
                first["tools"])


async def measure_server(bundle_dir: Path, url: str, model_name: str, timeout: float) -> dict[str, Any]:
    from day2ai.agent.llm import build_investigator

    bundle = load_bundle(bundle_dir)
    inv = build_investigator(model_name, url, timeout_s=timeout, deadline_s=timeout * 6, max_steps=3,
                             max_output_tokens=512)
    started = time.perf_counter()
    report = await inv.investigate(bundle.incident, bundle.sources)
    row = _row(bundle_dir, report, started, ["", ""], [])
    row["steps"] = [(s.name, s.tokens_in, s.tokens_out, round(s.seconds, 1), s.summary[:80], s.error)
                    for s in report.timeline if s.kind == "llm"]
    return row


def _row(bundle_dir: Path, report: Report, started: float, first_texts: list[str],
         tools: list[dict[str, Any]]) -> dict[str, Any]:
    truth = read_truth(bundle_dir)
    ranked = report.ranked_services()
    return {
        "case": bundle_dir.name,
        "tokens_in": report.usage.tokens_in,
        "tokens_out": report.usage.tokens_out,
        "llm_calls": report.usage.llm_calls,
        "first_request": report.timeline[[s.kind for s in report.timeline].index("llm")].tokens_in,
        "system_prompt": count_tokens(first_texts[0]),
        "tool_schemas": count_tokens(json.dumps(tools, separators=(",", ":"), sort_keys=True)),
        "user_message": count_tokens(first_texts[1]),
        "hit@1": bool(truth and ranked[:1] == [truth.root_cause.service]),
        "ranked": ranked[:3],
        "grounded": all(h.supporting for h in report.hypotheses) and not any("Dropped" in n for n in report.notes),
        "seconds": time.perf_counter() - started,
        "notes": [n for n in report.notes if "price" not in n],
    }


def suite_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    default = ROOT / "evals" / "suites" / "dev"
    if default.is_dir():
        return default
    out = Path(tempfile.mkdtemp(prefix="day2ai-dev-")) / "dev"
    cli = Path(sys.executable).parent / "day2ai"  # the console script of this environment
    subprocess.run([str(cli), "simulate", "--suite", "dev", "--out", str(out), "--jobs", "2"], check=True)
    return out


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", nargs="?")
    parser.add_argument("--policy", choices=["parallel", "sequential", "both"], default="both")
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases")
    parser.add_argument("--json", type=Path, help="also write per-case rows here")
    parser.add_argument("--via", choices=["fake", "stub"], default="fake",
                        help="scripted model in-process or over HTTP")
    parser.add_argument("--server", help="a real OpenAI-compatible server (base URL ending in /v1)")
    parser.add_argument("--model", default="smollm2", help="with --server: the model name")
    parser.add_argument("--timeout", type=float, default=600.0, help="with --server: seconds per request")
    args = parser.parse_args()
    root = suite_dir(args.suite)
    cases = sorted(p for p in root.iterdir() if (p / "incident.yaml").is_file())
    if args.limit:
        cases = cases[: args.limit]
    if args.server:
        server_rows = [asyncio.run(measure_server(c, args.server, args.model, args.timeout)) for c in cases]
        for row in server_rows:
            print(f"{row['case']}: tokens in {row['tokens_in']}, out {row['tokens_out']}, llm calls "
                  f"{row['llm_calls']}, {row['seconds']:.0f} s; steps {row['steps']}; notes {row['notes'][:2]}")
        print(f"median tokens sent per investigation: {statistics.median(r['tokens_in'] for r in server_rows):.0f}")
        if args.json:
            args.json.write_text(json.dumps(server_rows, indent=1, default=str))
        return
    policies = ["parallel", "sequential"] if args.policy == "both" else [args.policy]
    rows: dict[str, list[dict[str, Any]]] = {}
    for policy in policies:
        rows[policy] = [asyncio.run(measure(c, policy, args.via)) for c in cases]
        r = rows[policy]
        tokens_in = [x["tokens_in"] for x in r]
        totals = [x["tokens_in"] + x["tokens_out"] for x in r]
        print(f"{policy} (via {args.via}): {len(r)} cases from {root}")
        print(f"  tokens sent per investigation: median {statistics.median(tokens_in):.0f}, "
              f"p95 {pct(tokens_in, 0.95):.0f}, max {max(tokens_in)}")
        print(f"  tokens sent+received: median {statistics.median(totals):.0f}, p95 {pct(totals, 0.95):.0f}")
        print(f"  llm calls: median {statistics.median(x['llm_calls'] for x in r):.0f}; first request: "
              f"median {statistics.median(x['first_request'] for x in r):.0f} (system "
              f"{statistics.median(x['system_prompt'] for x in r):.0f}, tool schemas "
              f"{statistics.median(x['tool_schemas'] for x in r):.0f}, incident+dossier "
              f"{statistics.median(x['user_message'] for x in r):.0f})")
        print(f"  hit@1 {sum(x['hit@1'] for x in r) / len(r):.2f}; all grounded {all(x['grounded'] for x in r)}; "
              f"median seconds {statistics.median(x['seconds'] for x in r):.2f}")
        noted = [x for x in r if x["notes"]]
        if noted:
            print(f"  cases with notes: {len(noted)} (e.g. {noted[0]['notes'][:2]})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
