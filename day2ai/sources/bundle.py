"""Incident bundles (shared/spec/incident-bundle.md) as a source of telemetry.

``load_bundle`` reads ``incident.yaml`` and ``topology.yaml`` eagerly and streams the
``.jsonl``/``.jsonl.gz`` files lazily, validating as it goes: a broken line raises one
:class:`~day2ai.errors.BundleError` naming file, line and field. ``validate_bundle`` reads every
file to the end and collects problems. Nothing here ever opens ``truth.yaml`` except
:func:`read_truth`, which the evaluation harness calls after an investigation.
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from day2ai.errors import BundleError
from day2ai.models import ChangeKind, Incident, Topology, Truth
from day2ai.sources.base import (
    Change,
    ChangeQuery,
    LogQuery,
    LogRecord,
    MetricQuery,
    MetricSeries,
    Sources,
    Span,
    SpanQuery,
    log_matches,
    normalize_level,
    span_matches,
)
from day2ai.timeutil import parse_timestamp

JSONL_FILES = ("metrics", "logs", "traces", "changes")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# ---------------------------------------------------------------- YAML files


def _yaml_line(node: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
            if not match:
                break
            key_node, node = match[0]
            line = key_node.start_mark.line + 1
            continue
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise BundleError(str(path), f"cannot read: {exc.strerror}") from None


def read_yaml_model(path: Path, model: type[M]) -> M:
    """Parse a YAML file into ``model``; errors name file, line and field."""
    text = _read_text(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BundleError(str(path), f"invalid YAML: {getattr(exc, 'problem', exc)}",
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise BundleError(str(path), "expected a mapping at the top level", line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        raise BundleError(str(path), err["msg"], line=_yaml_line(node, loc),
                          field=".".join(str(p) for p in loc) or None) from None


# ---------------------------------------------------------------- JSONL files


def _open_lines(path: Path) -> Iterator[bytes]:
    """The file's lines (without newlines), read in 1 MiB blocks: cheaper than line-by-line reads,
    especially through gzip."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as fh:
            partial: list[bytes] = []  # pieces of a line that spans blocks (no quadratic joins)
            while block := fh.read(1 << 20):
                if b"\n" not in block:
                    partial.append(block)
                    continue
                lines = block.split(b"\n")
                if partial:
                    lines[0] = b"".join([*partial, lines[0]])
                partial = [lines.pop()]
                yield from lines
            if tail := b"".join(partial):
                yield tail
    except (OSError, EOFError, zlib.error) as exc:
        raise BundleError(str(path), f"cannot read (corrupt or truncated gzip?): {exc}") from None


def _iter_jsonl(path: Path, parse: Callable[[dict[str, Any]], T]) -> Iterator[T]:
    """Yield ``parse(obj)`` for each non-blank line; a bad line raises BundleError with its number."""
    for lineno, raw in enumerate(_open_lines(path), start=1):
        if not raw.strip():
            continue
        try:
            raw.decode("utf-8")
            obj = orjson.loads(raw)
        except UnicodeDecodeError as exc:
            raise BundleError(str(path), f"not UTF-8 text (byte {exc.start})", line=lineno) from None
        except orjson.JSONDecodeError as exc:
            raise BundleError(str(path), f"invalid JSON: {exc}", line=lineno) from None
        if not isinstance(obj, dict):
            raise BundleError(str(path), "expected a JSON object", line=lineno)
        try:
            yield parse(obj)
        except _FieldError as exc:
            raise BundleError(str(path), exc.problem, line=lineno, field=exc.field) from None


class _FieldError(Exception):
    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem


