"""Imported once by the forkserver every day2ai child is forked from (not by users).

Importing it loads what every investigation needs and is slow to build from scratch, so that each
forked child starts warm: the investigation tools and the tokenizer's encoding (about 2 s to load
per process). It reads only the installed package's own data.
"""

from __future__ import annotations

import contextlib

import numpy.ma  # noqa: F401  (loaded lazily by the analysis)

import day2ai.agent.offline
import day2ai.evaluation.harness
import day2ai.redact
import day2ai.runner  # noqa: F401
from day2ai.tokens import encoding

with contextlib.suppress(Exception):  # a child that cannot use it loads it itself, as before
    encoding()
