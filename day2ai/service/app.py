"""The HTTP service of ``day2ai serve`` (cli-contract.md): an ASGI app built with Starlette.

Endpoints are thin: they validate input, hand the work to :class:`~day2ai.service.runs.RunManager`
and the library, and answer JSON (events as server-sent events). Every endpoint but ``/healthz``
requires ``Authorization: Bearer <token>`` when a token is configured (``DAY2AI_API_TOKEN``).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from day2ai.errors import InputError
from day2ai.service.alertmanager import DEFAULT_SERVICE_LABELS, alert_incidents, parse_payload
from day2ai.service.paths import resolve_under
from day2ai.service.runs import Run, RunManager
from day2ai.sources.config import SiteConfig, close_sources, live_incident, load_site_config, parse_duration

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 4 * 1024 * 1024


class ServiceSettings(BaseModel):
    """What ``day2ai serve`` is started with."""

    model_config = ConfigDict(frozen=True)

    token: str | None = Field(default=None, repr=False, description="bearer token; None = no auth")
    bundle_root: Path | None = None
    config: Path | None = Field(default=None, description="site YAML of the live backends")
    notify_url: str | None = None
    runbook_base_url: str | None = None
    min_confidence: float = 0.15
    alert_lookback: str = "1h"
    service_labels: tuple[str, ...] = DEFAULT_SERVICE_LABELS
    concurrency: int = Field(default=4, ge=1)
    model: str | None = None
    base_url: str | None = None


class BearerAuth:
    """Pure ASGI middleware: 401 without ``Authorization: Bearer <token>`` (``/healthz`` is open)."""

    def __init__(self, app: ASGIApp, token: str | None, open_paths: tuple[str, ...] = ("/healthz",)):
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.expected is None or scope["type"] != "http" or scope.get("path") in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"error": "unauthorized: send Authorization: Bearer <DAY2AI_API_TOKEN>"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise InputError(f"request body larger than {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"request body larger than {MAX_BODY} bytes")
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"request body is not JSON: {exc}") from None


def failure_message(run: Run) -> dict[str, Any]:
    """The Slack message posted when an investigation fails."""
    from day2ai.render.slack import fit

    text = fit(f"day2ai: investigation {run.id} ({run.label}) failed: {run.error}", 2900)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


class Service:
    """The state behind the endpoints: settings, the site's backends, the runs."""

    def __init__(self, settings: ServiceSettings, *, site: SiteConfig | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.site = site if site is not None else (load_site_config(settings.config) if settings.config else None)
        self.transport = transport  # for the backends' and the notification's HTTP (tests)
        self.lookback = parse_duration(settings.alert_lookback)
        options = {k: v for k, v in (("model", settings.model), ("base_url", settings.base_url)) if v}
        self.runs = RunManager(on_end=self.notify, concurrency=settings.concurrency, options=options)

    async def notify(self, run: Run) -> None:
        url = self.settings.notify_url
        if not url:
            return
        if run.report is not None:
            message = run.report.to_slack(min_confidence=self.settings.min_confidence,
                                          runbook_base_url=self.settings.runbook_base_url)
        else:
            message = failure_message(run)
        async with httpx.AsyncClient(timeout=10.0, transport=self.transport) as client:
            try:
                response = await client.post(url, json=message)
            except httpx.HTTPError as exc:
                log.warning("notification of %s to the notify URL failed: %s", run.id, type(exc).__name__)
                return
        if response.status_code >= 300:
            log.warning("notification of %s: the notify URL answered HTTP %s", run.id, response.status_code)

    def start_live(self, incident: Any, label: str, key: str | None = None) -> Run:
        if self.site is None:
            raise InputError("live investigations need the service started with --config SITE.yaml")
        if key is not None and (known := self.runs.by_key(key)) is not None:
            return known
        sources = self.site.build_sources(transport=self.transport)
        return self.runs.start((incident, sources), label=label, key=key, cleanup=lambda: close_sources(sources))

    # ------------------------------------------------------------ endpoints

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def create(self, request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise InputError('expected a JSON object: {"bundle": "relative/path"} or {"service": ..., "since": ...}')
        if body.get("bundle") is not None and body.get("service") is not None:
            raise InputError('give either "bundle" or "service", not both')
        if body.get("bundle") is not None:
            path = resolve_under(self.settings.bundle_root, body["bundle"])
            run = self.runs.start(path, label=f"bundle {body['bundle']}")
        elif body.get("service") is not None:
            service = str(body["service"])
            run = self.start_live(live_incident(service, body.get("since", "1h")), label=f"service {service}")
        else:
            raise InputError('missing "bundle" (a path under --bundle-root) or "service" (with --config)')
        return JSONResponse({"id": run.id, "status": run.status}, status_code=202)

    async def list_runs(self, request: Request) -> Response:
        return JSONResponse({"investigations": [{"id": r.id, "status": r.status, "label": r.label}
                                                for r in self.runs.list()]})

    def _run(self, request: Request) -> Run | Response:
        run = self.runs.get(request.path_params["run_id"])
        return run if run is not None else _error("no such investigation", 404)

    async def show(self, request: Request) -> Response:
        run = self._run(request)
        return run if isinstance(run, Response) else JSONResponse(run.summary())

    async def events(self, request: Request) -> Response:
        run = self._run(request)
        if isinstance(run, Response):
            return run

        async def source() -> AsyncIterator[dict[str, Any]]:
            async for event in self.runs.events(run):
                yield {"event": event["type"], "id": str(event["seq"]), "data": json.dumps(event)}

        return EventSourceResponse(source(), ping=15)

    async def alertmanager(self, request: Request) -> Response:
        payload = parse_payload(await _json_body(request))
        incidents, skipped = alert_incidents(payload, lookback=self.lookback,
                                             service_labels=self.settings.service_labels)
        started = []
        for item in incidents:
            alert = item.incident.alert
            run = self.start_live(item.incident, label=f"alert {alert.name if alert else '?'} on {item.service}",
                                  key=item.key)
            started.append({"id": run.id, "status": run.status, "service": item.service,
                            "incident_id": item.incident.id})
        return JSONResponse({"ids": [s["id"] for s in started], "investigations": started,
                             "skipped": [s.model_dump() for s in skipped]}, status_code=202)


def _guard(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except InputError as exc:
            return _error(str(exc), 400)

    return endpoint


def create_app(settings: ServiceSettings | None = None, *, site: SiteConfig | None = None,
               transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    """The ASGI app. ``site`` overrides ``settings.config``; ``transport`` carries the backends' and the
    notification's HTTP (tests). ``app.state.service`` is the :class:`Service`."""
    service = Service(settings or ServiceSettings(), site=site, transport=transport)
    g = _guard
    routes = [
        Route("/healthz", g(service.healthz), methods=["GET"]),
        Route("/v1/investigations", g(service.create), methods=["POST"]),
        Route("/v1/investigations", g(service.list_runs), methods=["GET"]),
        Route("/v1/investigations/{run_id}", g(service.show), methods=["GET"]),
        Route("/v1/investigations/{run_id}/events", g(service.events), methods=["GET"]),
        Route("/v1/alertmanager", g(service.alertmanager), methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await service.runs.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = service
    app.add_middleware(BearerAuth, token=settings.token if settings else None)
    return app
