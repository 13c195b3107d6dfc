"""Random service topologies: entry services, mid tiers, databases, caches, queues, external APIs.

Names are drawn from realistic pools, never in an order that says anything about the fault.
The call graph is a DAG listed in topological order (callers before callees).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ENTRY_NAMES = (
    "frontend",
    "api-gateway",
    "web",
    "mobile-bff",
    "storefront",
    "partner-api",
    "admin-portal",
    "graphql-gateway",
    "edge-proxy",
    "public-api",
)
MID_NAMES = (
    "checkout",
    "cart",
    "payments",
    "orders",
    "inventory",
    "catalog",
    "search",
    "recommendations",
    "shipping",
    "users",
    "auth",
    "notifications",
    "pricing",
    "reviews",
    "ads",
    "currency",
    "ledger",
    "billing",
    "fraud-check",
    "accounts",
    "profile",
    "wishlist",
    "promotions",
    "tax",
    "invoicing",
    "fulfillment",
    "returns",
    "loyalty",
    "media",
    "geo",
    "session",
    "feature-store",
    "quotes",
    "subscriptions",
    "identity",
    "risk-engine",
    "availability",
    "bookings",
    "messaging",
    "audit",
)
WORKER_NAMES = (
    "email-worker",
    "order-processor",
    "analytics-consumer",
    "webhook-dispatcher",
    "export-worker",
    "indexer",
    "thumbnailer",
    "settlement-worker",
)
DB_ENGINES = (("postgres", 5432), ("mysql", 3306), ("mongodb", 27017))
CACHE_ENGINES = (("redis", 6379), ("memcached", 11211))
QUEUE_ENGINES = (("kafka", 9092), ("rabbitmq", 5672))
EXTERNALS = (
    "api.stripe.com",
    "api.sendgrid.com",
    "api.twilio.com",
    "maps.googleapis.com",
    "s3.amazonaws.com",
    "api.paypal.com",
    "hooks.slack.com",
    "api.segment.io",
    "login.auth0.com",
    "api.shippo.com",
    "api.exchangerate.host",
    "api.taxjar.com",
    "api.adyen.com",
    "fcm.googleapis.com",
)
RUNTIMES = ("java", "go", "python", "node")

RESOURCE_WORDS = (
    "orders",
    "items",
    "users",
    "products",
    "sessions",
    "payments",
    "quotes",
    "events",
    "carts",
    "accounts",
    "invoices",
    "shipments",
    "tokens",
    "prices",
    "reviews",
)


@dataclass
class Component:
    name: str
    kind: str  # service | database | cache | queue | external
    role: str  # entry | mid | worker | dependency
    runtime: str = "go"
    engine: str = ""
    port: int = 8080
    protocol: str = "http"  # http | grpc
    telemetry: bool = True
    volume: bool = False
    replicas: int = 2
    operations: tuple[str, ...] = ()
    consumes: str | None = None


@dataclass
class Edge:
    src: str
    dst: str
    calls: float  # mean calls per request of src
    prop: float  # chance a failed call fails the caller's request
    timeout: float  # seconds
    lag: int  # ticks before the caller feels a change at the callee
    tls: bool
    operation: str
    low_timeout: float = 0.0  # a client timeout lowered by a config change ...
    low_from: int = 1 << 30  # ... from this tick on

    def timeout_at(self, k: int) -> float:
        return self.low_timeout if k >= self.low_from else self.timeout


@dataclass
class Topology:
    components: list[Component]
    edges: list[Edge]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {c.name: i for i, c in enumerate(self.components)}

    def get(self, name: str) -> Component:
        return self.components[self.index[name]]

    def out_edges(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.src == name]

    def in_edges(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == name]

    def ancestors(self, name: str) -> list[str]:
        seen: list[str] = []
        todo = [e.src for e in self.in_edges(name)]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.append(n)
                todo.extend(e.src for e in self.in_edges(n))
        return seen

    def entries(self) -> list[str]:
        return [c.name for c in self.components if c.role == "entry"]


_SHAPE_PARAMS: dict[str, dict[str, tuple[float, float]]] = {
    # entries, tiers, fan-out, cross-edge chance, dependency share, worker share
    "layered": {
        "entries": (1, 2),
        "tiers": (2, 3),
        "fan": (2, 3),
        "cross": (0.05, 0.15),
        "deps": (0.3, 0.4),
        "workers": (0, 0.05),
    },
    "gateway_fanout": {
        "entries": (1, 1),
        "tiers": (1, 2),
        "fan": (4, 8),
        "cross": (0.0, 0.1),
        "deps": (0.35, 0.45),
        "workers": (0, 0.05),
    },
    "deep_chain": {
        "entries": (1, 2),
        "tiers": (4, 6),
        "fan": (1, 2),
        "cross": (0.05, 0.1),
        "deps": (0.25, 0.35),
        "workers": (0, 0.05),
    },
    "mesh": {
        "entries": (1, 2),
        "tiers": (2, 4),
        "fan": (2, 4),
        "cross": (0.25, 0.4),
        "deps": (0.25, 0.35),
        "workers": (0, 0.05),
    },
    "event_driven": {
        "entries": (1, 2),
        "tiers": (2, 3),
        "fan": (2, 3),
        "cross": (0.05, 0.15),
        "deps": (0.3, 0.4),
        "workers": (0.1, 0.2),
    },
    "multi_entry": {
        "entries": (3, 4),
        "tiers": (2, 3),
        "fan": (2, 4),
        "cross": (0.1, 0.2),
        "deps": (0.3, 0.4),
        "workers": (0, 0.1),
    },
}


def _ops_for(rng: np.random.Generator, name: str, role: str, protocol: str) -> tuple[str, ...]:
    words = rng.choice(RESOURCE_WORDS, size=3, replace=False)
    if role == "entry":
        return (*tuple(f"{m} /api/{w}" for m, w in zip(("GET", "POST", "GET"), words, strict=True)), "GET /")
    if protocol == "grpc":
        svc = "".join(p.capitalize() for p in name.split("-")) + "Service"
        verbs = ("Get", "List", "Create", "Update")
        return tuple(f"{name.replace('-', '')}.{svc}/{verbs[i]}{w.capitalize()}" for i, w in enumerate(words))
    return (f"GET /v1/{words[0]}/{{id}}", f"POST /v1/{words[1]}", f"GET /v1/{words[2]}")


def _make_service(rng: np.random.Generator, name: str, role: str) -> Component:
    protocol = "grpc" if role == "mid" and rng.random() < 0.35 else "http"
    return Component(
        name=name,
        kind="service",
        role=role,
        runtime=str(rng.choice(RUNTIMES, p=[0.35, 0.3, 0.2, 0.15])),
        port=int(rng.choice([8080, 8080, 3000, 5000, 50051 if protocol == "grpc" else 8000])),
        protocol=protocol,
        volume=bool(rng.random() < 0.25),
        replicas=int(rng.integers(2, 5)) if role == "entry" else int(rng.integers(1, 4)),
        operations=_ops_for(rng, name, role, protocol),
    )


def _make_dependency(rng: np.random.Generator, kind: str, owner: str, used: set[str]) -> Component:
    if kind == "external":
        free = [x for x in EXTERNALS if x not in used]
        name = str(rng.choice(free)) if free else f"api.partner{len(used)}.com"
        return Component(
            name=name,
            kind="external",
            role="dependency",
            port=443,
            telemetry=False,
            replicas=0,
            operations=("POST /v1/request",),
        )
    engines = {"database": DB_ENGINES, "cache": CACHE_ENGINES, "queue": QUEUE_ENGINES}[kind]
    engine, port = engines[int(rng.integers(len(engines)))]
    suffix = {
        "database": ("db",),
        "cache": ("redis" if engine == "redis" else "cache",),
        "queue": ("queue", "events"),
    }[kind]
    name = f"{owner}-{suffix[int(rng.integers(len(suffix)))]}"
    if name in used:
        name = f"{owner}-{engine}"
    if name in used:
        name = f"{name}-{len(used)}"
    managed = kind == "database" and rng.random() < 0.25
    return Component(
        name=name,
        kind=kind,
        role="dependency",
        engine=engine,
        port=port,
        telemetry=not managed and rng.random() < 0.85,
        volume=kind in ("database", "queue"),
        replicas=1 if kind != "queue" else int(rng.integers(1, 4)),
        operations=(),
    )


def build_topology(rng: np.random.Generator, shape: str, n: int) -> Topology:
    """A DAG of about ``n`` components of the given shape (see ``spec.SHAPES``)."""
    p = {k: float(rng.uniform(*v)) for k, v in _SHAPE_PARAMS[shape].items()}
    n_entries = max(1, min(round(p["entries"]), len(ENTRY_NAMES)))
    n_deps = max(3, round(n * p["deps"]))
    n_workers = round(n * p["workers"]) if shape == "event_driven" or rng.random() < 0.3 else 0
    n_mid = max(2, n - n_entries - n_deps - n_workers)
    tiers = max(1, round(p["tiers"]))

    entries = [_make_service(rng, str(x), "entry") for x in rng.choice(ENTRY_NAMES, n_entries, replace=False)]
    mids = [
        _make_service(rng, str(x), "mid")
        for x in rng.choice(MID_NAMES, min(n_mid, len(MID_NAMES)), replace=False)
    ]
    tier_of = {m.name: int(rng.integers(tiers)) for m in mids}
    layers: list[list[Component]] = [entries] + [
        [m for m in mids if tier_of[m.name] == t] for t in range(tiers)
    ]
    layers = [lay for lay in layers if lay]
    edges: list[Edge] = []
    comps: list[Component] = [c for lay in layers for c in lay]

    def add_edge(src: Component, dst: Component) -> None:
        if src.name == dst.name or any(e.src == src.name and e.dst == dst.name for e in edges):
            return
        calls = float(rng.choice([0.2, 0.3, 0.5, 0.7, 1.0, 1.0, 1.0, 1.5]))
        if dst.kind in ("database", "cache"):
            calls = float(rng.choice([0.5, 1.0, 1.0, 2.0, 3.0]))
        op = dst.operations[int(rng.integers(len(dst.operations)))] if dst.operations else ""
        edges.append(
            Edge(
                src.name,
                dst.name,
                calls,
                float(rng.uniform(0.4, 0.95)),
                float(rng.choice([1.0, 2.0, 3.0, 5.0, 10.0, 30.0])),
                int(rng.integers(0, 2)),
                bool(dst.kind == "external" or rng.random() < 0.5),
                op,
            )
        )

    for li in range(1, len(layers)):
        for callee in layers[li]:  # everyone gets at least one caller from the layer above
            add_edge(layers[li - 1][int(rng.integers(len(layers[li - 1])))], callee)
        for caller in layers[li - 1]:
            k = int(rng.integers(1, round(p["fan"]) + 1))
            for j in rng.choice(len(layers[li]), size=min(k, len(layers[li])), replace=False):
                add_edge(caller, layers[li][int(j)])
    flat_mid = [c for lay in layers[1:] for c in lay]
    for a_i, a in enumerate(flat_mid):  # cross edges go "down" the list only, which keeps a DAG
        for b in flat_mid[a_i + 1 :]:
            if tier_of[b.name] > tier_of[a.name] and rng.random() < p["cross"] / 2:
                add_edge(a, b)

    used = {c.name for c in comps}
    deps: list[Component] = []
    owners = list(mids) or entries
    kinds = ["database", "cache", "external", "queue" if n_workers else "database"]
    for i in range(n_deps):
        kind = (
            kinds[i % len(kinds)]
            if i < len(kinds)
            else str(
                rng.choice(
                    ["database", "cache", "external", "queue"]
                    if n_workers
                    else ["database", "cache", "external"],
                    p=[0.4, 0.2, 0.2, 0.2] if n_workers else [0.45, 0.25, 0.3],
                )
            )
        )
        owner = owners[int(rng.integers(len(owners)))]
        dep = _make_dependency(rng, kind, owner.name, used)
        used.add(dep.name)
        deps.append(dep)
        add_edge(owner, dep)
        extra = int(rng.integers(0, 3)) if kind in ("external", "cache", "queue") else int(rng.random() < 0.3)
        for j in rng.choice(len(owners), size=min(extra, len(owners)), replace=False):
            add_edge(owners[int(j)], dep)
    comps.extend(deps)
    queues = [d for d in deps if d.kind == "queue"]
    for i in range(n_workers if queues else 0):
        name = WORKER_NAMES[i % len(WORKER_NAMES)] + ("" if i < len(WORKER_NAMES) else f"-{i}")
        w = _make_service(rng, name, "worker")
        w.consumes = queues[i % len(queues)].name
        comps.append(w)
        targets = [d for d in deps if d.kind in ("database", "external", "cache")] or deps
        for j in rng.choice(len(targets), size=min(2, len(targets)), replace=False):
            add_edge(w, targets[int(j)])
    return Topology(components=comps, edges=edges)


def has_pool(topo: Topology, name: str) -> bool:
    return any(topo.get(e.dst).kind == "database" for e in topo.out_edges(name))


def topological_order(topo: Topology) -> list[str]:
    """Callers before callees (queue consumers after their queue)."""
    indeg = {c.name: 0 for c in topo.components}
    for e in topo.edges:
        indeg[e.dst] += 1
    for c in topo.components:
        if c.consumes:
            indeg[c.name] += 1
    order: list[str] = []
    ready = [c.name for c in topo.components if indeg[c.name] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        nexts = [e.dst for e in topo.out_edges(n)] + [c.name for c in topo.components if c.consumes == n]
        for d in nexts:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    return order
