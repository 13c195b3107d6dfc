from __future__ import annotations

import numpy as np
import pytest

from day2ai.errors import KnowledgeError
from day2ai.knowledge.embeddings import HashingEmbedder, default_embedder, embedder_named, minilm_files


def _cos(m: np.ndarray, i: int, j: int) -> float:
    return float(m[i] @ m[j])


def test_hashing_embedding_is_normalised_deterministic_and_lexically_sensible() -> None:
    emb = HashingEmbedder(512)
    texts = [
        "database connection pool exhausted",
        "the connection pool of the database is exhausted",
        "certificate expired on the gateway",
        "",
    ]
    m = emb.embed(texts)
    assert m.shape == (4, 512) and m.dtype == np.float32
    assert np.allclose(np.linalg.norm(m[:3], axis=1), 1.0, atol=1e-5)
    assert not m[3].any()
    assert np.array_equal(m, emb.embed(texts))
    assert _cos(m, 0, 1) > _cos(m, 0, 2)
    assert emb.name == "hashing-v1-512"


def test_minilm_paraphrases_are_closer_than_unrelated_texts(minilm) -> None:  # type: ignore[no-untyped-def]
    texts = [
        "The database connection pool is exhausted",
        "All connections to postgres are in use and requests wait for a free connection",
        "How to bake a chocolate cake",
        "TLS certificate expired",
        "x509: certificate has expired or is not yet valid",
    ]
    m = minilm.embed(texts)
    assert m.shape == (5, 384)
    assert np.allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-4)
    assert _cos(m, 0, 1) > _cos(m, 0, 2) + 0.2
    assert _cos(m, 3, 4) > _cos(m, 3, 2) + 0.2
    # order and batching do not change vectors
    again = minilm.embed(list(reversed(texts)))[::-1]
    assert np.allclose(m, again, atol=1e-4)
    assert minilm.embed([]).shape == (0, 384)


def test_embedder_named_round_trips() -> None:
    assert embedder_named("hashing-v1-128").dim == 128
    with pytest.raises(KnowledgeError, match="unknown embedding"):
        embedder_named("word2vec")


def test_missing_model_falls_back_to_hashing(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DAY2AI_EMBEDDING_MODEL", str(tmp_path / "absent.onnx"))
    assert minilm_files() is None
    assert default_embedder().name.startswith("hashing-v1")
    with pytest.raises(KnowledgeError, match="not installed"):
        default_embedder("minilm")


def test_broken_model_file_is_a_knowledge_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = minilm_files()
    if files is None:
        pytest.skip("the packaged MiniLM model is not installed")
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    monkeypatch.setenv("DAY2AI_EMBEDDING_MODEL", str(bad))
    with pytest.raises(KnowledgeError, match="cannot load the embedding model"):
        default_embedder("minilm").embed(["x"])
