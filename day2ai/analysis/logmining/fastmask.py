"""Fast masking and the variable-run skeleton: what the miner actually groups on.

Speed rests on one exact property of the built-in masking rules: they never look at the
*value* of an ASCII digit, only at where digits are (the only literal digit in any rule is the
``0`` of ``0x``). So a message's *shape* -- its text with every digit ``1``-``9`` replaced by
``0`` -- decides which spans are masked. Two consequences:

- per token, the masked form is memoised by the token's shape (``10.0.3.17:8080`` and
  ``10.2.0.1:80`` share nothing, but ``blk_123`` and ``blk_456`` share one memo entry). A line
  whose token shapes are all known costs one split and one C-level ``map`` over the memo;
- per message, when masking removed every digit, the masked text is a function of the shape,
  so the miner can map the shape straight to its template (see :class:`TemplateMiner`).

A token seen for the first time takes the cheapest exact route: a plain word is kept; a word of
letters, digits and ``_`` is decided by the ``digits`` rule alone; a plain number is one
variable; anything else runs the rule chain, skipping each rule whose needed substring (in the
shape) or minimum length is missing -- masking only writes ``<*>``, so what a token lacks, its
partly masked forms lack too.

When a shape contains ``0x`` / ``0X`` the shape keeps ``0`` apart from ``1``-``9`` (digits
``1``-``9`` become ``1``), so hex literals are never confused with ``5x3``-like words. Only
two built-in rules can span whitespace (``datetime`` and ``size``); they run only on the slices
of the line where the shape says they can match, with the token rules that precede ``size``
applied to its slice first, so the result equals the whole-line rules in their order (checked
against :class:`Masker` on random lines in the tests). User rules (``extra``) and optional
rules can span anything: with either, every message takes the reference whole-line path of
:class:`Masker`.

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
from collections.abc import Callable, Sequence
from typing import cast

from day2ai.analysis.logmining.masking import (
    _CONSTANT_WORD,
    BUILTIN_RULES,
    WILDCARD,
    Masker,
    _digit_word,
)

# Shapes are computed on UTF-8 bytes: bytes.translate is a plain table lookup, about 20x
# faster than str.translate. Only ASCII digits change, so a shape decodes back to a string
# that splits into tokens exactly like the message.
SHAPE = bytes.maketrans(b"123456789", b"000000000")
HEX_SHAPE = bytes.maketrans(b"23456789", b"11111111")
_DIGIT = re.compile(r"[0-9]")
# Tokens every rule chain turns into one variable (a number or hex literal, maybe bracketed):
# masked directly, with the same result as the chain.
_SIMPLE = re.compile(r"([(\[]?)(?:0[xX][0-9a-fA-F]+|\d+)([,;)\]]?)")
# The whole-line ``size`` rule only matters where a size is written with a space before its
# unit (``5 KB``); without the space the per-token rule masks it.
_SPACED_SIZE = re.compile(r"0 (?:[KMGTP]i?)?B")  # searched in the plain shape (digits are 0)
_SPACED_SIZE_ANY = re.compile(r"\d (?:[KMGTP]i?)?B")  # searched in a message that is not ASCII
# Where a ``datetime`` match can be, in a message that is not ASCII (Unicode digits).
_DATE_HINT = re.compile(r"\d:\d\d:\d\d|\d{4}-\d\d-\d\d")
_PLAIN_DATE_HINT = re.compile(r"0:00:00|0000-00-00")  # the same places, in the plain shape

# A rule can only match a token whose shape (digits as ``0``) holds one of these substrings
# and is at least this long. Masking only replaces spans by ``<*>`` (none of these characters),
# so what the original token lacks, every partly masked form of it lacks too.
_NEEDS: dict[str, tuple[tuple[str, ...], int]] = {
    "url": (("://",), 4),
    "uuid": (("-",), 36),
    "endpoint": ((":0",), 3),
    "ip": (("0.0",), 7),
    "hexbytes": ((":",), 11),
    "hex": (("0x", "0X"), 3),
    "path": (("/",), 1),
    "size": (("B",), 2),
    "clock": (("0:0",), 4),
}
# Rules that cannot match a token without a digit (``\d`` in every alternative).
_NEEDS_DIGIT = frozenset({"endpoint", "ip", "hex", "size", "clock", "number", "digits"})
# Memo value of a token shape whose masked form keeps some digits: look the token up exactly.
_BY_TEXT = " by text"
# Memo value of a slice shape where a whole-line rule matched nothing.
_NO_MATCH = " no match"
# Resource bounds of the memo tables (entries; a full table is cleared): no effect on accuracy,
# sized so the 1M-line stream of tools/bench_logparse.py stays under 50 MB RSS.
_MEMO_LIMIT = 200_000
_KIND_LIMIT = 100_000

#: How chosen: the SI / IEC size units and the usual time and rate abbreviations, written down
#: from general usage (before this session, with the eight Loghub-2k systems visible). The list
#: is a leave-systems-out switch (``MinerConfig.unit_words``): on in 70 of 70 training halves;
#: off costs 0.059 of mean GA.
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


def decode(shape: bytes) -> str:
    """A shape as text (inverse of :func:`encode`)."""
    return shape.decode("utf-8", "surrogatepass")


def hex_shape(message: str, plain: str) -> bytes | None:
    """The hex-aware shape of ``message`` when its ``plain`` shape (decoded) shows ``0x``, else None."""
    if ("x" in plain and "0x" in plain) or ("X" in plain and "0X" in plain):
        return encode(message).translate(HEX_SHAPE)
    return None


def _translate(text: str, table: bytes) -> str:
    """The shape of ``text`` under ``table`` (:data:`SHAPE` or :data:`HEX_SHAPE`)."""
    return decode(encode(text).translate(table))


def _date_windows(message: str, plain: str, ascii_only: bool) -> list[tuple[int, int]]:
    """Disjoint slices ``[lo, hi)`` of ``message`` that hold every possible ``datetime`` match.

    A match holds a clock (``0:00:00``) or a date (``0000-00-00``), starts at most three
    space-separated parts before the part holding it and ends at most one part after: each
    such place gives one window (overlapping windows are joined). Bounded windows keep the cost
    per line linear and let the memo of window shapes work on lines that never repeat.
    """
    if ascii_only:
        if ":00:" not in plain and "-00-" not in plain:
            return []
        hits = [hit.start() for hit in _PLAIN_DATE_HINT.finditer(plain)]
    else:
        hits = [hit.start() for hit in _DATE_HINT.finditer(message)]
    windows: list[tuple[int, int]] = []
    for hit in hits:
        lo, hi = _part_start(message, hit, 3), _part_end(message, hit, 1)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    return windows


def _part_end(text: str, index: int, ahead: int) -> int:
    """End of the space-separated part ``ahead`` parts after the one holding ``text[index]``."""
    size = len(text)
    pos = text.find(" ", index)
    for _ in range(ahead):
        if pos < 0:
            return size
        while pos < size and text[pos] == " ":
            pos += 1
        pos = text.find(" ", pos)
    return size if pos < 0 else pos


def _part_start(text: str, index: int, back: int) -> int:
    """Start of the space-separated part ``back`` parts before the one holding ``text[index]``."""
    pos = text.rfind(" ", 0, index)
    for _ in range(back):
        while pos > 0 and text[pos - 1] == " ":
            pos -= 1
        if pos <= 0:
            return 0
        pos = text.rfind(" ", 0, pos)
    return pos + 1


def has_ascii_digit(text: str) -> bool:
    """True when ``text`` holds a digit 0-9."""
    return _DIGIT.search(text) is not None


def classify(token: str, units: frozenset[str] = UNIT_WORDS) -> int:
    """VAR (a variable with only punctuation around it), MIXED (a variable glued to a word,
    ``dsl-<*>``), UNIT (a word of ``units``, or empty brackets such as ``()`` = an empty value) or
    CONST."""
    if WILDCARD in token:
        rest = token.replace(WILDCARD, "")
        return MIXED if any(c.isalnum() for c in rest) else VAR
    if token.rstrip(_UNIT_STRIP).lower() in units or token.strip(_EMPTY_VALUE) == "":
        return UNIT
    return CONST


_Step = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str], tuple[str, ...], int, bool]


class TokenMasker:
    """Masks a message token by token, with memoisation by token shape (see module doc)."""

    def __init__(self, masker: Masker, units: frozenset[str] = UNIT_WORDS) -> None:
        self.masker = masker
        #: Words that join a variable run when they follow a variable (see :func:`classify`).
        self.units = units
        config = masker.config
        builtin = {rule.name for rule in BUILTIN_RULES}
        #: False when user or optional rules are on: then the whole-line reference path is used.
        self.exact_shapes = not config.extra and all(name in builtin for name in config.enabled)
        enabled = set(config.enabled)
        by_name = {rule.name: re.compile(rule.pattern) for rule in BUILTIN_RULES if rule.name in enabled}
        #: The shortcut for plain numbers is exact only when both ``hex`` and ``number`` are on.
        self.simple_numbers = {"hex", "number"} <= enabled
        #: Words of ASCII letters and digits are decided by ``digits`` alone (see ``_mask_token``).
        self._alnum_digits = "digits" in enabled
        self._datetime = by_name.get("datetime")
        self._size = by_name.get("size")
        self._spanning_dates = self._datetime is not None
        self._spanning_sizes = self._size is not None
        self._token_steps: list[_Step] = [
            (
                pattern,
                _digit_word if name == "digits" else WILDCARD,
                *_NEEDS.get(name, ((), 1)),
                name in _NEEDS_DIGIT,
            )
            for name, pattern in by_name.items()
            if name != "datetime"
        ]
        names = [name for name in by_name if name != "datetime"]
        self._before_size = self._token_steps[: names.index("size")] if "size" in names else []
        # Token shape -> masked token (``_BY_TEXT``: the masked token keeps digits, see ``_exact``).
        self._memo: dict[str, str] = {}
        self._exact: dict[str, str] = {}
        self._kinds: dict[str, int] = {}
        self._inert: set[str] = set()
        self._dates: dict[str, str] = {}
        self._sizes: dict[str, str] = {}

    def mask_tokens(self, message: str, shape: bytes | None = None) -> list[str]:
        """The masked tokens of ``message`` (``shape``: unused, kept for callers that pass it)."""
        if not self.exact_shapes:
            return self.masker.mask(message).split()
        plain = decode(encode(message).translate(SHAPE))
        hexed = hex_shape(message, plain)
        return list(self.mask_line(message, plain, plain if hexed is None else decode(hexed))[0])

    def mask_line(self, message: str, plain: str, shape: str) -> tuple[tuple[str, ...], bool]:
        """(masked tokens, True if they hold no digit) of ``message``, given both of its shapes.

        ``plain`` is the message with every ASCII digit turned into ``0``; ``shape`` is
        :func:`shape_of` (message), decoded. Requires :attr:`exact_shapes`.
        """
        if (
            (self._spanning_dates and (":00:" in plain or "-00-" in plain))
            or (self._spanning_sizes and "B" in plain and _SPACED_SIZE.search(plain) is not None)
            or not message.isascii()
        ):
            message, shape = self._spans(message, plain, shape)
        shape_tokens = shape.split()
        out = tuple(map(self._memo.get, shape_tokens))
        if None in out or _BY_TEXT in out:
            return self._fill(message, shape_tokens, list(out))
        return cast(tuple[str, ...], out), True

    def _spans(self, message: str, plain: str, shape: str) -> tuple[str, str]:
        """Apply the rules that can span whitespace (``datetime``, ``size``), where they can match.

        A ``datetime`` match lies in one of the windows of :func:`_date_windows`; a ``size`` match
        that spans a space holds ``0 B`` / ``0 KB`` / ... and lies in the two parts around that space. Space is the only
        whitespace either rule matches and no lookaround sees past a space, so applying a rule to
        those slices equals applying it to the line (sizes without a space are masked per token).
        Other messages than ASCII find the places with Unicode-aware patterns (``\\d``). Returns
        the new message and its shape (edited alongside: a shape keeps the message's indices).
        """
        ascii_only = message.isascii()
        hexed = shape is not plain and shape != plain
        table = HEX_SHAPE if hexed else SHAPE
        if self._datetime is not None:
            windows = _date_windows(message, plain, ascii_only)
            for lo, hi in reversed(windows):
                part = self._slice(self._dates, shape[lo:hi], self._mask_dates, message[lo:hi], "")
                if part is not None:
                    message = message[:lo] + part + message[hi:]
                    shape = shape[:lo] + _translate(part, table) + shape[hi:]
            if windows:
                plain = shape.replace("1", "0") if hexed else shape
        if self._size is not None and "B" in plain:
            search = _SPACED_SIZE.search if ascii_only else _SPACED_SIZE_ANY.search
            hits: list[int] = []
            found = search(plain if ascii_only else message)
            while found is not None:
                hits.append(found.start())
                found = search(plain if ascii_only else message, found.end())
            for hit in reversed(hits):
                lo = message.rfind(" ", 0, hit) + 1
                hi = message.find(" ", hit + 2)
                hi = len(message) if hi < 0 else hi
                part = self._slice(self._sizes, shape[lo:hi], self._mask_size, message[lo:hi], shape[lo:hi])
                if part is not None:
                    message = message[:lo] + part + message[hi:]
                    shape = shape[:lo] + _translate(part, table) + shape[hi:]
        return message, shape

    @staticmethod
    def _slice(
        memo: dict[str, str], key: str, mask: Callable[[str, str], tuple[str, int]], text: str, text_shape: str
    ) -> str | None:
        """``mask`` (text, its shape) memoised by the slice's shape; None if nothing matched.

        Valid because the rules never look at a digit's value: the shape decides where they
        match, so a result without digits (or "no match") is a function of the shape.
        """
        known = memo.get(key)
        if known is not None:
            return None if known is _NO_MATCH else known
        masked, n = mask(text, text_shape)
        if len(memo) >= _KIND_LIMIT:
            memo.clear()
        if not n:
            memo[key] = _NO_MATCH
            return None
        if not has_ascii_digit(masked):
            memo[key] = masked
        return masked

    def _mask_dates(self, text: str, text_shape: str) -> tuple[str, int]:
        """``datetime`` on the tail of a line."""
        return self._datetime.subn(WILDCARD, text) if self._datetime is not None else (text, 0)

    def _mask_size(self, text: str, text_shape: str) -> tuple[str, int]:
        """``size`` on a slice ``<number> <unit>``, after the token rules that precede it."""
        if self._size is None:
            return text, 0
        cut = text.find(" ")
        # The rules before ``size`` go first, as on the whole line (``10.0.0.1:80 B``).
        number = self._before(text[:cut], text_shape[:cut])
        unit = self._before(text[cut + 1 :], text_shape[cut + 1 :])
        return self._size.subn(WILDCARD, f"{number} {unit}")

    def _before(self, text: str, text_shape: str) -> str:
        """``text`` after the token rules that come before ``size`` (memo: shapes they leave alone)."""
        if text_shape in self._inert:
            return text
        masked = self._run(self._before_size, text, text_shape)
        if masked == text:
            if len(self._inert) >= _KIND_LIMIT:
                self._inert.clear()
            self._inert.add(text_shape)
        return masked

    def _fill(self, message: str, shape_tokens: list[str], out: list[str | None]) -> tuple[tuple[str, ...], bool]:
        """Complete ``out`` (memo results: None where unknown, ``_BY_TEXT`` where exact)."""
        tokens: list[str] | None = None  # the message's own tokens, split only when needed
        memo = self._memo
        if len(memo) >= _MEMO_LIMIT - len(out):
            memo.clear()
        digit_free = True
        i = 0
        for _ in range(out.count(None)):
            i = out.index(None, i)
            token_shape = shape_tokens[i]
            masked = memo.get(token_shape)  # the same shape may come twice in a line
            if masked is None:
                if token_shape.isalpha():  # a plain word (the common case): no rule applies
                    masked = memo[token_shape] = token_shape
                    keeps_digits = False
                else:
                    if "0" not in token_shape and "1" not in token_shape:
                        token = token_shape  # no digit: the shape is the token itself
                    else:
                        tokens = tokens or message.split()
                        token = tokens[i]
                    masked, keeps_digits = self._mask_token(token, token_shape)
            else:
                keeps_digits = masked is _BY_TEXT
            out[i] = masked
            digit_free = digit_free and not keeps_digits
        if _BY_TEXT in out:
            digit_free = False
            exact = self._exact
            tokens = tokens or message.split()
            for i, masked in enumerate(out):
                if masked is _BY_TEXT:
                    known = exact.get(tokens[i])
                    out[i] = known if known is not None else self._mask_token(tokens[i], shape_tokens[i])[0]
        return cast(tuple[str, ...], tuple(out)), digit_free

    def _mask_token(self, token: str, token_shape: str) -> tuple[str, bool]:
        """(masked token, True if it keeps a digit); memoises the result."""
        ascii_only = token.isascii()
        # A digit of the message is 0 or 1 in either shape; no other character becomes one.
        if ascii_only and "0" not in token_shape and "1" not in token_shape:
            # Without a digit only ``url``, ``uuid``, ``hexbytes`` and ``path`` can match.
            slow = "/" in token or ":" in token or len(token) >= 36
            masked, keeps_digits = (self._chain(token, token_shape) if slow else token), False
        elif ascii_only and self._alnum_digits and token.replace("_", "").isalnum():
            # A word of letters, digits and ``_`` (all word characters, so no rule can start or end
            # a match inside it): every rule that matches takes the whole word, and only
            # ``digits`` keeps it (an identifier ending in one digit: ``eth0``, ``SOCKS5``).
            masked = token if _CONSTANT_WORD.fullmatch(token) else WILDCARD
            keeps_digits = masked is token
        elif self.simple_numbers and token.isdecimal():
            masked, keeps_digits = WILDCARD, False
        else:
            simple = _SIMPLE.fullmatch(token) if self.simple_numbers else None
            if simple is not None:
                masked = f"{simple.group(1)}{WILDCARD}{simple.group(2)}"
            else:
                masked = self._chain(token, token_shape)
            keeps_digits = masked != WILDCARD and has_ascii_digit(masked)
        memo = self._memo
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        if keeps_digits:
            exact = self._exact
            if len(exact) >= _MEMO_LIMIT:
                exact.clear()
            exact[token] = masked
            memo[token_shape] = _BY_TEXT
        else:
            memo[token_shape] = masked
        return masked, keeps_digits

    def _chain(self, token: str, token_shape: str) -> str:
        """The built-in token rules, in order, skipping those that cannot match."""
        return self._run(self._token_steps, token, token_shape)

    @staticmethod
    def _run(steps: list[_Step], text: str, shape: str) -> str:
        """Apply ``steps`` in order to ``text`` (whose shape is ``shape``), skipping those that cannot match."""
        masked = text
        # Unicode digits match ``\d`` but keep their place in the shape: then skip nothing.
        skipping = text.isascii()
        plain = shape.replace("1", "0")
        has_digit = "0" in plain
        size = len(text)
        for pattern, replacement, needs, min_size, needs_digit in steps:
            if skipping and (
                size < min_size
                or (needs_digit and not has_digit)
                or (needs and needs[0] not in plain and (len(needs) == 1 or needs[1] not in plain))
            ):
                continue
            masked = pattern.sub(replacement, masked)
            if masked == WILDCARD:
                break
        return masked

    def skeleton(self, tokens: Sequence[str]) -> tuple[list[str], list[str | None]]:
        """(slots, runs): variable runs collapsed to one ``<*>`` slot; ``runs`` keeps their text."""
        kinds = self._kinds
        slots: list[str] = []
        runs: list[str | None] = []
        run: list[str] = []  # tokens of the open run (joined once it closes: linear time)
        for token in tokens:
            # Only a token with a wildcard can open a run; only one inside a run needs its kind.
            if run or WILDCARD in token:
                kind = kinds.get(token)
                if kind is None:
                    kind = classify(token, self.units)
                    if len(kinds) >= _KIND_LIMIT:
                        kinds.clear()
                    kinds[token] = kind
                if kind == VAR or (run and kind != CONST):
                    if not run:
                        slots.append(WILDCARD)
                        runs.append(None)
                    run.append(token)
                    continue
            if run:
                runs[-1] = " ".join(run)
                run = []
            slots.append(token)
            runs.append(None)
        if run:
            runs[-1] = " ".join(run)
        return slots, runs


def collapse(
    tokens: list[str], runs: list[str | None], is_open: list[bool], units: frozenset[str] = UNIT_WORDS
) -> tuple[list[str], list[str | None], list[bool]]:
    """Merge adjacent variable slots of a template (and unit words after them) into runs."""
    out_tokens: list[str] = []
    out_runs: list[str | None] = []
    out_open: list[bool] = []
    in_run = False
    for token, run, flag in zip(tokens, runs, is_open, strict=True):
        kind = VAR if token == WILDCARD else classify(token, units)
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
