"""Changes from Argo CD: the sync history of applications (``/api/v1/applications/<name>``).

Each ``status.history`` entry is a ``deploy`` change at ``deployedAt`` (version = the git
revision, previous version = the entry before). Applications map to services by name unless
the site configures a mapping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from day2ai.models import ChangeKind
from day2ai.sources.base import Change, ChangeQuery
from day2ai.sources.http import HttpClient, expect
from day2ai.timeutil import parse_timestamp


def _revision(entry: dict[str, Any]) -> str | None:
    rev = entry.get("revision") or next(iter(entry.get("revisions") or []), None)
    return str(rev)[:12] if rev else None


def parse_history(app: dict[str, Any], service: str) -> list[Change]:
    """Deploy changes from one Application object."""
    name = str((app.get("metadata") or {}).get("name") or service)
    history = [h for h in (app.get("status") or {}).get("history") or [] if isinstance(h, dict)]
    history.sort(key=lambda h: int(h.get("id") or 0))
    out: list[Change] = []
    for i, entry in enumerate(history):
        when = entry.get("deployedAt") or entry.get("deployStartedAt")
        if not when:
            continue
        try:
            ts = parse_timestamp(when)
        except ValueError:
            continue
        rev = _revision(entry)
        prev = _revision(history[i - 1]) if i > 0 else None
        initiated = entry.get("initiatedBy") or {}
        author = initiated.get("username") or ("automated" if initiated.get("automated") else None)
        repo = (entry.get("source") or {}).get("repoURL")
        out.append(Change(timestamp=ts, service=service, kind=ChangeKind.DEPLOY,
                          summary=f"argocd app {name} synced to {rev}" + (f" from {repo}" if repo else ""),
                          version=rev, previous_version=prev, author=author))
    return out


class ArgoCDSource:
    """ChangesSource over the Argo CD API (bearer token auth)."""

    name = "argocd"

    def __init__(self, client: HttpClient, *, applications: Sequence[str] | Mapping[str, str]):
        self.client = client
        apps = applications if isinstance(applications, Mapping) else {a: a for a in applications}
        self.applications: dict[str, str] = dict(apps)  # app name -> service

    async def application(self, name: str) -> dict[str, Any]:
        path = f"/api/v1/applications/{name}"
        body = await self.client.get_json(path)
        expect(self.client, isinstance(body, dict), path, "expected an Application object")
        return dict(body)

    async def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        found: list[Change] = []
        for app, service in self.applications.items():
            if query.services is not None and service not in query.services:
                continue
            found.extend(parse_history(await self.application(app), service))
        for ch in sorted(found, key=lambda c: c.timestamp):
            if query.contains(ch.timestamp) and (query.kinds is None or ch.kind in query.kinds):
                yield ch
