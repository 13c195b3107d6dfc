"""Secrets never reach any output (#16): evidence and the incident are redacted where they are made,
so every renderer is safe; the redactor knows the shapes the campaign found missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from day2ai.api import investigate
from day2ai.cli import main
from day2ai.models import Report
from day2ai.redact import find_secrets, redact, redact_data
from tests.security.conftest import SECRETS


@pytest.fixture(scope="module")
def report(salted_bundle: Path) -> Report:
    return investigate(salted_bundle, offload=False)


def _renderings(report: Report) -> dict[str, str]:
    from day2ai.render import report_html, report_markdown, report_rich

    console = Console(record=True, width=120)
    console.print(report_rich(report))
    return {
        "json": report.model_dump_json(),
        "contract": str(report.to_contract()),
        "text": console.export_text(),
        "markdown": report_markdown(report),
        "slack": str(report.to_slack()),
        "html": report_html(report),
    }


def test_secrets_reach_no_renderer(report: Report) -> None:
    assert any("[REDACTED:" in e.summary for e in report.evidence), "the salted lines must be in evidence"
    for fmt, text in _renderings(report).items():
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked into {fmt}"


def test_secrets_reach_no_cli_output(salted_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("json", "text", "markdown"):
        assert main(["investigate", str(salted_bundle), "--format", fmt]) == 0
        out = capsys.readouterr()
        for secret in SECRETS.values():
            assert secret not in out.out and secret not in out.err, fmt


def test_incident_title_is_redacted(report: Report) -> None:
    assert SECRETS["db_password"] not in report.incident.title
    assert "[REDACTED:" in report.incident.title


BARE_AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(("text", "secret"), [
    (f"aws_secret_access_key {BARE_AWS}", BARE_AWS),
    (f"AWS_SECRET_ACCESS_KEY: \"{BARE_AWS}\"", BARE_AWS),
    (f"creds loaded: {BARE_AWS} ok", BARE_AWS),
    ("secret=Zx9/Qm2+Lk8pRt4vWn6yBc1dFg3hJk5lMn7pQr0s", "Zx9/Qm2+Lk8pRt4vWn6yBc1dFg3hJk5lMn7pQr0s"),
    ("postgres://app:p@ss@word@db.internal:5432/orders", "p@ss@word"),
    ("redis://:we@k@cache:6379/0", "we@k"),
    ("mysql -u root --password hunter2hunter2 -h db", "hunter2hunter2"),
    ("pg_dump --db-password 'two words' orders", "two words"),
    ("mysql -u root -p s3cr3tpass orders", "s3cr3tpass"),
    ("mysqldump -uroot -ps3cr3tpass orders", "s3cr3tpass"),
    ("the db password is hunter2", "hunter2"),
    ("Token was: tk_8f7a6b5c", "tk_8f7a6b5c"),
])
def test_redactor_new_shapes(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and "[REDACTED:" in out
    assert redact(out) == out


@pytest.mark.parametrize("text", [
    "deployed commit 9fceb02d0ae598e95dc970b74767f19372d61af8 to payments",
    "DEPLOYED 9FCEB02D0AE598E95DC970B74767F19372D61AF8",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "class AbstractSingletonProxyFactoryBeanManager loaded",
    "docker run -p 8080:80 nginx",
    "ssh -p 2222 deploy@host",
    "password is incorrect for user bob",
    "the token is expired; refresh it",
    "password reset requested for user 1234",
])
def test_redactor_leaves_hashes_ports_and_prose_alone(text: str) -> None:
    assert redact(text) == text
    assert find_secrets(text) == []


def test_redact_data_walks_structures() -> None:
    data = {"msg": "password=hunter22", "nested": [{"dsn": "postgres://a:pw999@h/db"}], "n": 3}
    out = redact_data(data)
    assert "hunter22" not in str(out) and "pw999" not in str(out) and out["n"] == 3
