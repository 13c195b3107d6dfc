"""The one exception tree of day2ai.

Every error day2ai raises on purpose derives from :class:`Day2AIError`. Backends translate
their own failures (httpx, chromadb, file formats) into these at the boundary, so callers catch
one family. ``InputError`` and its children mean "the caller gave us something wrong" (CLI exit
code 2); everything else is an operational failure (exit code 1).
"""

from __future__ import annotations


class Day2AIError(Exception):
    """Root of every day2ai error."""


class InputError(Day2AIError):
    """Bad input from the caller: a file, an argument, a configuration value."""


class BundleError(InputError):
    """An incident bundle breaks the bundle spec.

    The message always names the file, and where known the line and the field, as
    ``file:line: field: problem``.
    """

    def __init__(self, file: str, problem: str, *, line: int | None = None, field: str | None = None):
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        where = file if line is None else f"{file}:{line}"
        what = problem if field is None else f"{field}: {problem}"
        super().__init__(f"{where}: {what}")


class ConfigError(InputError):
    """A site configuration file or option is invalid."""


class SourceError(Day2AIError):
    """A telemetry backend failed (network, HTTP status, malformed answer)."""

    def __init__(self, backend: str, problem: str):
        self.backend = backend
        self.problem = problem
        super().__init__(f"{backend}: {problem}")


class SourceUnavailable(SourceError):
    """A backend could not be reached or kept failing after retries."""


class KnowledgeError(Day2AIError):
    """The knowledge base (index, embeddings, documents) failed."""


class InvestigationError(Day2AIError):
    """An investigator could not produce a report."""


class BudgetExceeded(InvestigationError):
    """A step, token or time budget of an investigation ran out."""


class ModelError(InvestigationError):
    """The chat model failed or answered in a way that cannot be used."""


class ApprovalRequired(Day2AIError):
    """An action that would change a system was attempted without an approval."""
