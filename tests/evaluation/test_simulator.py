"""The scenario simulator: valid bundles, determinism, every fault, and no easy quirks."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from day2ai.evaluation.simulator import SIM_FAULTS, Difficulty, make_spec, simulate, simulate_case, specs
from day2ai.models import Fault
from day2ai.sources.bundle import read_truth, validate_bundle

SMALL = {"n_components": 10, "window_minutes": 30, "log_lines": 600, "spans": 300}


def _rows(bundle: Path, stem: str) -> list[dict[str, Any]]:
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        p = bundle / name
        if p.is_file():
            opener = gzip.open if name.endswith(".gz") else open
            with opener(p, "rt", encoding="utf-8") as fh:
                return [json.loads(line) for line in fh]
    return []


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            if f.suffix == ".gz":
                data = gzip.decompress(data)
            h.update(f.name.encode() + data)
    return h.hexdigest()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31 - 1),
    index=st.integers(0, 200),
    n=st.integers(8, 16),
    minutes=st.integers(25, 50),
    difficulty=st.sampled_from(list(Difficulty)),
)
def test_every_bundle_validates(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    index: int,
    n: int,
    minutes: int,
    difficulty: Difficulty,
) -> None:
    spec = make_spec(
        seed, index, difficulty=difficulty, n_components=n, window_minutes=minutes, log_lines=400, spans=200
    )
    out = simulate_case(tmp_path_factory.mktemp("b") / "case", spec)
    assert validate_bundle(out) == []
    truth = read_truth(out)
    assert truth is not None and truth.root_cause.fault == spec.fault
    assert truth.remediation and all(1 <= len(w.split()) <= 2 for w in truth.remediation)


@pytest.mark.parametrize("fault", SIM_FAULTS, ids=lambda f: f.value)
def test_each_fault_word_is_injected(tmp_path: Path, fault: Fault) -> None:
    (out,) = simulate(tmp_path, 1, 11, fault=fault, difficulty=Difficulty.EASY, **SMALL)
    assert validate_bundle(out) == []
    truth = yaml.safe_load((out / "truth.yaml").read_text())
    root = truth["root_cause"]["service"]
    assert truth["root_cause"]["fault"] == fault.value
    named = {s["name"] for s in yaml.safe_load((out / "topology.yaml").read_text())["services"]}
    assert root in named


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", 2, 5, **SMALL)
    b = simulate(tmp_path / "b", 2, 5, **SMALL)
    c = simulate(tmp_path / "c", 2, 6, **SMALL)
    assert [_digest(p) for p in a] == [_digest(p) for p in b]
    assert [_digest(p) for p in a] != [_digest(p) for p in c]


def test_case_does_not_depend_on_suite_size() -> None:
    assert specs(3, 9)[2] == specs(8, 9)[2]


def test_dev_plan_covers_every_fault_several_times() -> None:
    plan = specs(60, 2026)
    counts = Counter(s.fault for s in plan)
    assert set(counts) == set(SIM_FAULTS)
    assert min(counts.values()) >= 4
    assert {s.difficulty for s in plan} == set(Difficulty)
    assert len({s.shape for s in plan}) >= 4


def test_bundles_vary_in_what_they_hold(tmp_path: Path) -> None:
    paths = simulate(tmp_path, 14, 3, scale=0.05, n_components=10, window_minutes=30)
    names = [{f.name for f in p.iterdir()} for p in paths]
    assert any("topology.yaml" not in n for n in names)
    assert any(any(x.endswith(".gz") for x in n) for n in names)
    assert any(not any(x.endswith(".gz") for x in n) for n in names)
    incidents = [yaml.safe_load((p / "incident.yaml").read_text()) for p in paths]
    assert any(i["symptom"]["service"] is None for i in incidents)
    steps = set()
    pod_only = []
    for p in paths:
        series = _rows(p, "metrics")
        values = series[0]["values"]
        steps.add(values[1][0] - values[0][0])
        pod_only.append(all("pod" in s["metric"] for s in series))
    assert steps == {15, 60}
    assert any(pod_only) and not all(pod_only)


def test_no_easy_quirks(tmp_path: Path) -> None:
    """The root is not the only service logging errors, the title does not name it (unless it
    is the symptom), its metric names are shared with other services, and it is not always the
    first or last service in any file."""
    paths = simulate(tmp_path, 13, 21, scale=0.1, n_components=14, window_minutes=40)
    first_is_root = 0
    for p in paths:
        truth = yaml.safe_load((p / "truth.yaml").read_text())
        inc = yaml.safe_load((p / "incident.yaml").read_text())
        root = truth["root_cause"]["service"]
        if inc["symptom"]["service"] != root:
            assert root not in inc["title"] and root not in inc["id"]
        error_services = {r["service"] for r in _rows(p, "logs") if str(r.get("level") or "").upper() == "ERROR"}
        assert error_services - {root}, "some other service logs errors too"
        by_service: dict[str, set[str]] = {}
        for s in _rows(p, "metrics"):
            by_service.setdefault(s["metric"]["service"], set()).add(s["metric"]["__name__"])
        if root in by_service:
            others = set().union(*(v for k, v in by_service.items() if k != root))
            assert by_service[root] <= others
            first_is_root += next(iter(by_service)) == root
    assert first_is_root < len(paths) / 2


def test_fault_signatures(tmp_path: Path) -> None:
    """A few signatures the issue names, checked on easy cases."""
    (crash,) = simulate(tmp_path / "c", 1, 4, fault=Fault.SERVICE_CRASH, difficulty=Difficulty.EASY, **SMALL)
    root = yaml.safe_load((crash / "truth.yaml").read_text())["root_cause"]["service"]
    restarts = [
        s
        for s in _rows(crash, "metrics")
        if s["metric"]["__name__"] == "restarts_total" and s["metric"]["service"] == root
    ]
    assert any(float(s["values"][-1][1]) > float(s["values"][0][1]) for s in restarts)
    assert any("refused" in str(r["message"]) and r["service"] != root for r in _rows(crash, "logs"))

    (disk,) = simulate(tmp_path / "d", 1, 4, fault=Fault.DISK_FULL, difficulty=Difficulty.EASY, **SMALL)
    root = yaml.safe_load((disk / "truth.yaml").read_text())["root_cause"]["service"]
    usage = [
        float(v[1])
        for s in _rows(disk, "metrics")
        if s["metric"]["__name__"] == "disk_usage_ratio" and s["metric"]["service"] == root
        for v in s["values"]
    ]
    assert max(usage) > 0.98
    assert any("no space left on device" in str(r["message"]).lower() for r in _rows(disk, "logs"))

    (dep,) = simulate(tmp_path / "e", 1, 8, fault=Fault.DEPENDENCY_FAILURE, difficulty=Difficulty.EASY, **SMALL)
    root = yaml.safe_load((dep / "truth.yaml").read_text())["root_cause"]["service"]
    spans = _rows(dep, "traces")
    assert not any(s["service"] == root for s in spans), "dependencies have no spans of their own"
    assert any(s["attributes"].get("net.peer.name") == root for s in spans)


def test_cli_simulate(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from day2ai.cli.simulate import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep a multi-command app so "simulate" is a sub-command
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "simulate",
            "--out",
            str(tmp_path / "s"),
            "--cases",
            "2",
            "--seed",
            "3",
            "--services",
            "8",
            "--minutes",
            "25",
            "--log-lines",
            "300",
            "--spans",
            "100",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["case-0000", "case-0001"]
    bad = runner.invoke(app, ["simulate", "--out", str(tmp_path / "x"), "--cases", "1", "--fault", "other"])
    assert bad.exit_code == 2


# -- follow-ups: trace-linked logs, streamed writing, counts, config timeouts, fidelity ----------------


def _level(r: dict[str, Any]) -> str:
    return str(r.get("level") or "").upper()


def _spec(seed: int, index: int, **kw: Any) -> Any:
    """A spec with traces, trace ids in logs and span status forced on (the rest as drawn)."""
    shape = kw.pop("shape", {})
    decoys = kw.pop("decoys", None)
    spec = make_spec(seed, index, **kw)
    bundle = spec.bundle.model_copy(
        update={"traces": True, "log_trace_ids": True, "span_status": True, "changes": True, **shape}
    )
    update: dict[str, Any] = {"bundle": bundle}
    if decoys is not None:
        update["decoys"] = decoys
    return spec.model_copy(update=update)


def test_log_trace_ids_link_to_the_spans_of_their_request(tmp_path: Path) -> None:
    from day2ai.timeutil import parse_timestamp

    linked_total = 0
    for i, fault in enumerate((Fault.CODE_ERROR, Fault.SERVICE_CRASH, Fault.CONNECTION_POOL_EXHAUSTION)):
        spec = _spec(
            12,
            i,
            fault=fault,
            difficulty=Difficulty.EASY,
            n_components=12,
            window_minutes=30,
            log_lines=4000,
            spans=3000,
        )
        out = simulate_case(tmp_path / str(i), spec)
        spans: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for s in _rows(out, "traces"):
            spans.setdefault((s["trace_id"], s["service"]), []).append(s)
        trace_ids = {t for t, _ in spans}
        logs = [r for r in _rows(out, "logs") if r.get("trace_id")]
        linked = [r for r in logs if r["trace_id"] in trace_ids]
        assert 0.005 < len(linked) / len(logs) < 0.5, "a realistic share of lines links to a kept trace"
        for r in linked:
            own = spans.get((r["trace_id"], r["service"]))
            assert own, "a linked line's service served that trace"
            t = parse_timestamp(r["timestamp"])
            lo = min(s["start"] for s in own)
            hi = max(s["start"] + s["duration_ms"] / 1000 for s in own)
            assert lo - 0.002 <= t <= hi + 0.002, "the line falls inside the request's span"
            if _level(r) == "ERROR":
                assert any(s.get("status") == "error" for s in own), "error lines link to failed requests"
        linked_total += sum(_level(r) == "ERROR" for r in linked)
    assert linked_total > 0


def test_no_trace_links_without_traces(tmp_path: Path) -> None:
    spec = _spec(
        12,
        0,
        fault=Fault.CODE_ERROR,
        n_components=10,
        window_minutes=30,
        log_lines=1500,
        spans=800,
        shape={"traces": False},
    )
    out = simulate_case(tmp_path / "c", spec)
    assert not (out / "traces.jsonl").exists() and not (out / "traces.jsonl.gz").exists()
    ids = [r["trace_id"] for r in _rows(out, "logs") if r.get("trace_id")]
    assert ids and len(set(ids)) > 0.95 * len(ids), "unsampled requests: ids do not repeat"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_land_near_the_request(tmp_path: Path, seed: int) -> None:
    spec = _spec(seed, seed, n_components=14, window_minutes=40, log_lines=8000, spans=4000)
    out = simulate_case(tmp_path / "c", spec)
    n_logs = len(_rows(out, "logs"))
    n_spans = len(_rows(out, "traces"))
    assert abs(n_logs / 8000 - 1) < 0.05  # Poisson noise alone is ~1.1 %
    assert abs(n_spans / 4000 - 1) < 0.02  # whole traces are dropped down to the target


def test_streamed_write_is_sorted_deterministic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    from day2ai.timeutil import parse_timestamp

    spec = _spec(4, 2, n_components=16, window_minutes=40, log_lines=15000, spans=6000)
    a = simulate_case(tmp_path / "a", spec)
    b = simulate_case(
        tmp_path / "b",
        spec.model_copy(update={"bundle": spec.bundle.model_copy(update={"gzip": ("logs", "traces")})}),
    )
    assert sorted(p.name for p in a.iterdir() if p.name.startswith(".")) == []
    assert _rows(a, "logs") == _rows(b, "logs") and _rows(a, "traces") == _rows(b, "traces")
    times = [parse_timestamp(r["timestamp"]) for r in _rows(a, "logs")]
    assert all(x <= y for x, y in itertools.pairwise(times))
    starts = [s["start"] for s in _rows(a, "traces")]
    assert all(x <= y for x, y in itertools.pairwise(starts))
    assert len({s["span_id"] for s in _rows(a, "traces")}) == len(starts)


def test_config_error_timeout_set_too_low(tmp_path: Path) -> None:
    for i in range(30):
        spec = _spec(
            5,
            i,
            fault=Fault.CONFIG_ERROR,
            difficulty=Difficulty.EASY,
            n_components=12,
            window_minutes=40,
            log_lines=3000,
            spans=1000,
            decoys=(),
        )
        out = simulate_case(tmp_path / str(i), spec)
        truth = yaml.safe_load((out / "truth.yaml").read_text())["root_cause"]
        if "client timeout" in truth["detail"]:
            break
    else:
        pytest.fail("no timeout-too-low variant in 30 config_error cases")
    root = truth["service"]
    dst = truth["detail"].split(" client timeout")[0].split("lowered the ")[1]
    assert dst != root
    changes = _rows(out, "changes")
    assert any(c["service"] == root and c["kind"] == "config" for c in changes)
    logs = _rows(out, "logs")
    words = ("timeout", "timed out", "deadline")
    timeouts = [
        r
        for r in logs
        if r["service"] == root and _level(r) == "ERROR" and any(w in r["message"].lower() for w in words)
    ]
    assert timeouts, "the client logs timeouts of its calls to the (healthy) dependency"
    assert not any(r["service"] == dst and _level(r) == "ERROR" and "timeout" in r["message"].lower() for r in logs)


def test_memory_leak_root_warns_of_gc_pressure_before_oom(tmp_path: Path) -> None:
    from day2ai.timeutil import parse_timestamp

    spec = _spec(
        6,
        0,
        fault=Fault.MEMORY_LEAK,
        difficulty=Difficulty.EASY,
        n_components=10,
        window_minutes=45,
        log_lines=5000,
        spans=500,
        decoys=(),
    )
    out = simulate_case(tmp_path / "m", spec)
    root = yaml.safe_load((out / "truth.yaml").read_text())["root_cause"]["service"]
    logs = [r for r in _rows(out, "logs") if r["service"] == root]
    words = ("gc", "heap", "memory")
    warns = [
        parse_timestamp(r["timestamp"])
        for r in logs
        if _level(r) == "WARN" and any(w in r["message"].lower() for w in words)
    ]
    ooms = [parse_timestamp(r["timestamp"]) for r in logs if "OOMKilled" in r["message"]]
    assert warns and ooms and min(warns) < min(ooms)


def test_network_delay_callers_name_the_peer(tmp_path: Path) -> None:
    named = 0
    for i in range(3):
        spec = _spec(
            8,
            i,
            fault=Fault.NETWORK_DELAY,
            difficulty=Difficulty.EASY,
            n_components=12,
            window_minutes=40,
            log_lines=6000,
            spans=500,
            decoys=(),
        )
        out = simulate_case(tmp_path / str(i), spec)
        root = yaml.safe_load((out / "truth.yaml").read_text())["root_cause"]["service"]
        named += any(
            r["service"] != root and root in r["message"] and _level(r) in ("WARN", "ERROR") for r in _rows(out, "logs")
        )
    assert named >= 2


def test_loud_victims_vary_in_loudness(tmp_path: Path) -> None:
    ratios = []
    for i in range(6):
        spec = _spec(
            9,
            i,
            fault=Fault.CODE_ERROR,
            difficulty=Difficulty.EASY,
            n_components=14,
            window_minutes=40,
            log_lines=6000,
            spans=300,
            decoys=("loud_victim",),
        )
        out = simulate_case(tmp_path / str(i), spec)
        root = yaml.safe_load((out / "truth.yaml").read_text())["root_cause"]["service"]
        errors = Counter(r["service"] for r in _rows(out, "logs") if _level(r) == "ERROR")
        if errors[root]:
            loudest = max(v for k, v in errors.items() if k != root)
            ratios.append(loudest / errors[root])
    assert len(ratios) >= 4
    assert max(ratios) < 60 and min(ratios) < 10


@pytest.mark.slow
def test_writing_streams_memory_does_not_grow_with_the_bundle(tmp_path: Path) -> None:
    """Peak Python allocations while writing 4x more lines and spans grow far less than the output."""
    import tracemalloc

    def run(lines: int, spans: int, name: str) -> tuple[int, int]:
        spec = _spec(3, 1, n_components=14, window_minutes=40, log_lines=lines, spans=spans, shape={"gzip": ()})
        tracemalloc.start()
        out = simulate_case(tmp_path / name, spec)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, sum(f.stat().st_size for f in out.iterdir() if f.suffix == ".jsonl")

    run(300, 100, "warm")  # first-call caches (imports, numpy) are not the bundle's
    small_peak, small_size = run(4000, 2000, "small")
    big_peak, big_size = run(16000, 8000, "big")
    assert big_size > 3 * small_size
    assert big_peak - small_peak < 0.25 * (big_size - small_size)


def test_gzip_output_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    import time

    spec = _spec(9, 1, n_components=10, window_minutes=30, log_lines=2000, spans=800, shape={"gzip": ("logs",)})
    a = simulate_case(tmp_path / "a", spec)
    time.sleep(1.1)  # gzip headers carry a modification time unless it is pinned
    b = simulate_case(tmp_path / "b", spec)
    packed = sorted(p.name for p in a.iterdir() if p.suffix == ".gz")
    assert packed
    for name in packed:
        assert (a / name).read_bytes() == (b / name).read_bytes()
