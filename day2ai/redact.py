"""Secret redaction: applied to every piece of text before it reaches a chat model.

Telemetry is untrusted and leaky: log lines carry connection strings, trace attributes carry
``Authorization`` headers, runbooks paste API keys. :func:`redact` replaces the secret part of each
known shape with ``[REDACTED:<kind>]`` and leaves everything else intact, so that ids the model
needs (UUIDs, trace ids, git SHAs, timestamps, URLs without credentials) survive. It is idempotent.

The rules are ordered: multi-line and prefix-specific shapes first, generic ``key=value`` last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_MARK = "[REDACTED:{}]"
_NOT_REDACTED = r"(?!\[REDACTED)"

# Key words that name a secret in ``key=value`` / ``key: value`` / ``"key": "value"`` shapes.
# Any prefix joined by ``_``/``-``/``.`` is allowed (DB_PASSWORD, aws_secret_access_key, x-api-key);
# no suffix is (so ``max_tokens=10`` and ``token_count=3`` are ordinary text).
_SECRET_KEYS = (
    r"password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?"
    r"|secret[_-]?access[_-]?key|client[_-]?secret|private[_-]?key|credentials?|account[_-]?key"
    r"|sharedaccesskey|sig|signature|session[_-]?key|encryption[_-]?key|webhook[_-]?url"
)


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    # Replacement: a function of the match (keeps the non-secret groups), or None for "whole match".
    keep: Callable[[re.Match[str]], str] | None = None


def _prefix_group(m: re.Match[str]) -> str:
    return m.group("pre")


def _rule(kind: str, regex: str, flags: int = 0, *, keep_prefix: bool = False) -> Rule:
    return Rule(kind, re.compile(regex, flags), _prefix_group if keep_prefix else None)


RULES: tuple[Rule, ...] = (
    # PEM private keys (also with escaped newlines, as inside JSON service-account files).
    _rule("private_key",
          r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
          r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
          re.DOTALL),
    _rule("private_key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[^\n\"]*"),  # truncated key
    # JSON Web Tokens (header.payload.signature; header and payload are base64url JSON).
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    # Credentials inside URLs: scheme://user:password@host  (postgres, mysql, mongodb+srv, redis, amqp...).
    _rule("url_password",
          r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)" + _NOT_REDACTED + r"[^\s@/]+(?=@)",
          keep_prefix=True),
    # Provider-specific token shapes.
    _rule("aws_access_key_id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    _rule("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    _rule("google_oauth_token", r"\bya29\.[0-9A-Za-z_-]{20,}"),
    _rule("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    _rule("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    _rule("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _rule("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
    _rule("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b"),
    _rule("openai_key", r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}"),
    _rule("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _rule("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{40,}"),
    _rule("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    _rule("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    _rule("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    _rule("shopify_token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    # HTTP authorization: "Authorization: Basic xxx", "Bearer xxx", "X-Api-Key: xxx".
    _rule("authorization",
          r"(?P<pre>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?>(?:[A-Za-z-]+\s+)?))" + _NOT_REDACTED
          + r"[^\s\"',;]+",
          re.IGNORECASE, keep_prefix=True),
    _rule("bearer_token", r"(?P<pre>\b(?:bearer|token)\s+)" + _NOT_REDACTED
          + r"(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{12,}=*", re.IGNORECASE, keep_prefix=True),
    _rule("basic_auth",
          r"(?P<pre>\bbasic\s+)" + _NOT_REDACTED + r"(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{12,}={0,2}",
          re.IGNORECASE, keep_prefix=True),
    # key=value, key: value, "key": "value", key=value; in connection strings and query strings.
    _rule("secret",
          r"(?P<pre>(?<![A-Za-z0-9])(?:[A-Za-z0-9]+[_.-])*(?:" + _SECRET_KEYS + r")[\"']?\s*(?:[:=]|=>)\s*"
          r"(?P<q>[\"'])?)" + _NOT_REDACTED + r"(?(q)[^\"'\n]+|[^\s\"',;&<>)}\]]+)",
          re.IGNORECASE, keep_prefix=True),
)


def redact(text: str) -> str:
    """Replace every secret in ``text`` with ``[REDACTED:<kind>]``; ordinary text is returned unchanged."""
    for rule in RULES:
        text = rule.pattern.sub(_replacer(rule), text)
    return text


def _replacer(rule: Rule) -> Callable[[re.Match[str]], str]:
    mark = _MARK.format(rule.kind)
    if rule.keep is None:
        return lambda m: mark
    keep = rule.keep
    return lambda m: keep(m) + mark


def find_secrets(text: str) -> list[str]:
    """The kinds of secrets found in ``text`` (for tests and audits)."""
    return [rule.kind for rule in RULES for _ in rule.pattern.finditer(text)]
