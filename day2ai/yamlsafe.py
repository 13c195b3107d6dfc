"""YAML with bounded resources, for every YAML file day2ai reads from a user or a bundle.

``yaml.safe_load`` refuses arbitrary Python objects but not a resource attack: a 1 kB "billion
laughs" document (anchors of anchors of anchors) expands into billions of nodes when it is walked,
and 100 000 nested brackets overflow the recursive composer. :func:`load` first streams the
parser's events (libyaml when installed: fast, no recursion, no objects built) and refuses a document
that is too big, too deep or expands through aliases into too many nodes; only then does it build
the objects. A refusal is a :class:`YamlLimitError`, a subclass of ``yaml.YAMLError`` with a
``problem_mark``, so callers report it exactly like a syntax error (file and line).

Limits (documented in docs/security.md): :data:`MAX_BYTES`, :data:`MAX_DEPTH`,
:data:`MAX_NODES` (nodes after alias expansion) and :data:`MAX_ALIASES`.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 2_000_000
MAX_DEPTH = 64
MAX_NODES = 1_000_000
MAX_ALIASES = 10_000

_Fast: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # for the checking pass
_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class YamlLimitError(yaml.YAMLError):
    """A YAML document exceeds a resource limit (size, nesting depth, alias expansion)."""

    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark

    def __str__(self) -> str:
        where = f" (line {self.problem_mark.line + 1})" if self.problem_mark is not None else ""
        return f"{self.problem}{where}"


def check(text: str) -> None:
    """Raise :class:`YamlLimitError` (or ``yaml.YAMLError`` for bad syntax) unless ``text`` is within
    every limit."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlLimitError(f"document of {size} bytes exceeds the limit of {MAX_BYTES} bytes (MAX_BYTES)")
    try:
        _walk(text)
    except YamlLimitError:
        raise
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own guard against deep flow nesting
            raise YamlLimitError(f"nesting deeper than libyaml allows (MAX_DEPTH is {MAX_DEPTH})",
                                 getattr(exc, "problem_mark", None)) from None
        return  # a syntax error: the (pure Python) parse that follows reports it, with its usual line


def _walk(text: str) -> None:
    sizes: dict[str, int] = {}  # anchor -> nodes it expands to
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    total = aliases = 0
    for event in yaml.parse(text, Loader=_Fast):
        n = 0
        if isinstance(event, _START):
            stack.append((event.anchor, 1))
            if len(stack) > MAX_DEPTH:
                raise YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels (MAX_DEPTH)", event.start_mark)
            total += 1
        elif isinstance(event, _END) and stack:
            anchor, n = stack.pop()
            if anchor is not None:
                sizes[anchor] = n
        elif isinstance(event, yaml.ScalarEvent):
            n = 1
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases (MAX_ALIASES)", event.start_mark)
            n = sizes.get(event.anchor or "", 1)
            total += n
        if total > MAX_NODES:
            raise YamlLimitError(f"expands to more than {MAX_NODES} nodes through aliases or size (MAX_NODES)",
                                 event.start_mark)
        if n and stack and not isinstance(event, _START):
            anchor, count = stack[-1]
            stack[-1] = (anchor, count + n)


def load_with_node(text: str) -> tuple[Any, yaml.Node | None]:
    """The document's data and its node tree (for line numbers), after :func:`check`."""
    check(text)
    loader = yaml.SafeLoader(text)  # the pure Python loader: the line numbers users have always seen
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:
        raise YamlLimitError("nesting too deep to build") from None
    finally:
        loader.dispose()
    return data, node


def load(text: str) -> Any:
    """``yaml.safe_load`` within the limits of this module."""
    return load_with_node(text)[0]
