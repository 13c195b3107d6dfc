"""The call graph (caller -> callee) from topology, spans or log messages naming peers."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel, Field

from day2ai.models import ComponentKind

_CACHE_SYSTEMS = ("redis", "memcache", "valkey", "keydb", "hazelcast", "ignite")
_DB_SYSTEMS = (
    "postgres",
    "pg",
    "mysql",
    "mariadb",
    "mongo",
    "cassandra",
    "scylla",
    "dynamo",
    "cockroach",
    "oracle",
    "mssql",
    "sqlserver",
    "sqlite",
    "db2",
    "couch",
    "elasticsearch",
    "opensearch",
    "clickhouse",
    "neo4j",
    "influx",
    "etcd",
    "spanner",
    "bigtable",
    "db",
    "database",
    "rds",
    "aurora",
)
_QUEUE_SYSTEMS = (
    "kafka",
    "rabbitmq",
    "rabbit",
    "amqp",
    "sqs",
    "sns",
    "pubsub",
    "nats",
    "pulsar",
    "kinesis",
    "activemq",
)
_ROLE_WORDS = frozenset(
    ("primary", "master", "replica", "main", "leader", "follower", "cluster", "server", "svc", "ro", "rw")
)
_NAME_PARTS = re.compile(r"[^a-z0-9]+")


def kind_from_system(system: str) -> ComponentKind | None:
    """The kind named by a ``db.system`` / ``messaging.system`` value (``redis`` -> cache...)."""
    low = system.lower()
    if any(low.startswith(c) for c in _CACHE_SYSTEMS) or low in ("cache",):
        return ComponentKind.CACHE
    if any(low.startswith(q) for q in _QUEUE_SYSTEMS) or low in ("queue", "mq"):
        return ComponentKind.QUEUE
    if any(low.startswith(d) for d in _DB_SYSTEMS) or "sql" in low:
        return ComponentKind.DATABASE
    return None


def infer_kind(name: str) -> ComponentKind | None:
    """A guess from naming conventions (``orders-db``, ``cart-redis``, ``api.stripe.com``); None if unsure."""
    low = name.lower()
    internal = low.endswith((".svc", ".local", ".internal", ".cluster")) or ".svc." in low
    if not internal and re.search(r"[a-z0-9-]\.[a-z]{2,}$", low):
        return ComponentKind.EXTERNAL  # a public host name
    parts = [p for p in _NAME_PARTS.split(low) if p]
    while len(parts) > 1 and (parts[-1] in _ROLE_WORDS or parts[-1].isdigit()):
        parts.pop()  # orders-db-primary, cart-redis-0
    if parts:
        if parts[-1] == "cache":
            return ComponentKind.CACHE
        return kind_from_system(parts[-1])
    return None


class CallGraph(BaseModel):
    """Directed caller -> callee edges, with where each edge was learnt."""

    edges: dict[str, dict[str, str]] = Field(default_factory=dict)  # caller -> callee -> origin
    kinds: dict[str, ComponentKind] = Field(default_factory=dict)

    def add(self, caller: str, callee: str, origin: str) -> None:
        if caller == callee:
            return
        self.edges.setdefault(caller, {}).setdefault(callee, origin)

    def add_all(self, pairs: Iterable[tuple[str, str]], origin: str) -> None:
        for a, b in pairs:
            self.add(a, b, origin)

    @property
    def nodes(self) -> set[str]:
        out = set(self.edges) | set(self.kinds)
        for callees in self.edges.values():
            out.update(callees)
        return out

    def complete_kinds(self, known: Mapping[str, ComponentKind] = {}) -> None:
        """Fill missing kinds from ``known`` (e.g. span ``db.system``), then from naming conventions."""
        for node in self.nodes:
            if node in self.kinds:
                continue
            kind = known.get(node) or infer_kind(node)
            if kind is not None:
                self.kinds[node] = kind

    def callees(self, node: str) -> list[str]:
        return list(self.edges.get(node, {}))

    def callers(self, node: str) -> list[str]:
        return [a for a, callees in self.edges.items() if node in callees]

    def downstream(self, node: str, max_hops: int = 4) -> dict[str, int]:
        """Transitive callees with their hop distance."""
        return self._bfs(node, self.callees, max_hops)

    def upstream(self, node: str, max_hops: int = 4) -> dict[str, int]:
        rev: dict[str, list[str]] = {}
        for a, callees in self.edges.items():
            for b in callees:
                rev.setdefault(b, []).append(a)
        return self._bfs(node, lambda n: rev.get(n, []), max_hops)

    @staticmethod
    def _bfs(node: str, step: Callable[[str], Iterable[str]], max_hops: int) -> dict[str, int]:
        seen: dict[str, int] = {}
        queue: deque[tuple[str, int]] = deque([(node, 0)])
        while queue:
            cur, d = queue.popleft()
            if d >= max_hops:
                continue
            for nxt in step(cur):
                if nxt != node and nxt not in seen:
                    seen[nxt] = d + 1
                    queue.append((nxt, d + 1))
        return seen

    def distances(self, max_hops: int = 3) -> dict[tuple[str, str], int]:
        """Undirected hop distances between nodes (for change proximity)."""
        adj: dict[str, set[str]] = {}
        for a, callees in self.edges.items():
            for b in callees:
                adj.setdefault(a, set()).add(b)
                adj.setdefault(b, set()).add(a)
        out: dict[tuple[str, str], int] = {}
        for n in adj:
            for m, d in self._bfs(n, lambda x: adj.get(x, set()), max_hops).items():
                out[(n, m)] = d
        return out
