"""The HTTP layer against a local misbehaving server: retries, caps, limits, and no leaked secret."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from pydantic import SecretStr

from day2ai.errors import SourceError, SourceUnavailable
from day2ai.sources.http import HttpAuth, HttpClient, HttpSettings, Scrubber, parse_retry_after
from day2ai.sources.kubernetes import KubernetesSource
from tests.sources.servers.flaky import Behaviour, FlakyServer

TOKEN = "s3cr3t-bearer-token-value"
PASSWORD = "hunter2-basic-password"


def client(url: str, **kw: object) -> HttpClient:
    settings: dict[str, object] = {
        "url": url,
        "retries": 2,
        "backoff": 0.01,
        "read_timeout": 5,
        "auth": HttpAuth(bearer_token=SecretStr(TOKEN)),
    }
    settings.update(kw)
    return HttpClient("testbackend", HttpSettings(**settings))  # type: ignore[arg-type]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and PASSWORD not in text


async def test_timeouts_are_retried_then_reported_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FlakyServer({"/slow": Behaviour("hang", hang_seconds=2)}) as srv:
        c = client(srv.url, read_timeout=0.2, retries=1)
        with pytest.raises(SourceUnavailable, match="timed out") as info:
            await c.get_json("/slow")
        await c.aclose()
        assert len(srv.hits("/slow")) == 2
    assert info.value.backend == "testbackend"
    assert_no_secret(str(info.value), caplog.text)


async def test_500s_are_retried_and_named(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FlakyServer({"/": Behaviour("error500")}) as srv, client(srv.url, retries=2) as c:
        with pytest.raises(SourceUnavailable, match="HTTP 500: internal failure"):
            await c.get_json("/api/v1/query_range", {"query": "up"})
        assert len(srv.hits("/api")) == 3
        assert all(h.headers["authorization"] == f"Bearer {TOKEN}" for h in srv.hits("/api"))
    assert "retry" in caplog.text
    assert_no_secret(caplog.text)


async def test_429_honours_retry_after() -> None:
    routes = {"/q": Behaviour("throttle", body={"ok": True}, count=1, retry_after="1")}
    async with FlakyServer(routes) as srv, client(srv.url, backoff=0.0) as c:
        assert await c.get_json("/q") == {"ok": True}
        first, second = srv.hits("/q")
    assert second.at - first.at >= 0.9  # waited what the server asked, not the 0 s backoff


async def test_retry_after_is_capped() -> None:
    routes = {"/q": Behaviour("throttle", body={"ok": 1}, count=2, retry_after="3600")}
    async with FlakyServer(routes) as srv, client(srv.url, max_retry_after=0.05) as c:
        started = time.monotonic()
        assert await c.get_json("/q") == {"ok": 1}
        assert time.monotonic() - started < 600  # the hour-long Retry-After was not obeyed


async def test_retry_after_that_never_ends_is_unavailable() -> None:
    routes = {"/q": Behaviour("throttle", body={}, count=99, retry_after="0")}
    async with FlakyServer(routes) as srv, client(srv.url, retries=3) as c:
        with pytest.raises(SourceUnavailable, match="HTTP 429"):
            await c.get_json("/q")
        assert len(srv.hits("/q")) == 4


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


async def test_truncated_json_is_a_source_error() -> None:
    routes = {"/": Behaviour("truncated", body={"status": "success", "data": {"result": list(range(50))}})}
    async with FlakyServer(routes) as srv, client(srv.url) as c:
        with pytest.raises(SourceError, match="malformed JSON") as info:
            await c.get_json("/api/v1/query_range")
        assert len(srv.hits("/")) == 1  # a bad answer is not retried
    assert not isinstance(info.value, SourceUnavailable)


async def test_a_50mb_body_is_cut_off_early() -> None:
    async with FlakyServer({"/big": Behaviour("huge")}) as srv:
        async with client(srv.url, max_response_bytes=1_000_000) as c:
            with pytest.raises(SourceError, match="exceeds the cap of 1000000 bytes"):
                await c.get_json("/big")
        await _settle(srv, "/big")
        assert srv.sent_bytes["/big"] < 50 * 1024 * 1024 // 2  # the reader stopped long before the end


async def _settle(srv: FlakyServer, path: str) -> None:
    import asyncio

    for _ in range(50):
        before = srv.sent_bytes.get(path, 0)
        await asyncio.sleep(0.02)
        if srv.sent_bytes.get(path, 0) == before:
            return


async def test_declared_oversized_body_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(10**9)}, content=b"{}")

    c = HttpClient(
        "big", HttpSettings(url="http://x", max_response_bytes=1000), transport=httpx.MockTransport(handler)
    )
    with pytest.raises(SourceError, match="1000000000 bytes exceeds the cap"):
        await c.get_json("/")


async def test_endless_page_cursor_stops_at_the_pagination_limit() -> None:
    async with FlakyServer(
        {"/apis": Behaviour("endless_k8s"), "/api/": Behaviour("json", {"items": []})}
    ) as srv:
        k8s = KubernetesSource(client(srv.url, max_pages=7), namespaces=["shop"])
        with pytest.raises(SourceError, match="stopped after 7 pages") as info:
            await k8s.list_all("/apis/apps/v1/namespaces/shop/replicasets")
        assert len(srv.hits("/apis")) == 7
    assert "incomplete" in str(info.value)


async def test_error_bodies_echoing_credentials_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FlakyServer({"/": Behaviour("echo_auth")}) as srv:
        for auth in (
            HttpAuth(bearer_token=SecretStr(TOKEN)),
            HttpAuth(username="day2ai", password=SecretStr(PASSWORD)),
        ):
            async with client(srv.url, auth=auth) as c:
                with pytest.raises(SourceError) as info:
                    await c.get_json("/x")
            assert "<redacted>" in str(info.value)
            assert_no_secret(str(info.value), repr(info.value), caplog.text)
            basic = "ZGF5MmFpOmh1bnRlcjItYmFzaWMtcGFzc3dvcmQ="  # base64("day2ai:hunter2-basic-password")
            assert basic not in str(info.value)


async def test_overall_deadline_bounds_the_retries() -> None:
    async with FlakyServer({"/": Behaviour("hang", hang_seconds=5)}) as srv:
        async with client(srv.url, read_timeout=0.3, retries=10, deadline=0.8) as c:
            with pytest.raises(SourceUnavailable, match=r"deadline|timed out"):
                await c.get_json("/x")
        assert len(srv.hits("/")) < 10


async def test_401_names_the_credentials_without_showing_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": f"token {TOKEN} rejected"})

    c = HttpClient(
        "prometheus",
        HttpSettings(url="http://x", auth=HttpAuth(bearer_token=SecretStr(TOKEN))),
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(SourceUnavailable, match="check the credentials") as info:
        await c.get_json("/")
    assert_no_secret(str(info.value))


def test_secrets_are_never_in_settings_reprs() -> None:
    s = HttpSettings(
        url="http://x",
        auth=HttpAuth(bearer_token=SecretStr(TOKEN), username="u", password=SecretStr(PASSWORD)),
    )
    assert_no_secret(repr(s), str(s), s.model_dump_json())
    assert Scrubber([TOKEN])(f"a {TOKEN} b") == "a <redacted> b"


async def test_credential_headers_are_secrets_and_masked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": f"bad key {request.headers['x-api-key']}"})

    settings = HttpSettings(url="http://x/", headers={"X-API-Key": TOKEN, "X-Scope-OrgID": "shop"})
    assert settings.url == "http://x"
    assert settings.model_dump()["headers"] == {"X-API-Key": "**********", "X-Scope-OrgID": "shop"}
    c = HttpClient("es", settings, transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError, match="bad key <redacted>") as info:
        await c.get_json("/")
    assert_no_secret(str(info.value))
    with pytest.raises(ValueError, match="http:// or https://"):
        HttpSettings(url="prometheus:9090")


async def test_redirects_are_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "https://login.example/sso"})

    c = HttpClient("argocd", HttpSettings(url="http://x"), transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError, match="HTTP 302 redirect not followed"):
        await c.get_json("/api/v1/applications/a")
