"""Changes from GitHub: deployments (with their latest status) and releases of repositories.

``GET /repos/{owner}/{repo}/deployments`` gives ``deploy`` changes (the newest status, e.g.
``success``/``failure``, goes into the summary); ``GET /repos/{owner}/{repo}/releases`` gives
changes of ``release_kind`` (``other`` by default, since a release is not always deployed).
Lists are paged by the ``Link: <...>; rel="next"`` header, up to ``max_pages``; paging stops
early once items are older than the asked range (both lists come newest first).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from day2ai.models import ChangeKind
from day2ai.sources.base import Change, ChangeQuery
from day2ai.sources.http import HttpClient, expect
from day2ai.timeutil import parse_timestamp

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def next_link(link_header: str | None) -> str | None:
    m = _NEXT.search(link_header or "")
    return m.group(1) if m else None


def _ts(value: Any) -> float | None:
    try:
        return parse_timestamp(value) if value else None
    except ValueError:
        return None


class GitHubSource:
    """ChangesSource over the GitHub REST API (token auth)."""

    name = "github"

    def __init__(self, client: HttpClient, *, repos: Mapping[str, str], environment: str | None = None,
                 include_releases: bool = True, release_kind: ChangeKind = ChangeKind.OTHER,
                 max_statuses: int = 50):
        self.client = client
        self.repos = dict(repos)  # "owner/name" -> service
        self.environment = environment
        self.include_releases = include_releases
        self.release_kind = release_kind
        self.max_statuses = max_statuses

    async def paged(self, path: str, params: dict[str, Any], since: float | None,
                    time_key: str) -> list[dict[str, Any]]:
        """Items of a newest-first list, following Link headers until older than ``since``."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = {**params, "per_page": 100}
        for _page in range(self.client.settings.max_pages):
            if url is None:
                return items
            body, headers = await self.client.get_page(url, query)
            expect(self.client, isinstance(body, list), path, "expected a JSON list")
            page = [i for i in body if isinstance(i, dict)]
            items.extend(page)
            oldest = min((t for i in page if (t := _ts(i.get(time_key))) is not None), default=None)
            if not page or (since is not None and oldest is not None and oldest < since):
                return items
            url, query = self._same_host(next_link(headers.get("link")), path), None
        raise self.client.page_limit(path)

    def _same_host(self, url: str | None, path: str) -> str | None:
        """A next-page link, refused if it points at another host (it would get our token)."""
        if url is None or not url.startswith(("http://", "https://")):
            return url
        if httpx.URL(url).host != httpx.URL(self.client.settings.url).host:
            raise self.client.error(f"{path}: next-page link points at another host; not followed")
        return url

    async def _deployments(self, repo: str, service: str, query: ChangeQuery) -> list[Change]:
        params: dict[str, Any] = {"environment": self.environment} if self.environment else {}
        deps = await self.paged(f"/repos/{repo}/deployments", params, query.start, "created_at")
        deps = [d for d in deps if (t := _ts(d.get("created_at"))) is not None and query.contains(t)]
        deps.sort(key=lambda d: _ts(d.get("created_at")) or 0.0)
        out: list[Change] = []
        for i, dep in enumerate(deps):
            state = await self._state(repo, dep) if i < self.max_statuses else None
            ref = str(dep.get("ref") or dep.get("sha") or "")[:40]
            prev = str(deps[i - 1].get("ref") or deps[i - 1].get("sha") or "")[:40] if i > 0 else None
            desc = str(dep.get("description") or "").strip()
            out.append(Change(
                timestamp=_ts(dep.get("created_at")) or 0.0, service=service, kind=ChangeKind.DEPLOY,
                summary=f"{repo} deployment of {ref} to {dep.get('environment', '?')}"
                        + (f" ({state})" if state else "") + (f": {desc[:160]}" if desc else ""),
                version=ref or None, previous_version=prev,
                author=(dep.get("creator") or {}).get("login")))
        return out

    async def _state(self, repo: str, dep: dict[str, Any]) -> str | None:
        path = f"/repos/{repo}/deployments/{dep.get('id')}/statuses"
        body = await self.client.get_json(path, {"per_page": 1})
        expect(self.client, isinstance(body, list), path, "expected a JSON list")
        return str(body[0].get("state")) if body and isinstance(body[0], dict) else None

    async def _releases(self, repo: str, service: str, query: ChangeQuery) -> list[Change]:
        rels = await self.paged(f"/repos/{repo}/releases", {}, query.start, "published_at")
        rels = [r for r in rels if not r.get("draft") and (t := _ts(r.get("published_at"))) is not None
                and query.contains(t)]
        rels.sort(key=lambda r: _ts(r.get("published_at")) or 0.0)
        out: list[Change] = []
        for i, rel in enumerate(rels):
            tag = str(rel.get("tag_name") or "")
            title = str(rel.get("name") or tag)
            out.append(Change(
                timestamp=_ts(rel.get("published_at")) or 0.0, service=service, kind=self.release_kind,
                summary=f"{repo} release {title[:120]}" + (" (prerelease)" if rel.get("prerelease") else ""),
                version=tag or None, previous_version=str(rels[i - 1].get("tag_name")) if i > 0 else None,
                author=(rel.get("author") or {}).get("login")))
        return out

    async def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        found: list[Change] = []
        for repo, service in self.repos.items():
            if query.services is not None and service not in query.services:
                continue
            if query.kinds is None or ChangeKind.DEPLOY in query.kinds:
                found.extend(await self._deployments(repo, service, query))
            if self.include_releases and (query.kinds is None or self.release_kind in query.kinds):
                found.extend(await self._releases(repo, service, query))
        for ch in sorted(found, key=lambda c: c.timestamp):
            if query.kinds is None or ch.kind in query.kinds:
                yield ch
