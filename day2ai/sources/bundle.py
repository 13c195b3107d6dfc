"""Incident bundles (shared/spec/incident-bundle.md) as a source of telemetry.

``load_bundle`` reads ``incident.yaml`` and ``topology.yaml`` eagerly and streams the
``.jsonl``/``.jsonl.gz`` files lazily, validating as it goes: a broken line raises one
:class:`~day2ai.errors.BundleError` naming file, line and field. ``validate_bundle`` reads every
file to the end and collects problems. Nothing here ever opens ``truth.yaml`` except
:func:`read_truth`, which the evaluation harness calls after an investigation.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from day2ai.errors import BundleError
from day2ai.models import ChangeKind, Gap, Incident, Report, Topology, Truth
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
from day2ai.sources.bundle_read import (
    DEFAULT_LIMITS,
    BundleLimits,
    DataProblems,
    Oversize,
    cut_text,
    open_lines,
)
from day2ai.timeutil import parse_timestamp
from day2ai.yamlsafe import MAX_BYTES as MAX_YAML_BYTES
from day2ai.yamlsafe import load_with_node

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
        with open(path, "rb") as fh:
            data = fh.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            raise BundleError(str(path), f"larger than the limit of {MAX_YAML_BYTES} bytes for a YAML file")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise BundleError(str(path), f"cannot read: {exc.strerror}") from None


def read_yaml_model(path: Path, model: type[M]) -> M:
    """Parse a YAML file into ``model``; errors name file, line and field."""
    text = _read_text(path).removeprefix("\ufeff")
    try:
        data, node = load_with_node(text)
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
    """The file's lines (without newlines); raises BundleError on a read problem (for tests/tools)."""
    for line in open_lines(path):
        yield line if isinstance(line, bytes) else b""


def _iter_jsonl(path: Path, parse: Callable[[dict[str, Any]], T], limits: BundleLimits = DEFAULT_LIMITS,
                problems: DataProblems | None = None) -> Iterator[T]:
    """Yield ``parse(obj)`` for each good non-blank line, within ``limits``.

    A bad line is skipped and recorded in ``problems`` (file, line, field); the lines after it are
    read as usual. Without ``problems``, the first bad line raises BundleError.
    """
    sink = problems if problems is not None else _Raise()
    records = 0
    for lineno, raw in enumerate(open_lines(path, limits, problems), start=1):
        if isinstance(raw, Oversize):
            sink.add(BundleError(str(path), f"line of {raw.size} bytes exceeds the limit of "
                                 f"{limits.max_line_bytes} bytes (max_line_bytes); skipped", line=lineno))
            continue
        if not raw.strip():
            continue
        try:
            obj = _decode(raw)
            if len(raw) > limits.max_text_chars:
                _cut_long_text(obj, limits.max_text_chars, problems, path, lineno)
            yield parse(obj)
        except _FieldError as exc:
            sink.add(BundleError(str(path), exc.problem, line=lineno, field=exc.field))
            continue
        records += 1
        if records >= limits.max_records:
            sink.add(BundleError(str(path), f"stopped after {limits.max_records} records (limit max_records); "
                                 "the rest of the file was not read"))
            return


def _cut_long_text(obj: dict[str, Any], limit: int, problems: DataProblems | None, path: Path,
                   lineno: int) -> None:
    """Cut top-level text fields longer than ``limit`` characters (marked in the text and noted)."""
    for key, value in obj.items():
        if isinstance(value, str) and len(value) > limit:
            obj[key] = cut_text(value, limit)
            if problems is not None:
                problems.note(BundleError(str(path), f"text of {len(value)} chars cut to {limit} "
                                          "(limit max_text_chars)", line=lineno, field=str(key)))


