"""Derive a dynamically quantized (int8 MatMul) copy of the packaged MiniLM graph, once, into a cache.

The packaged ``model.onnx`` stores its weights as int8 but dequantizes them inside the graph, so
onnxruntime folds them back to float32 and every MatMul runs in float32. Dynamic quantization
(``onnxruntime.quantization.quantize_dynamic``, per-channel int8 weights, activations quantized per
batch) runs the MatMuls as integer GEMMs instead, about twice as fast on x86 CPUs with VNNI
(BENCHMARKS.md, "Knowledge base"). Nothing is downloaded: the copy is derived from the packaged file
on first use and kept under the user cache (``DAY2AI_CACHE_DIR``, else ``$XDG_CACHE_HOME/day2ai``,
else ``~/.cache/day2ai``), keyed by the source file's hash, the onnxruntime version and this
recipe. Deriving needs the ``onnx`` package; using an existing copy does not.

Each derived copy is checked before it is kept: it must agree with the original graph on a few
probe sentences (cosine >= ``MIN_AGREEMENT``), else a reduced-range variant (7-bit weights, which
avoids int16 saturation on CPUs without VNNI) is tried, else KnowledgeError.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from day2ai.errors import KnowledgeError

log = logging.getLogger(__name__)

RECIPE = "dq1"  # bump when the derivation below changes, so old cached copies are not reused
MIN_AGREEMENT = 0.95
# cosine of the derived model's vectors to the original's, lowest over the probe sentences
Agreement = Callable[[Path], float]


def cache_dir() -> Path:
    """Where derived models are kept (created on demand)."""
    configured = os.environ.get("DAY2AI_CACHE_DIR")
    if configured:
        return Path(configured) / "models"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "day2ai" / "models"


def can_derive() -> bool:
    """True when the packages needed to derive a quantized copy are importable."""
    return importlib.util.find_spec("onnx") is not None and importlib.util.find_spec("onnxruntime") is not None


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_path(source: Path, directory: Path | None = None) -> Path:
    """The cache file a quantized copy of ``source`` is (or would be) kept in."""
    import onnxruntime as ort

    key = hashlib.sha256(f"{_file_digest(source)}:{ort.__version__}:{RECIPE}".encode()).hexdigest()[:16]
    return (directory or cache_dir()) / f"{source.stem}-qint8-{key}.onnx"


def _from_quantization_tool(record: logging.LogRecord) -> bool:
    """False for the quantization tool's advice, which it logs on the root logger (kept off stderr)."""
    return f"onnxruntime{os.sep}quantization" not in record.pathname


def _derive(source: Path, target: Path, reduce_range: bool) -> None:
    """Fold the in-graph dequantization to float32 (onnxruntime, basic level), then quantize dynamically."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folded = target.with_name(target.name + ".fp32")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level  # the tool calls logging.basicConfig: undo it
    root.addFilter(_from_quantization_tool)
    try:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
        quantize_dynamic(
            folded,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=reduce_range,
        )
    finally:
        root.removeFilter(_from_quantization_tool)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
        folded.unlink(missing_ok=True)


_LOCK = threading.Lock()


def quantized_model(source: Path, agreement: Agreement, directory: Path | None = None) -> Path:
    """A checked, dynamically quantized copy of ``source`` from the cache, derived on first use."""
    with _LOCK:
        target = cached_path(source, directory)
        if target.is_file():
            return target
        if not can_derive():
            raise KnowledgeError(
                "deriving the quantized embedding model needs the 'onnx' package (pip install 'day2ai[kb]'); "
                "DAY2AI_EMBEDDING_QUANTIZE=0 builds new indexes with the packaged graph instead"
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KnowledgeError(f"cannot create the model cache {target.parent}: {exc}") from exc
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        worst = 0.0
        try:
            for reduce_range in (False, True):
                try:
                    _derive(source, tmp, reduce_range)
                except Exception as exc:
                    raise KnowledgeError(f"cannot load the embedding model {source} to quantize it: {exc}") from exc
                worst = agreement(tmp)
                if worst >= MIN_AGREEMENT:
                    tmp.replace(target)  # atomic: concurrent processes never see half a file
                    log.info("derived %s (agreement %.4f, reduce_range=%s)", target, worst, reduce_range)
                    return target
        finally:
            tmp.unlink(missing_ok=True)
        raise KnowledgeError(
            f"the quantized embedding model disagrees with {source} (cosine {worst:.3f} < {MIN_AGREEMENT}) "
            "on this CPU; set DAY2AI_EMBEDDING_QUANTIZE=0 to use the packaged graph"
        )
