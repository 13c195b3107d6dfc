"""Fast masking and the variable-run skeleton: what the miner actually groups on.

Speed rests on one exact property of the built-in masking rules: they never look at the
*value* of an ASCII digit, only at where digits are (the only literal digit in any rule is the
``0`` of ``0x``). So a message's *shape* -- its text with every digit ``1``-``9`` replaced by
``0`` -- decides which spans are masked. Two consequences:

- per token, the masked form is memoised by the token's shape (``10.0.3.17:8080`` and
  ``10.2.0.1:80`` share nothing, but ``blk_123`` and ``blk_456`` share one memo entry); a token
  without digits, ``/``, ``:`` and shorter than a UUID is a plain word and is kept as is;
- per message, when masking removed every digit, the masked text is a function of the shape,
  so the miner can map the shape straight to its template (see :class:`TemplateMiner`).

When a shape contains ``0x`` / ``0X`` the shape keeps ``0`` apart from ``1``-``9`` (digits
``1``-``9`` become ``1``), so hex literals are never confused with ``5x3``-like words. Only
two built-in rules can span whitespace (``datetime`` and ``size``); they run on the whole
line, and only when a cheap check on the shape says they can match. User rules (``extra``)
and optional rules can span anything: with either, every message takes the reference
whole-line path of :class:`Masker`.

The *skeleton* of a masked message collapses each run of variables into one slot: a run is
consecutive tokens that are variables with only punctuation around (``<*>``, ``(<*>)``,
``<*>,``), plus unit words right after a variable (``5 ms``, ``1190 bytes (1.16 KB)``,
``<1 sec``). The miner keys its tree and compares templates on skeletons, so messages that
differ only in how many tokens a value took (``0 bytes`` / ``1190 bytes (1.16 KB)``) fall in
one template. Each run keeps its text while all members agree (``<*> seconds`` stays
``<*> seconds``); once members differ it renders as one ``<*>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from day2ai.analysis.logmining.masking import BUILTIN_RULES, WILDCARD, Masker, _digit_word

# Shapes are computed on UTF-8 bytes: bytes.translate is a plain table lookup, about 20x
# faster than str.translate. Only ASCII digits change, so a shape decodes back to a string
# that splits into tokens exactly like the message.
SHAPE = bytes.maketrans(b"123456789", b"000000000")
HEX_SHAPE = bytes.maketrans(b"23456789", b"11111111")
_DIGIT = re.compile(r"[0-9]")
# Tokens every rule chain turns into one variable (a number or hex literal, maybe bracketed):
# masked directly, with the same result as the chain.
_SIMPLE = re.compile(r"([(\[]?)(?:0[xX][0-9a-fA-F]+|\d+)([,;)\]]?)")

# A rule can only match a token holding one of these substrings (None: any token with a digit).
_NEEDS: dict[str, tuple[str, ...] | None] = {
    "url": ("://",),
    "uuid": ("-",),
    "endpoint": (":",),
    "ip": (".",),
    "hexbytes": (":",),
    "hex": ("x", "X"),
    "path": ("/",),
    "size": ("B",),
    "clock": (":",),
}
_MEMO_LIMIT = 200_000
_KIND_LIMIT = 100_000

#: Words that, right after a variable, are the variable's unit (compared in lower case, with
#: trailing punctuation removed). Sizes, durations and rates: units vary with the value
#: (``512 B`` / ``1.2 KB``, ``900 ms`` / ``2 sec``), so they belong to it.
_UNITS = """b byte bytes kb mb gb tb pb kib mib gib tib k kbyte kbytes mbyte mbytes
    ns nsec nanosecond nanoseconds us usec µs microsecond microseconds ms msec msecs millis
    millisecond milliseconds s sec secs second seconds min mins minute minutes
    hr hrs hour hours day days % percent kb/s mb/s gb/s b/s bps kbps mbps gbps"""
UNIT_WORDS = frozenset(_UNITS.split())
_UNIT_STRIP = ",.;:)]}"
# A token made only of brackets and quotes (``()``, ``[]``, ``""``) is an empty value.
_EMPTY_VALUE = "()[]{}<>\"',;:"

CONST, VAR, UNIT, MIXED = 0, 1, 2, 3


def encode(text: str) -> bytes:
    """UTF-8 bytes of ``text`` (lone surrogates from undecodable input pass through)."""
    return text.encode("utf-8", "surrogatepass")


def shape_of(text: str) -> bytes:
    """The shape of ``text``: digits ``1``-``9`` become ``0`` (``1`` when ``0x`` would appear)."""
    raw = encode(text)
    key = raw.translate(SHAPE)
    if b"0x" in key or b"0X" in key:
        return raw.translate(HEX_SHAPE)
    return key


def has_ascii_digit(text: str) -> bool:
    """True when ``text`` holds a digit 0-9."""
    return _DIGIT.search(text) is not None


def classify(token: str) -> int:
    """VAR (a variable with only punctuation around it), MIXED (a variable glued to a word,
    ``dsl-<*>``), UNIT (a unit word, or empty brackets such as ``()`` = an empty value) or CONST."""
    if WILDCARD in token:
        rest = token.replace(WILDCARD, "")
        return MIXED if any(c.isalnum() for c in rest) else VAR
    if token.rstrip(_UNIT_STRIP).lower() in UNIT_WORDS or token.strip(_EMPTY_VALUE) == "":
        return UNIT
    return CONST


class TokenMasker:
    """Masks a message token by token, with memoisation by token shape (see module doc)."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        config = masker.config
        builtin = {rule.name for rule in BUILTIN_RULES}
        #: False when user or optional rules are on: then the whole-line reference path is used.
        self.exact_shapes = not config.extra and all(name in builtin for name in config.enabled)
        enabled = set(config.enabled)
        by_name = {rule.name: re.compile(rule.pattern) for rule in BUILTIN_RULES if rule.name in enabled}
        #: The shortcut for plain numbers is exact only when both ``hex`` and ``number`` are on.
        self.simple_numbers = {"hex", "number"} <= enabled
        self._datetime = by_name.get("datetime")
        self._size = by_name.get("size")
        self._token_steps: list[
            tuple[re.Pattern[str], str | Callable[[re.Match[str]], str], tuple[str, ...] | None]
        ] = [
            (pattern, _digit_word if name == "digits" else WILDCARD, _NEEDS.get(name))
            for name, pattern in by_name.items()
            if name != "datetime"
        ]
        self._memo: dict[str, str] = {}
        self._exact: dict[str, str] = {}
        self._kinds: dict[str, int] = {}

    def mask_tokens(self, message: str, shape: bytes | None = None) -> list[str]:
        """The masked tokens of ``message``; ``shape`` is :func:`shape_of` (message), if known."""
        if not self.exact_shapes:
            return self.masker.mask(message).split()
        if shape is None:
            shape = shape_of(message)
        changed = False
        if self._datetime is not None and b"0:00" in shape:
            message, n = self._datetime.subn(WILDCARD, message)
            changed = n > 0
        if self._size is not None and b"0 " in shape and b"B" in shape:
            message, n = self._size.subn(WILDCARD, message)
            changed = changed or n > 0
        if changed:
            shape = shape_of(message)
        text_shape = shape.decode("utf-8", "surrogatepass")
        memo = self._memo
        exact = self._exact
        out: list[str] = []
        append = out.append
        for token, token_shape in zip(message.split(), text_shape.split(), strict=True):
            masked = memo.get(token_shape)
            if masked is None:
                masked = exact.get(token)
                if masked is None:
                    masked = self._mask_token(token, token_shape)
            append(masked)
        return out

    def _mask_token(self, token: str, token_shape: str) -> str:
        masked = token
        simple = _SIMPLE.fullmatch(token) if self.simple_numbers else None
        if simple is not None:
            masked = f"{simple.group(1)}{WILDCARD}{simple.group(2)}"
        elif has_ascii_digit(token) or "/" in token or ":" in token or len(token) >= 36:
            for pattern, replacement, needs in self._token_steps:
                if needs is None or needs[0] in masked or (len(needs) > 1 and needs[1] in masked):
                    masked = pattern.sub(replacement, masked)
        if has_ascii_digit(masked):
            table = self._exact
        else:
            table = self._memo
            token = token_shape
        if len(table) >= _MEMO_LIMIT:
            table.clear()
        table[token] = masked
        return masked

    def skeleton(self, tokens: list[str]) -> tuple[list[str], list[str | None]]:
        """(slots, runs): variable runs collapsed to one ``<*>`` slot; ``runs`` keeps their text."""
        kinds = self._kinds
        slots: list[str] = []
        runs: list[str | None] = []
        in_run = False
        for token in tokens:
            kind = kinds.get(token)
            if kind is None:
                kind = classify(token)
                if len(kinds) >= _KIND_LIMIT:
                    kinds.clear()
                kinds[token] = kind
            if kind == VAR or (in_run and kind != CONST):
                if in_run:
                    runs[-1] = f"{runs[-1]} {token}"
                else:
                    slots.append(WILDCARD)
                    runs.append(token)
                    in_run = True
            else:
                slots.append(token)
                runs.append(None)
                in_run = False
        return slots, runs