def _req(obj: dict[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise _FieldError(key, "required field is missing")
    return value


def _opt_text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _FieldError(key, f"expected a string, got {type(value).__name__}")
    return str(value)


def _text(obj: dict[str, Any], key: str) -> str:
    value = _opt_text(obj, key)
    if value is None:
        raise _FieldError(key, "required field is missing")
    return value


def _time(obj: dict[str, Any], key: str) -> float:
    try:
        return parse_timestamp(_req(obj, key))
    except ValueError as exc:
        raise _FieldError(key, str(exc)) from None


def _number(obj: dict[str, Any], key: str) -> float:
    value = _req(obj, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _FieldError(key, f"expected a number, got {type(value).__name__}")
    return float(value)


def _attrs(obj: dict[str, Any], key: str = "attributes") -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _FieldError(key, "expected an object")
    return value


_M = TypeVar("_M", bound=BaseModel)
_LOG_FIELDS = frozenset(LogRecord.model_fields)
_SPAN_FIELDS = frozenset(Span.model_fields)


def _checked(cls: type[_M], fields: dict[str, Any], names: frozenset[str]) -> _M:
    """``cls.model_construct(**fields)`` without its per-call work, for the hot bundle readers: every
    field is present and already checked here (a test pins equality with model_construct)."""
    obj = cls.__new__(cls)
    setattr_ = object.__setattr__
    setattr_(obj, "__dict__", fields)
    setattr_(obj, "__pydantic_fields_set__", set(names))
    setattr_(obj, "__pydantic_extra__", None)
    setattr_(obj, "__pydantic_private__", None)
    return obj


def parse_log(obj: dict[str, Any]) -> LogRecord:
    service, message = obj.get("service"), obj.get("message")
    trace_id, attributes = obj.get("trace_id"), obj.get("attributes")
    if not (type(service) is str and type(message) is str and service and message):
        service, message = _text(obj, "service"), _text(obj, "message")
    if trace_id is not None and type(trace_id) is not str:
        trace_id = _opt_text(obj, "trace_id")
    if attributes is None or type(attributes) is not dict:
        attributes = _attrs(obj)
    return _checked(
        LogRecord,
        {
            "timestamp": _time(obj, "timestamp"),
            "service": service,
            "message": message,
            "level": normalize_level(obj.get("level")),
            "trace_id": trace_id,
            "attributes": attributes,
        },
        _LOG_FIELDS,
    )


_STATUS: dict[str, Literal["ok", "error"] | None] = {
    "ok": "ok", "error": "error", "unset": None, "": None,
    "status_code_ok": "ok", "status_code_error": "error", "status_code_unset": None}


def parse_span(obj: dict[str, Any]) -> Span:
    status_raw = obj.get("status")
    status: Literal["ok", "error"] | None = None
    if status_raw is not None:
        if not isinstance(status_raw, str) or status_raw.lower() not in _STATUS:
            raise _FieldError("status", f"expected ok, error or null, got {status_raw!r}")
        status = _STATUS[status_raw.lower()]
    duration = _number(obj, "duration_ms")
    if duration < 0 or math.isnan(duration):
        raise _FieldError("duration_ms", "must be a non-negative number")
    return Span.model_construct(
        trace_id=_text(obj, "trace_id"), span_id=_text(obj, "span_id"), service=_text(obj, "service"),
        name=_text(obj, "name"), start=_time(obj, "start"), duration_ms=duration,
        parent_span_id=_opt_text(obj, "parent_span_id"), status=status,
        attributes=_attrs(obj))


def parse_change(obj: dict[str, Any]) -> Change:
    kind = _text(obj, "kind")
    try:
        kind_enum = ChangeKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ChangeKind)
        raise _FieldError("kind", f"unknown change kind {kind!r} (one of {allowed})") from None
    return Change.model_construct(
        timestamp=_time(obj, "timestamp"), service=_text(obj, "service"), kind=kind_enum,
        summary=_text(obj, "summary"), version=_opt_text(obj, "version"),
        previous_version=_opt_text(obj, "previous_version"),
        author=_opt_text(obj, "author"))


def parse_series(obj: dict[str, Any]) -> MetricSeries:
    metric = _req(obj, "metric")
    if not isinstance(metric, dict):
        raise _FieldError("metric", "expected an object of labels")
    name = _opt_text(metric, "__name__")
    if name is None:
        raise _FieldError("metric.__name__", "required field is missing")
    if metric.get("service") is None:
        raise _FieldError("metric.service", "required field is missing")
    values = _req(obj, "values")
    if not isinstance(values, list):
        raise _FieldError("values", "expected a list of [time, value] pairs")
    ts: list[float] = []
    vs: list[float] = []
    for i, pair in enumerate(values):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _FieldError(f"values[{i}]", "expected a [time, value] pair")
        try:
            t = parse_timestamp(pair[0])
        except ValueError as exc:
            raise _FieldError(f"values[{i}][0]", str(exc)) from None
        if ts and t <= ts[-1]:
            raise _FieldError(f"values[{i}][0]", "values are not in time order")
        v = pair[1]
        try:
            num = float(v) if isinstance(v, str) or (isinstance(v, int | float) and not isinstance(v, bool)) \
                else None
        except ValueError:
            num = None
        if num is None:
            raise _FieldError(f"values[{i}][1]", f"not a number: {str(v)[:30]!r}")
        ts.append(t)
        vs.append(num)
    labels = {str(k): str(v) for k, v in metric.items() if k != "__name__"}
    return MetricSeries.model_construct(name=name, service=labels["service"], labels=labels,
                                        timestamps=ts, values=vs)


# ---------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class Bundle:
    """An incident bundle on disk. ``sources`` is what an investigator may read."""

    path: Path
    incident: Incident
    topology: Topology | None
    files: dict[str, Path]

    @property
    def sources(self) -> Sources:
        src = _BundleSource(self)
        have = set(self.files)
        return Sources(
            metrics=src if "metrics" in have else None,
            logs=src if "logs" in have else None,
            traces=src if "traces" in have else None,
            changes=src if "changes" in have else None,
            topology=src if self.topology is not None else None,
            names={k: "bundle" for k in have},
        )

    def iter_file(self, kind: str) -> Iterator[Any]:
        """Stream one of the JSONL files as records (empty if absent)."""
        path = self.files.get(kind)
        if path is None:
            return iter(())
        return _iter_jsonl(path, _PARSERS[kind])


_PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "metrics": parse_series, "logs": parse_log, "traces": parse_span, "changes": parse_change}


class _BundleSource:
    """Implements every source Protocol over one bundle, filtering client-side."""

    def __init__(self, bundle: Bundle):
        self._bundle = bundle

    async def series(self, query: MetricQuery) -> AsyncIterator[MetricSeries]:
        for s in self._bundle.iter_file("metrics"):
            if query.services is not None and s.service not in query.services:
                continue
            if query.names is not None and s.name not in query.names:
                continue
            if any(s.labels.get(k) != v for k, v in query.labels.items()):
                continue
            if query.start is not None or query.end is not None:
                keep = [i for i, t in enumerate(s.timestamps) if query.contains(t)]
                if not keep:
                    continue
                s = MetricSeries.model_construct(name=s.name, service=s.service, labels=s.labels,
                                                 timestamps=[s.timestamps[i] for i in keep],
                                                 values=[s.values[i] for i in keep])
            yield s

    async def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]:
        n = 0
        for rec in self._bundle.iter_file("logs"):
            if log_matches(rec, query):
                yield rec
                n += 1
                if query.limit is not None and n >= query.limit:
                    return

    async def spans(self, query: SpanQuery) -> AsyncIterator[Span]:
        n = 0
        for span in self._bundle.iter_file("traces"):
            if span_matches(span, query):
                yield span
                n += 1
                if query.limit is not None and n >= query.limit:
                    return

    async def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        for ch in self._bundle.iter_file("changes"):
            if not query.contains(ch.timestamp):
                continue
            if query.services is not None and ch.service not in query.services:
                continue
            if query.kinds is not None and ch.kind not in query.kinds:
                continue
            yield ch

    async def topology(self) -> Topology | None:
        return self._bundle.topology


