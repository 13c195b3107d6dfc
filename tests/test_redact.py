"""Redaction corpus: every secret shape is removed, ordinary text is left byte-for-byte intact."""
# ruff: noqa: E501

from __future__ import annotations

import pytest

from day2ai.redact import find_secrets, redact

# (text, the secret part that must disappear). Fake values built to have the real shapes.
SECRETS: list[tuple[str, str]] = [
    ("aws key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("session ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ", "IQoJb3JpZ2luX2VjEJr"),
    ("Authorization: Bearer abc123.def456-ghi789_jkl", "abc123.def456-ghi789_jkl"),
    ("curl -H 'authorization: token ghp_1234567890abcdefghijABCDEFGHIJ123456'", "ghp_1234567890abcdef"),
    ("header Authorization=Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw"),
    ("proxy-authorization: Digest qwe9812hjsd", "qwe9812hjsd"),
    ("postgres://app:s3cr3tP4ss@db.internal:5432/orders", "s3cr3tP4ss"),
    ("mongodb+srv://admin:Mong0Pass!@cluster0.abcde.mongodb.net/test", "Mong0Pass!"),
    ("redis://:r3disPassw0rd@cache:6379/0", "r3disPassw0rd"),
    ("amqp://guest:rabbitpw99@mq:5672/vhost", "rabbitpw99"),
    ("fetch https://bob:hunter2hunter2@internal.example.com/api failed", "hunter2hunter2"),
    ("Server=tcp:sql.example.net;Database=app;User Id=sa;Password=P@ssw0rd!2024;", "P@ssw0rd!2024"),
    ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
     "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
    ("https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sig=AbCdEf123456%2Bxyz%3D&se=2026", "AbCdEf123456"),
    ("jdbc:mysql://db:3306/shop?user=shop&password=jdbcSecret77", "jdbcSecret77"),
    ("GET /callback?code=1&access_token=at-9f8e7d6c5b4a&state=x", "at-9f8e7d6c5b4a"),
    ('{"client_secret": "cs-01234abcdEFGH", "client_id": "web"}', "cs-01234abcdEFGH"),
    ("DB_PASSWORD=correcthorsebatterystaple", "correcthorsebatterystaple"),
    ("password: hunter2", "hunter2"),
    ("api_key=5f4dcc3b5aa765d61d8327deb882cf99", "5f4dcc3b5aa765d61d8327deb882cf99"),
    ("x-api-key: k_live_998877665544", "k_live_998877665544"),
    ("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789"),
    ("using key sk-abcdefghijklmnopqrstuvwxyz012345 for calls", "sk-abcdefghijklmnopqrstuvwxyz012345"),
    ("stripe sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "sk_live_51HxYzAbCdEfGhIjKlMnOpQr"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF", "github_pat_11ABCDEFG0123456789"),
    ("gitlab glpat-xYz12345678901234567", "glpat-xYz12345678901234567"),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp", "xoxb-123456789012"),
    ("notify https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "T00000000/B00000000"),
    ("google AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("oauth ya29.a0AfH6SMBx1234567890abcdefghij", "ya29.a0AfH6SMBx1234567890abcdefghij"),
    ("npm_abcdefghijklmnopqrstuvwxyz0123456789 in .npmrc", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH token", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"),
    ("SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg", "SG.abcdefghijklmnopqrstuv"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nabcdef\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7bq"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
     "b3BlbnNzaC1rZXktdjEAAAA"),
    ('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq\\n-----END PRIVATE KEY-----\\n"}',
     "MIIEvQIBADANBgkq"),
    ("secret: 'yaml-quoted-secret value'", "yaml-quoted-secret value"),
    ("docker login: \"auth_token\": \"ZG9ja2VyOnBhc3N3b3Jk\"", "ZG9ja2VyOnBhc3N3b3Jk"),
    ("shpat_0123456789abcdef0123456789abcdef", "shpat_0123456789abcdef0123456789abcdef"),
    ("dop_v1_" + "a" * 64, "a" * 64),
]

ORDINARY: list[str] = [
    "request 3f2b8c1e-9a4d-4c6b-8e2f-1a2b3c4d5e6f completed in 120ms",
    "deployed commit 9fceb02d0ae598e95dc970b74767f19372d61af8 to payments",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "2026-11-26T10:15:30.123Z ERROR checkout: upstream timeout after 30s",
    "GET https://api.example.com/v1/orders?page=2&limit=50 returned 503",
    "connecting to postgres://db.internal:5432/orders (no credentials in url)",
    "ssh://git@github.com/org/repo.git",
    "the token budget was exceeded; max_tokens=512 token_count=100",
    "password reset requested for user 1234",
    "user alice@example.com logged in from 10.0.3.17",
    "pod payments-7d9f8b6c5-x2k4q restarted (OOMKilled), exit code 137",
    "connection pool exhausted: active=50 idle=0 waiting=112",
    "Bearer of bad news: the cache is cold",
    "hikari pool stats total=20 active=20 pending=35",
    "sha256:4c1e0e2b3f6a7d8c9b0a1e2f3d4c5b6a7e8f9d0c1b2a3e4f5d6c7b8a9e0f1d2c",
    "tokens_in=2048 tokens_out=128 cost_usd=0.0021",
    "https://grafana.example.com/d/abc123/checkout?orgId=1&from=now-1h",
    "kubectl rollout undo deployment/payments -n prod",
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_secret_is_removed(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "[REDACTED:" in out
    assert find_secrets(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_intact(text: str) -> None:
    assert redact(text) == text
    assert find_secrets(text) == []


def test_corpus_is_large_enough() -> None:
    assert len(SECRETS) >= 30
    assert len({kind for t, _ in SECRETS for kind in find_secrets(t)}) >= 20  # many distinct rules


@pytest.mark.parametrize(("text", "secret"), SECRETS[:12])
def test_redaction_is_idempotent(text: str, secret: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_context_around_secret_survives() -> None:
    out = redact("ERROR payments: cannot connect postgres://app:pw12345@db:5432/x trace=4bf92f3577b34da6")
    assert out.startswith("ERROR payments: cannot connect postgres://app:")
    assert "@db:5432/x trace=4bf92f3577b34da6" in out
    assert "pw12345" not in out


def test_secret_embedded_in_longer_text_many_times() -> None:
    text = "\n".join(f"line {i} password={i}abc{i} ok" for i in range(50))
    out = redact(text)
    assert all(f"={i}abc{i}" not in out for i in range(50))
    assert out.count("ok") == 50