class _Raise:
    def add(self, err: BundleError) -> None:
        raise err


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        raw.decode("utf-8")
        obj = orjson.loads(raw)
    except UnicodeDecodeError as exc:
        raise _FieldError(None, f"not UTF-8 text (byte {exc.start})") from None
    except orjson.JSONDecodeError as exc:
        raise _FieldError(None, f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise _FieldError(None, "expected a JSON object")
    return obj


class _FieldError(Exception):
    def __init__(self, field: str | None, problem: str):
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
    if not 0 <= duration < math.inf:
        raise _FieldError("duration_ms", "must be a non-negative finite number")
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
    limits: BundleLimits = DEFAULT_LIMITS
    problems: DataProblems = field(default_factory=DataProblems, compare=False)

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
        return _iter_jsonl(path, _PARSERS[kind], self.limits, self.problems)

    def data_gaps(self) -> list[Gap]:
        """The data problems met so far (skipped lines, limits hit, files refused), as report gaps."""
        return self.problems.gaps()

    def with_data_gaps(self, report: Report) -> Report:
        """``report`` with :meth:`data_gaps` added to its gaps (call it after the investigation)."""
        for gap in self.data_gaps():
            if gap not in report.gaps:
                report.gaps.append(gap)
        return report

    # pandas views for notebooks (day2ai.frames; pandas is imported on first use)
    def metrics_frame(self, **filters: Any) -> Any:
        """Metric points in long format; see :func:`day2ai.frames.metrics_frame`."""
        from day2ai.frames import metrics_frame

        return metrics_frame(self, **filters)

    def logs_frame(self, **filters: Any) -> Any:
        """Log lines; see :func:`day2ai.frames.logs_frame`."""
        from day2ai.frames import logs_frame

        return logs_frame(self, **filters)

    def spans_frame(self, **filters: Any) -> Any:
        """Spans; see :func:`day2ai.frames.spans_frame`."""
        from day2ai.frames import spans_frame

        return spans_frame(self, **filters)

    def changes_frame(self, **filters: Any) -> Any:
        """Changes; see :func:`day2ai.frames.changes_frame`."""
        from day2ai.frames import changes_frame

        return changes_frame(self, **filters)


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


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every symlink resolved, is inside ``root`` (also resolved)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _outside_error(root: Path, path: Path) -> BundleError:
    return BundleError(str(path), f"is a link to a file outside the bundle {root}; not read")


def load_bundle(path: str | Path, limits: BundleLimits | None = None) -> Bundle:
    """Open a bundle: reads incident.yaml and topology.yaml now, the JSONL files when asked.

    Nothing outside the bundle directory is read: a file that is a symlink resolving outside it is
    refused (incident.yaml: an error; the others: skipped and recorded in ``Bundle.problems``).
    The incident's title and description are redacted (day2ai.redact). ``limits`` default to
    :meth:`BundleLimits.from_env`.
    """
    root = Path(path)
    if not root.is_dir():
        raise BundleError(str(root), "not a bundle directory")
    problems = DataProblems()
    incident_path = root / "incident.yaml"
    if not incident_path.is_file():
        raise BundleError(str(incident_path), "missing: every bundle needs one")
    if not inside(root, incident_path):
        raise _outside_error(root, incident_path)
    incident = redact_incident(read_yaml_model(incident_path, Incident))
    topo_path = root / "topology.yaml"
    topology = None
    if topo_path.is_file():
        if inside(root, topo_path):
            topology = read_yaml_model(topo_path, Topology)
        else:
            problems.add(_outside_error(root, topo_path))
    files: dict[str, Path] = {}
    for kind in JSONL_FILES:
        if (p := _find(root, kind)) is not None:
            if inside(root, p):
                files[kind] = p
            else:
                problems.add(_outside_error(root, p))
    return Bundle(path=root, incident=incident, topology=topology, files=files,
                  limits=limits or BundleLimits.from_env(), problems=problems)


def redact_incident(incident: Incident) -> Incident:
    """The incident with secrets redacted from its human text (title, symptom description)."""
    from day2ai.redact import redact

    title = redact(incident.title)
    desc = incident.symptom.description
    new_desc = redact(desc) if desc else desc
    if title == incident.title and new_desc == desc:
        return incident
    symptom = incident.symptom.model_copy(update={"description": new_desc})
    return incident.model_copy(update={"title": title, "symptom": symptom})


def validate_bundle(path: str | Path, max_problems: int = 20) -> list[BundleError]:
    """Read every file of a bundle to its end; return the problems found (empty if valid).

    One problem per file at most for the JSONL files (the first broken line), since later
    lines of a broken file are rarely informative. A recorded bundle (``recording.yaml``)
    without a single record is refused: its backends returned nothing.
    """
    try:
        bundle = load_bundle(path)
    except BundleError as exc:
        return [exc]
    records = sum(1 for kind in bundle.files for _ in bundle.iter_file(kind))
    problems = bundle.problems.first_per_file()
    root = Path(path)
    if records == 0 and (root / "recording.yaml").is_file() and not problems:
        problems.append(BundleError(str(root), "recorded bundle holds no telemetry: every backend returned "
                                    "nothing (see recording.yaml)"))
    if (root / "truth.yaml").is_file():
        try:
            read_truth(root)
        except BundleError as exc:
            problems.append(exc)
    return problems[:max_problems]


def read_truth(path: str | Path) -> Truth | None:
    """The evaluation label of a bundle. Only the evaluation harness calls this."""
    root = Path(path)
    p = root / "truth.yaml"
    if not p.is_file():
        return None
    if not inside(root, p):
        raise _outside_error(root, p)
    return read_yaml_model(p, Truth)