def _find(path: Path, stem: str) -> Path | None:
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        if (path / name).is_file():
            return path / name
    return None


def load_bundle(path: str | Path) -> Bundle:
    """Open a bundle: reads incident.yaml and topology.yaml now, the JSONL files when asked."""
    root = Path(path)
    if not root.is_dir():
        raise BundleError(str(root), "not a bundle directory")
    if not (root / "incident.yaml").is_file():
        raise BundleError(str(root / "incident.yaml"), "missing: every bundle needs one")
    incident = read_yaml_model(root / "incident.yaml", Incident)
    topo_path = root / "topology.yaml"
    topology = read_yaml_model(topo_path, Topology) if topo_path.is_file() else None
    files = {k: p for k in JSONL_FILES if (p := _find(root, k)) is not None}
    return Bundle(path=root, incident=incident, topology=topology, files=files)


def validate_bundle(path: str | Path, max_problems: int = 20) -> list[BundleError]:
    """Read every file of a bundle to its end; return the problems found (empty if valid).

    One problem per file at most for the JSONL files (the first broken line), since later
    lines of a broken file are rarely informative.
    """
    problems: list[BundleError] = []
    try:
        bundle = load_bundle(path)
    except BundleError as exc:
        return [exc]
    for kind in bundle.files:
        try:
            for _ in bundle.iter_file(kind):
                pass
        except BundleError as exc:
            problems.append(exc)
    truth = Path(path) / "truth.yaml"
    if truth.is_file():
        try:
            read_truth(Path(path))
        except BundleError as exc:
            problems.append(exc)
    return problems[:max_problems]


def read_truth(path: str | Path) -> Truth | None:
    """The evaluation label of a bundle. Only the evaluation harness calls this."""
    p = Path(path) / "truth.yaml"
    return read_yaml_model(p, Truth) if p.is_file() else None
