"""Shared pieces of the hostile-input suite (#16): a bundle salted with secrets and escape sequences."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo-bundle"

# Fake secrets with the real shapes (nothing here is a live credential).
SECRETS = {
    "aws_key_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "db_password": "S3cr3tPw",
}
SALT = (f"key {SECRETS['aws_key_id']} aws_secret_access_key {SECRETS['aws_secret']} "
        f"jwt {SECRETS['jwt']} dsn postgres://app:{SECRETS['db_password']}@db:5432/orders "
        "\x1b]0;pwned\x07\x1b[31mRED\x1b[0m")


@pytest.fixture(scope="session")
def salted_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bundle with every ERROR log line carrying secrets and terminal escapes, and a secret
    in the incident title."""
    root = tmp_path_factory.mktemp("salted") / "bundle"
    shutil.copytree(DEMO, root)
    (root / "truth.yaml").unlink(missing_ok=True)
    rows = [json.loads(line) for line in gzip.decompress((root / "logs.jsonl.gz").read_bytes()).splitlines()]
    for row in rows:
        if str(row.get("level", "")).upper() == "ERROR":
            row["message"] = f"{row['message']} {SALT}"
    (root / "logs.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    incident = (root / "incident.yaml").read_text()
    incident = incident.replace("title: '", f"title: 'password={SECRETS['db_password']} ", 1)
    (root / "incident.yaml").write_text(incident)
    return root