def collapse(
    tokens: list[str], runs: list[str | None], is_open: list[bool]
) -> tuple[list[str], list[str | None], list[bool]]:
    """Merge adjacent variable slots of a template (and unit words after them) into runs."""
    out_tokens: list[str] = []
    out_runs: list[str | None] = []
    out_open: list[bool] = []
    in_run = False
    for token, run, flag in zip(tokens, runs, is_open, strict=True):
        kind = VAR if token == WILDCARD else classify(token)
        shown = run if token == WILDCARD else token
        if kind == VAR or (in_run and kind != CONST):
            if in_run:
                previous = out_runs[-1]
                out_runs[-1] = None if previous is None or shown is None else f"{previous} {shown}"
                out_open[-1] = out_open[-1] or flag
                continue
            out_tokens.append(WILDCARD)
            out_runs.append(shown)
            out_open.append(flag)
            in_run = True
        else:
            out_tokens.append(token)
            out_runs.append(None)
            out_open.append(flag)
            in_run = False
    return out_tokens, out_runs, out_open


def legacy_skeleton(
    masker: TokenMasker, tokens: list[str], is_open: list[bool]
) -> tuple[list[str], list[str | None], list[bool]]:
    """Skeleton of a template saved as plain masked tokens; a slot is open if any member was."""
    slots, runs = masker.skeleton(tokens)
    opened: list[bool] = []
    position = 0
    for run in runs:
        width = len(run.split()) if run is not None else 1
        opened.append(any(is_open[position : position + width]))
        position += width
    runs = [None if flag else run for run, flag in zip(runs, opened, strict=True)]
    return slots, runs, opened
