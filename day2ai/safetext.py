"""Terminal-safe text: untrusted strings made inert before they are printed.

A log message, a trace attribute or a runbook can carry ANSI/OSC escape sequences that recolour
the terminal, set its title, write to the clipboard or hide text, and Unicode bidirectional
overrides that reorder what is shown. :func:`clean` turns every control character (except tab and
newline) and every bidi control into a visible ``\\xNN`` / ``\\uNNNN`` escape. Every CLI line built
from untrusted text goes through it (``--format text``, markdown on stdout, warnings, errors).
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, bidi marks/embeddings/overrides/isolates,
# and the line/paragraph separators some terminals honour.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """``text`` safe to print on a terminal: control characters and bidi controls escaped visibly."""
    return _CONTROL.sub(_escape, text)
