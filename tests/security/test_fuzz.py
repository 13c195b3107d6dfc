"""Property tests (Hypothesis) over the parsers of untrusted input: the bundle reader, the site
YAML, the knowledge ingester and the redactor. Whatever the input, only the documented error
types escape (BundleError / ConfigError / InputError), and nothing hangs."""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from day2ai.errors import InputError
from day2ai.knowledge.markdown import parse_markdown
from day2ai.redact import redact
from day2ai.sources.bundle import JSONL_FILES, load_bundle, validate_bundle
from day2ai.sources.config import parse_site_config
from tests.bundle_factory import INCIDENT

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELDS = ["timestamp", "service", "message", "level", "trace_id", "attributes", "span_id", "parent_span_id",
          "name", "start", "duration_ms", "status", "kind", "summary", "metric", "values", "__name__"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["NaN", "inf", "1e309", "-1", "2026-03-14T10:00:00Z",
                                                           "deploy", "error", "ok", ""]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10)
lines = st.one_of(records.map(lambda r: json.dumps(r).encode()), st.binary(max_size=120),
                  st.sampled_from([b"", b"{", b"\xef\xbb\xbf{}", b"1e309", b'{"timestamp": 1e309}', b"[]"]))


@FUZZ
@given(kind=st.sampled_from(JSONL_FILES), body=st.lists(lines, max_size=25), packed=st.booleans(),
       cut=st.integers(min_value=0, max_value=200))
def test_bundle_reader_never_escapes(kind: str, body: list[bytes], packed: bool, cut: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="fuzz-bundle-"))
    try:
        (root / "incident.yaml").write_text(INCIDENT)
        data = b"\n".join(body)
        if packed:
            data = gzip.compress(data)
            data = data[: len(data) - cut] if cut < len(data) else data
        (root / f"{kind}.jsonl{'.gz' if packed else ''}").write_bytes(data)
        bundle = load_bundle(root)
        n = sum(1 for _ in bundle.iter_file(kind))  # never raises: bad lines are skipped and counted
        assert n <= len(body)
        problems = validate_bundle(root)
        assert (n == len([b for b in body if b.strip()]) and not packed) or problems or n >= 0
        for gap in bundle.data_gaps():
            assert gap.source.startswith("bundle:") and gap.reason
    finally:
        shutil.rmtree(root, ignore_errors=True)


yaml_docs = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=20), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(["metrics", "logs", "traces", "changes", "type", "url",
                                                             "defaults", "retries", "queries", "auth", "x"]),
                                            inner, max_size=5)),
    max_leaves=15)


def _site_text(doc: Any) -> str:
    return yaml.safe_dump(doc)


@FUZZ
@given(text=st.one_of(yaml_docs.map(_site_text), st.text(max_size=300),
                      st.sampled_from(["a: &a [1]\nb: *a\n", "[" * 2000, "x: !!python/object:os.system ls"])))
def test_site_yaml_raises_only_config_errors(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_site_config(text)


@FUZZ
@given(front=st.one_of(yaml_docs.map(yaml.safe_dump), st.text(max_size=200)), body=st.text(max_size=500))
def test_knowledge_ingester_raises_only_input_errors(front: str, body: str) -> None:
    for text in (f"---\n{front}---\n{body}", body, f"---\n{front}"):
        try:
            parsed = parse_markdown(text, "runbooks/fuzz.md")
        except InputError:
            continue
        assert parsed.document.path == "runbooks/fuzz.md"


secret_values = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=10, max_size=30)
filler = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@FUZZ
@given(before=filler, after=filler, secret=secret_values,
       shape=st.sampled_from(["password={s}", "--password {s}", "postgres://u:{s}@db/x", "Authorization: Bearer {s}9",
                              "the db password is {s}", "api_key: '{s}'"]))
def test_redactor_removes_planted_secrets(before: str, after: str, secret: str, shape: str) -> None:
    assume(secret not in before and secret not in after)
    text = f"{before} {shape.format(s=secret)} {after}"
    out = redact(text)
    assert secret not in out


@FUZZ
@given(text=st.text(max_size=2000))
def test_redactor_never_raises_and_is_stable(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
