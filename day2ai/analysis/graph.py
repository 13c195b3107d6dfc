"""The call graph (caller -> callee) from topology, spans or log messages naming peers."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from pydantic import BaseModel, Field

from day2ai.models import ComponentKind


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
