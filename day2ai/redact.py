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
from typing import Any

_MARK = "[REDACTED:{}]"
_NOT_REDACTED = r"(?!\[REDACTED|<redacted>)"  # already scrubbed (here or by the HTTP layer)

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
    # A second opinion on a match (heuristic shapes): a match it refuses is left as it was.
    accept: Callable[[re.Match[str]], bool] | None = None


def _prefix_group(m: re.Match[str]) -> str:
    return m.group("pre")


def _rule(kind: str, regex: str, flags: int = 0, *, keep_prefix: bool = False,
          accept: Callable[[re.Match[str]], bool] | None = None) -> Rule:
    return Rule(kind, re.compile(regex, flags), _prefix_group if keep_prefix else None, accept)


def _looks_random_40(m: re.Match[str]) -> bool:
    """A bare 40-character base64 word that looks like an AWS secret key, not a hash or a word:
    mixed case with digits (a hex SHA-1 is single-case; identifiers rarely have digits and
    several capitals), or a ``/`` or ``+`` (never in a hash)."""
    word = m.group(0)
    upper = sum(c.isupper() for c in word)
    lower = sum(c.islower() for c in word)
    digits = sum(c.isdigit() for c in word)
    special = word.count("/") + word.count("+")
    return upper >= 3 and lower >= 3 and (digits >= 1 or special >= 1) and (digits + special >= 2 or upper >= 6)


# Words after "password is ..." that describe it instead of being it ("password is incorrect").
_PROSE_NOT_SECRET = (
    r"(?:not|no|invalid|incorrect|wrong|expired|missing|empty|required|too|null|none|nil|set|unset|valid|"
    r"being|the|a|an|ok|okay|correct|stale|revoked|malformed|weak|strong|changed|reset|rotated|needed|"
    r"present|absent|blank|undefined|unknown|still|now|also|already|about|going|in|on|of|for|used|"
    r"ignored|disabled|enabled|locked|short|long|too)\b"
)


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
    # (greedy to the last "@" of the authority: a password may itself contain "@")
    _rule("url_password",
          r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s:/@]*:)" + _NOT_REDACTED + r"[^\s/]+(?=@)",
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
    # Command lines: --password X, --db-token 'X', mysql -p X / -pX (not "-p 8080:80", a port).
    _rule("cli_secret",
          r"(?P<pre>(?<![^\s\"'])--?(?:[A-Za-z0-9]+[_-]){0,6}(?:" + _SECRET_KEYS + r")\s+(?P<q>[\"'])?)"
          + _NOT_REDACTED + r"(?!-)(?(q)[^\"'\n]+|[^\s\"']+)",
          re.IGNORECASE, keep_prefix=True),
    _rule("cli_secret", r"(?P<pre>(?<!\S)-p\s+)" + _NOT_REDACTED + r"(?![\d:.]+(?:\s|$))(?!-)[^\s\"']+",
          keep_prefix=True),
    _rule("cli_secret", r"(?P<pre>\bmysql(?:dump|admin)?\b[^\n]{0,200}?\s-p)" + _NOT_REDACTED + r"[^\s\"']+",
          keep_prefix=True),
    # AWS secret access key after its name with any separator, or bare (heuristic, see above).
    _rule("aws_secret_access_key",
          r"(?P<pre>aws[_-]?secret[_-]?(?:access[_-]?)?key[\"']?\W{0,5})" + _NOT_REDACTED + r"[A-Za-z0-9/+]{40}\b",
          re.IGNORECASE, keep_prefix=True),
    _rule("aws_secret_access_key", r"(?<![A-Za-z0-9/+=\]])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
          accept=_looks_random_40),
    # Prose: "the db password is hunter2", "token was: abc123".
    _rule("secret",
          r"(?P<pre>\b(?:password|passwd|passphrase|secret|token|api[ _-]?key)\s+(?:is|was|=)\s*:?\s+"
          r"(?:set\s+to\s+)?(?P<q>[\"'])?)" + _NOT_REDACTED + r"(?!" + _PROSE_NOT_SECRET + r")"
          r"(?(q)[^\"'\n]+|[^\s\"',;]+)",
          re.IGNORECASE, keep_prefix=True),
    # key=value, key: value, "key": "value", key=value; in connection strings and query strings.
    _rule("secret",
          r"(?P<pre>(?<![A-Za-z0-9])(?:[A-Za-z0-9]+[_.-]){0,6}(?:" + _SECRET_KEYS + r")[\"']?\s*(?:[:=]|=>)\s*"
          r"(?P<q>[\"'])?)" + _NOT_REDACTED + r"(?(q)[^\"'\n]+|[^\s\"',;&<>)}\]]+)",
          re.IGNORECASE, keep_prefix=True),
)


def redact(text: str) -> str:
    """Replace every secret in ``text`` with ``[REDACTED:<kind>]``; ordinary text is returned unchanged."""
    for rule, replace in _REPLACERS:
        text = rule.pattern.sub(replace, text)
    return text


def _replacer(rule: Rule) -> Callable[[re.Match[str]], str]:
    mark = _MARK.format(rule.kind)
    keep = rule.keep
    accept = rule.accept

    def replace(m: re.Match[str]) -> str:
        if accept is not None and not accept(m):
            return m.group(0)
        return mark if keep is None else keep(m) + mark

    return replace


_REPLACERS = tuple((rule, _replacer(rule)) for rule in RULES)


def find_secrets(text: str) -> list[str]:
    """The kinds of secrets found in ``text`` (for tests and audits)."""
    return [rule.kind for rule in RULES for m in rule.pattern.finditer(text)
            if rule.accept is None or rule.accept(m)]


def redact_data(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with :func:`redact` applied to every
    string in it, keys included; other values are returned as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_data(v) for v in value)
    return value
