"""A mined template as the miner keeps it (internal to :mod:`.miner`)."""

from __future__ import annotations

from day2ai.analysis.logmining.masking import render_template


class Cluster:
    """One template: its skeleton tokens, run texts, open positions, counts and merge alias."""

    __slots__ = (
        "alias",
        "alive",
        "count",
        "first_line",
        "id",
        "key",
        "last_line",
        "number",
        "open",
        "rendered",
        "runs",
        "tokens",
    )

    def __init__(
        self, number: int, tokens: list[str], runs: list[str | None], key: tuple[object, ...], line: int
    ) -> None:
        self.number = number
        self.id = f"T{number}"
        self.alias: Cluster | None = None
        self.tokens = tokens
        # Text of each variable-run slot while every member agreed on it (None: it varies).
        self.runs = runs
        # Positions generalised by merging: they accept any word the pattern covers. Wildcards
        # that come from masking stay closed: they only accept masked variables.
        self.open = [False] * len(tokens)
        self.key = key
        self.count = 0
        self.first_line = line
        self.last_line = line
        self.alive = True
        self.rendered: str | None = None

    def text(self) -> str:
        if self.rendered is None:
            self.rendered = render_template(
                [run if run is not None else token for token, run in zip(self.tokens, self.runs, strict=True)]
            )
        return self.rendered


def live(cluster: Cluster) -> Cluster | None:
    """The template ``cluster`` was merged into (or itself), if it was not evicted."""
    while cluster.alias is not None:
        cluster = cluster.alias
    return cluster if cluster.alive else None


def resolve(cluster: Cluster) -> Cluster:
    """The template ``cluster`` was merged into (or itself), evicted or not."""
    while cluster.alias is not None:
        cluster = cluster.alias
    return cluster
