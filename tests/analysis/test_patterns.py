"""Per-request patterns: units, shifts where a change starts (not at every caller), the onset."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from day2ai.analysis.patterns import (
    MAX_GAP_S,
    analyze_patterns,
    pattern_onset,
    pattern_shifts,
    precedes_recording,
    recording,
)
from day2ai.analysis.units import build_units, collapse_repeats, entry_spans, statement_key

SERVICES = ["frontend", "checkout", "pricing", "tax"]


def _requests(
    times: list[float], broken_after: float | None, failing_calls: bool = False, odd: tuple[float, ...] = ()
) -> dict[str, Any]:
    """frontend -> checkout -> pricing -> tax; after ``broken_after`` pricing takes another branch:
    it skips tax and logs another template (a code fault), unless ``failing_calls`` where instead
    its calls to tax fail (error status) and it logs an error (tax's fault, seen from pricing). The
    requests at the ``odd`` times take the other branch too."""
    svc, name, start, parent, trace = [], [], [], [], []
    links, failed = [], []
    for k, t in enumerate(times):
        tid = f"t{k}"
        broken = (broken_after is not None and t >= broken_after) or t in odd
        base = len(svc)
        for i, (s, n, p) in enumerate(
            [(0, "GET /buy", -1), (1, "POST /checkout", 0), (2, "GET /price", 1), (3, "GET /tax", 2)]
        ):
            if i == 3 and broken and not failing_calls:
                continue
            svc.append(s)
            name.append(n)
            start.append(t + 0.01 * i)
            parent.append(base + p if p >= 0 else -1)
            trace.append(tid)
        links.append((tid, "checkout", "T-order", t + 0.015, -1))
        if broken and failing_calls:
            links.append((tid, "pricing", "T-tax-call-failed", t + 0.025, -1))
            failed.append(base + 2)  # pricing's span: its call to tax failed
        elif broken:
            links.append((tid, "pricing", "T-fallback-price", t + 0.025, -1))
        else:
            links.append((tid, "pricing", "T-price", t + 0.025, -1))
    return _kwargs(SERVICES, svc, name, start, parent, trace, links, failed_callers=failed)


def _kwargs(services: list[str], *columns: list[Any], **extra: Any) -> dict[str, Any]:
    """build_units' arguments from the span columns (service, name, start, parent, trace) and links."""
    keys = ("span_service", "span_name", "span_start", "span_parent", "span_trace", "log_links")
    return {"services": services, **dict(zip(keys, columns, strict=True)), **extra}


def test_units_are_one_per_service_and_request_with_calls_and_log_templates() -> None:
    table = build_units(**_requests([0.0, 10.0], None))
    assert len(table) == 8  # 2 requests x 4 services
    pricing = [table.patterns[p] for p, s in zip(table.pattern, table.service, strict=True) if s == 2]
    assert pricing == ["calls [tax:GET /tax] logs [T-price]"] * 2
    frontend_unit = int(np.flatnonzero(table.service == 0)[0])
    assert [table.services[table.service[c]] for c in table.children[frontend_unit]] == ["checkout"]


def test_the_shift_is_where_the_branch_changed_not_at_its_callers() -> None:
    times = [float(t) for t in range(0, 600, 5)]
    table = build_units(**_requests(times, broken_after=400.0))
    shifts = pattern_shifts(table, table.time < 400.0, table.time >= 400.0)
    assert set(shifts) == {"pricing"}
    s = shifts["pricing"]
    assert s.operation == "GET /price" and s.novel == 1.0 and s.z > 5
    assert "T-fallback-price" in s.example and "calls [-]" in s.example
    assert "took a path the baseline never showed" in s.describe()
    assert s.usual == "calls [tax:GET /tax] logs [T-price]"
    # what differs, not two whole paths
    assert (s.added, s.missing) == (["log T-fallback-price"], ["call tax:GET /tax", "log T-price"])
    assert "the new path vs the usual one: + log T-fallback-price; - call tax:GET /tax; - log T-price" in s.describe()


def test_a_caller_whose_calls_fail_inherits_the_change_from_the_callee() -> None:
    times = [float(t) for t in range(0, 600, 5)]
    table = build_units(**_requests(times, broken_after=400.0, failing_calls=True))
    shifts = pattern_shifts(table, table.time < 400.0, table.time >= 400.0)
    assert "pricing" not in shifts  # its new error line is about tax failing, not its own branch


def test_a_change_inherited_from_a_changed_callee_counts_only_at_the_callee() -> None:
    times = [float(t) for t in range(0, 600, 5)]
    req = _requests(times, broken_after=400.0)
    # checkout now also logs a new line whenever pricing took the other branch
    req["log_links"] += [(f"t{k}", "checkout", "T-price-odd", t, -1) for k, t in enumerate(times) if t >= 400.0]
    table = build_units(**req)
    shifts = pattern_shifts(table, table.time < 400.0, table.time >= 400.0)
    assert set(shifts) == {"pricing"}


def test_no_change_gives_no_significant_shift_and_no_onset() -> None:
    rng = random.Random(7)
    times = sorted(rng.uniform(0, 600) for _ in range(200))
    req = _requests(times, None)
    # sampling noise: a few random log templates in checkout
    req["log_links"] += [(f"t{k}", "checkout", f"T-noise-{rng.randint(0, 3)}", 0.0, -1) for k in range(0, 200, 3)]
    table = build_units(**req)
    pa = analyze_patterns(table, 400.0, None, 600.0)
    assert all(s.z <= pa.critical_z for s in pa.shifts.values())
    assert pattern_onset(table, detected=590.0) is None


def test_the_onset_is_the_change_point_of_the_recording_around_the_detection() -> None:
    times = [float(t) for t in np.arange(0.0, 300.0, 2.0)]
    table = build_units(**_requests(times, broken_after=170.0))
    onset = pattern_onset(table, detected=260.0)
    assert onset is not None and abs(onset - 170.0) <= 10.0


def test_an_onset_before_the_recording_is_replaced_by_the_pattern_change_point() -> None:
    times = [float(t) for t in np.arange(1000.0, 1300.0, 2.0)]
    table = build_units(**_requests(times, broken_after=1170.0))
    assert precedes_recording(table, onset=400.0, detected=1260.0)
    refined = pattern_onset(table, detected=1260.0)
    assert refined is not None and abs(refined - 1170.0) <= 10.0
    assert not precedes_recording(table, onset=1100.0, detected=1260.0)  # inside: it stands


def test_recordings_are_split_by_long_gaps() -> None:
    times = [0.0, 30.0, 60.0, 60.0 + MAX_GAP_S + 100.0, 60.0 + MAX_GAP_S + 130.0]
    table = build_units(**_requests(times, None))
    assert recording(table, 45.0) == (0.0, 60.02 + 0.01)
    lo, hi = recording(table, 10_000.0) or (0.0, 0.0)
    assert lo == 60.0 + MAX_GAP_S + 100.0 and hi > lo
    assert recording(table, -5.0) is None


def test_an_explicit_baseline_is_compared_together_with_the_time_before_the_onset() -> None:
    early = [float(t) for t in range(0, 100, 5)]
    late = [float(t) for t in range(1000, 1300, 5)]
    table = build_units(**_requests(early + late, broken_after=1200.0))
    pa = analyze_patterns(table, 1200.0, (0.0, 100.0), 1300.0)
    assert pa.baseline_units == 4 * (len(early) + len([t for t in late if t < 1200.0]))
    assert set(pa.shifts) == {"pricing"} and pa.shifts["pricing"].z > pa.critical_z


def test_a_path_that_became_the_usual_one_is_a_shift_of_the_mix() -> None:
    # pricing took the fallback branch once in the baseline (so it is not novel), then in every other
    # request (so the usual path did not vanish either)
    times = [float(t) for t in range(0, 600, 5)]
    table = build_units(**_requests(times, None, odd=(100.0, *(t for t in times if t >= 400.0 and t % 10 == 0))))
    shifts = pattern_shifts(table, table.time < 400.0, table.time >= 400.0)
    s = shifts["pricing"]
    assert s.kind == "mix" and s.z > 5
    assert s.example_before < 0.05 and s.example_after == 0.5
    assert "went from 1% to 50%" in s.describe() and "T-fallback-price" in s.describe()


def test_errors_that_stopped_are_a_recovery_not_a_shift() -> None:
    # in the first minutes pricing's calls to tax failed (it logged an error); then they recovered
    times = [float(t) for t in range(0, 600, 5)]
    table = build_units(
        **_requests(times, None, failing_calls=True, odd=tuple(t for t in times if t < 150.0)),
        error_templates={"T-tax-call-failed"},
    )
    pa = analyze_patterns(table, 400.0, None, 600.0)
    assert "pricing" not in pa.shifts or pa.shifts["pricing"].z <= pa.critical_z
    # the same errors starting at the onset are a shift (their calls failed: it counts at tax)
    later = build_units(**_requests(times, 400.0, failing_calls=True), error_templates={"T-tax-call-failed"})
    assert later.error.any() and not build_units(**_requests(times, None)).error.any()


def test_sampling_noise_in_the_mix_is_not_a_shift() -> None:
    rng = random.Random(11)
    times = sorted(rng.uniform(0, 600) for _ in range(300))
    req = _requests(times, None)
    # each request logs one of four templates at random, the same odds throughout
    req["log_links"] += [(f"t{k}", "checkout", f"T-variant-{rng.randint(0, 3)}", 0.0, -1) for k in range(300)]
    pa = analyze_patterns(build_units(**req), 400.0, None, 600.0)
    assert all(s.z <= pa.critical_z for s in pa.shifts.values())


# ------------------------------------------------------------------ through the offline investigator


def _bundle_rows(skipped_line: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A code fault in pricing from 10:25: it stops calling tax and logs another line; or, with
    ``skipped_line``, it still calls tax but an exception skips the second of two log statements
    that write the same text (told apart only by their call sites in the line's header)."""
    from tests.bundle_factory import T0

    spans: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    rng = random.Random(3)
    broken_at = T0 + 25 * 60  # 10:25, detected 10:32
    for k in range(540):  # one request every 5 s over 45 minutes
        t = T0 + k * 5 + rng.uniform(0, 1)
        trace = f"{k:032x}"
        broken = t >= broken_at
        chain = [("frontend", "GET /buy"), ("checkout", "POST /checkout"), ("pricing", "GET /price")]
        if not broken or skipped_line:
            chain.append(("tax", "GET /tax"))
        parent = None
        for i, (svc, op) in enumerate(chain):
            sid = f"{k:08x}{i:08x}"
            dur = 40.0 - 8 * i + rng.uniform(0, 3)
            spans.append(
                {
                    "trace_id": trace,
                    "span_id": sid,
                    "parent_span_id": parent,
                    "service": svc,
                    "name": op,
                    "start": t + 0.002 * i,
                    "duration_ms": dur,
                }
            )
            parent = sid
        if skipped_line:
            for line in (40,) if broken else (40, 46):
                msg = f"10:{k % 60:02d}:00.123 INFO  c.s.PriceService#{line} [price][computed][item {k}]"
                logs.append({"timestamp": t, "service": "pricing", "level": "INFO", "message": msg, "trace_id": trace})
        else:
            msg = f"fallback price used for item {k}" if broken else f"price computed for item {k} with tax"
            logs.append(
                {"timestamp": t + 0.003, "service": "pricing", "level": "INFO", "message": msg, "trace_id": trace}
            )
        logs.append(
            {
                "timestamp": t + 0.001,
                "service": "checkout",
                "level": "INFO",
                "message": f"order {k} priced",
                "trace_id": trace,
            }
        )
    return spans, logs


def test_a_code_fault_seen_only_in_request_patterns_is_ranked_first_as_code_error(tmp_path: Path) -> None:
    from day2ai import investigate
    from tests.bundle_factory import write_bundle

    spans, logs = _bundle_rows()
    bundle = write_bundle(tmp_path / "b", traces=spans, logs=logs)
    report = investigate(bundle)
    top = report.hypotheses[0]
    assert top.service == "pricing"
    assert top.fault.value == "code_error"
    cited = [e for e in report.evidence if e.id in top.supporting]
    pattern = next(e for e in cited if "per-request patterns of pricing" in e.query)
    assert "+ log 'fallback price used for item <*>'" in pattern.summary  # template text, not its id
    assert "- call tax:GET /tax" in pattern.summary


def test_a_log_statement_skipped_after_an_exception_is_told_apart_by_its_call_site(tmp_path: Path) -> None:
    from day2ai import investigate
    from tests.bundle_factory import write_bundle

    spans, logs = _bundle_rows(skipped_line=True)
    report = investigate(write_bundle(tmp_path / "b", traces=spans, logs=logs))
    top = report.hypotheses[0]
    assert (top.service, top.fault.value) == ("pricing", "code_error")
    cited = [e for e in report.evidence if e.id in top.supporting]
    pattern = next(e for e in cited if "per-request patterns of pricing" in e.query)
    assert "PriceService#46" in pattern.summary  # the statement no longer reached


async def test_a_metric_anomaly_off_every_traced_request_is_discounted(tmp_path: Path) -> None:
    from day2ai.analysis.fusion import rank
    from day2ai.sources.bundle import load_bundle
    from day2ai.tools.base import Investigation
    from day2ai.tools.rca import signals
    from tests.bundle_factory import series, write_bundle

    spans, logs = _bundle_rows()
    cpu = [0.05] * 100 + [0.6] * 80  # 15 s steps: from 10:25 on, a batch job nobody calls burns CPU
    bundle = write_bundle(
        tmp_path / "b", traces=spans, logs=logs, metrics=[series("cpu_usage_ratio", "batch-job", cpu)]
    )
    b = load_bundle(bundle)
    cands = rank(await signals(Investigation(incident=b.incident, sources=b.sources)), top=10)
    by = {c.service: c for c in cands}
    assert cands[0].service == "pricing"
    assert "no traced request, log line or known call goes through it" in by["batch-job"].reasons
    assert all("no traced request" not in r for c in cands if c.service != "batch-job" for r in c.reasons)


async def test_requests_recorded_just_before_the_window_join_the_baseline(tmp_path: Path) -> None:
    from day2ai.sources.bundle import load_bundle
    from day2ai.tools import signals as sig
    from day2ai.tools.base import Investigation
    from tests.bundle_factory import INCIDENT, T0, write_bundle

    spans, logs = _bundle_rows()
    # the window (and a one-minute explicit baseline) start at 10:05; the files hold requests from 10:00
    incident = INCIDENT.replace("start: 2026-03-14T10:00:00Z", "start: 2026-03-14T10:05:00Z")
    incident += "baseline:\n  start: 2026-03-14T10:05:00Z\n  end: 2026-03-14T10:06:00Z\n"
    b = load_bundle(write_bundle(tmp_path / "b", incident=incident, traces=spans, logs=logs))
    inv = Investigation(incident=b.incident, sources=b.sources)
    table = await sig.pattern_table(inv)
    assert table is not None and float(table.time.min()) < T0 + 10
    pa = await sig.pattern_analysis(inv)
    assert pa is not None and pa.baseline_units == int((table.time < pa.onset).sum())


def test_a_list_logged_item_by_item_is_one_statement_whatever_its_length() -> None:
    four = collapse_repeats("sold [T(s=<*>, a=x), T(s=<*>, a=x), T(s=<*>, a=x), T(s=<*>, a=x)]")
    six = collapse_repeats("sold [" + "T(s=<*>, a=x), " * 5 + "T(s=<*>, a=x)]")
    assert four == six and "…" in four
    # a long line cut at a length limit, at different places
    assert collapse_repeats("sold [" + "T(s=<*>, a=x), " * 3 + "T(s=<*>, a") == collapse_repeats(
        "sold [" + "T(s=<*>, a=x), " * 5 + "T"
    )
    assert collapse_repeats("GET /a took <*> ms for <*> of <*>") == "GET /a took <*> ms for <*> of <*>"


async def test_a_list_that_grows_over_time_is_not_a_pattern_shift(tmp_path: Path) -> None:
    from day2ai.sources.bundle import load_bundle
    from day2ai.tools import signals as sig
    from day2ai.tools.base import Investigation
    from tests.bundle_factory import write_bundle

    spans, logs = _bundle_rows(skipped_line=True)  # every request calls tax throughout
    logs = [r for r in logs if r["service"] != "pricing"]
    for k, r in enumerate(x for x in spans if x["service"] == "pricing"):  # no fault: the list just grows
        items = ", ".join(f"Ticket(seat={k * 7 + i}, from=a, to=b)" for i in range(3 + k // 40))
        msg = f"sold tickets: [{items}]"
        logs.append(
            {"timestamp": r["start"], "service": "pricing", "level": "INFO", "message": msg, "trace_id": r["trace_id"]}
        )
    b = load_bundle(write_bundle(tmp_path / "b", traces=spans, logs=logs))
    pa = await sig.pattern_analysis(Investigation(incident=b.incident, sources=b.sources))
    assert pa is not None
    assert "pricing" not in pa.shifts or pa.shifts["pricing"].z <= pa.critical_z


# ------------------------------------------------------------------ units: one per operation and request


def _check_then_write(
    times: list[float], write_after: float | None, named_spans: bool = False, second_stamps: bool = False
) -> dict[str, Any]:
    """frontend -> orders "GET /check", then (from ``write_after`` on) also -> orders "POST /order",
    each logging its own line; ``named_spans``: the lines name their span; ``second_stamps``: log
    times cut to the second (the span order then only shows through the named spans)."""
    svc: list[int] = []
    name: list[str] = []
    start: list[float] = []
    end: list[float] = []
    parent: list[int] = []
    trace: list[str] = []
    links: list[tuple[str, str, str, float, int]] = []

    def span(k: int, service: int, op: str, at: float, length: float, up: int) -> int:
        svc.append(service)
        name.append(op)
        start.append(at)
        end.append(at + length)
        parent.append(up)
        trace.append(f"r{k}")
        return len(svc) - 1

    for k, t in enumerate(times):
        calls = [("GET /check", "T-checked")]
        if write_after is not None and t >= write_after:
            calls.append(("POST /order", "T-written"))
        root = span(k, 0, "GET /buy", t, 0.5, -1)
        for i, (op, line) in enumerate(calls):
            at = t + 0.1 + 0.2 * i
            called = span(k, 1, op, at, 0.1, root)
            stamp = float(int(at)) if second_stamps else at + 0.05
            links.append((f"r{k}", "orders", line, stamp, called if named_spans else -1))
    return _kwargs(["frontend", "orders"], svc, name, start, parent, trace, links, span_end=end)


def _orders_patterns(table: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for o, p, s in zip(table.op, table.pattern, table.service, strict=True):
        if s == 1:
            out.setdefault(table.operations[o][1], set()).add(table.patterns[p])
    return out


def test_a_service_entered_for_two_operations_in_one_request_gives_two_units_with_their_own_lines() -> None:
    table = build_units(**_check_then_write([0.3, 10.3], write_after=0.0))
    assert len(table) == 6  # 2 requests x (frontend, orders check, orders write)
    assert _orders_patterns(table) == {
        "GET /check": {"calls [-] logs [T-checked]"},
        "POST /order": {"calls [-] logs [T-written]"},
    }
    frontend = int(np.flatnonzero(table.service == 0)[0])
    assert sorted(table.operations[table.op[c]][1] for c in table.children[frontend]) == ["GET /check", "POST /order"]


def test_a_line_that_names_its_span_belongs_to_that_call_whatever_its_time_stamp() -> None:
    named = build_units(**_check_then_write([0.3, 10.3], 0.0, named_spans=True, second_stamps=True))
    assert _orders_patterns(named)["POST /order"] == {"calls [-] logs [T-written]"}
    # without the span, a time cut to the second is nearest the first call: the line lands there
    unnamed = build_units(**_check_then_write([0.3, 10.3], 0.0, second_stamps=True))
    assert _orders_patterns(unnamed)["POST /order"] == {"calls [-] logs [-]"}


def test_a_service_called_again_for_the_same_operation_is_one_unit_of_the_request() -> None:
    req = _check_then_write([0.3], None)
    req["span_service"].append(1), req["span_name"].append("GET /check"), req["span_start"].append(0.8)
    req["span_end"].append(0.9), req["span_parent"].append(0), req["span_trace"].append("r0")
    table = build_units(**req)
    assert len(table) == 2 and _orders_patterns(table) == {"GET /check": {"calls [-] logs [T-checked]"}}


def test_a_new_call_into_a_service_does_not_change_its_other_operations_patterns() -> None:
    # from 400 s on, users also place orders: a new operation of orders, not a new path of its check
    times = [float(t) for t in range(0, 600, 5)]
    table = build_units(**_check_then_write(times, write_after=400.0))
    pa = analyze_patterns(table, 400.0, None, 600.0)
    assert "orders" not in pa.shifts  # (frontend's calls did change)
    assert pa.shifts["frontend"].z > pa.critical_z


def test_a_cycle_of_parents_in_broken_data_ends_the_walk_to_the_entry() -> None:
    tops = entry_spans([0, 0, 0], [1, 2, 0])
    assert len(set(tops)) == 1 and tops[0] in (0, 1, 2)
    assert entry_spans([0, 1, 1], [-1, 0, 1]) == [0, 1, 1]


def test_text_after_a_list_is_not_part_of_the_statement() -> None:
    # the same statement, its list cut at an item boundary by a length limit, or complete and followed by text
    cut = statement_key("sold [" + "T(s=<*>, a=x), " * 5)
    whole = statement_key("sold [" + "T(s=<*>, a=x), " * 3 + "T(s=<*>, a=x)] total <*>")
    assert cut == whole and cut.startswith("sold [T(s=<*>,")
    assert statement_key("GET /a took <*> ms") == "GET /a took <*> ms"
