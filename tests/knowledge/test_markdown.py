from __future__ import annotations

import pytest

from day2ai.errors import InputError
from day2ai.knowledge.markdown import parse_markdown, slugify, split_front_matter
from day2ai.knowledge.types import DocKind
from day2ai.models import Fault


def test_front_matter_and_heading_chunks() -> None:
    text = """---
service: Payments
services: [checkout]
faults: [connection_pool_exhaustion, Certificate-Expiry]
severity: SEV2
---
# Payments

Intro text.

## Pool exhausted

Body one.

### Details

Body two.
"""
    parsed = parse_markdown(text, "runbooks/payments.md")
    doc = parsed.document
    assert doc.title == "Payments"
    assert doc.kind is DocKind.RUNBOOK
    assert doc.services == ("payments", "checkout")
    assert doc.faults == (Fault.CONNECTION_POOL_EXHAUSTION, Fault.CERTIFICATE_EXPIRY)
    assert doc.severity == "SEV2"
    assert [c.anchor for c in parsed.chunks] == [None, "pool-exhausted", "details"]
    assert parsed.chunks[1].title == "Payments: Pool exhausted"
    assert "Body one." in parsed.chunks[1].text and "Body two." not in parsed.chunks[1].text
    assert parsed.warnings == []


def test_unknown_fault_word_is_a_warning_naming_file_and_field() -> None:
    parsed = parse_markdown("---\nfault: [disk_full, gremlins]\n---\n# T\n\ntext\n", "pm/x.md")
    assert parsed.document.faults == (Fault.DISK_FULL,)
    assert len(parsed.warnings) == 1
    assert "pm/x.md" in parsed.warnings[0] and "'fault'" in parsed.warnings[0] and "gremlins" in parsed.warnings[0]


def test_invalid_yaml_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"runbooks/bad.md:3: front matter is not valid YAML"):
        parse_markdown("---\nservice: a\nfaults: [unclosed\n---\n# x\n", "runbooks/bad.md")


def test_unclosed_front_matter_and_non_mapping() -> None:
    with pytest.raises(InputError, match="never closed"):
        split_front_matter("---\nservice: a\n# title\n", "a.md")
    with pytest.raises(InputError, match="mapping"):
        split_front_matter("---\n- a\n- b\n---\nbody\n", "a.md")


def test_headings_in_code_fences_are_not_sections() -> None:
    text = "# T\n\n## Real\n\n```bash\n# not a heading\necho hi\n```\n\nafter\n"
    chunks = parse_markdown(text, "doc.md").chunks
    assert [c.anchor for c in chunks] == ["real"]
    assert "# not a heading" in chunks[0].text


def test_github_slugs_and_duplicate_anchors() -> None:
    assert slugify("High CPU / slow queries") == "high-cpu--slow-queries"
    assert slugify("`QueuePool` limit (size 10)") == "queuepool-limit-size-10"
    chunks = parse_markdown("# T\n\n## Checks\n\na\n\n## Checks\n\nb\n", "d.md").chunks
    assert [c.anchor for c in chunks] == ["checks", "checks-1"]


def test_kind_from_folder_and_from_front_matter() -> None:
    assert parse_markdown("# a\n", "postmortems/x.md").document.kind is DocKind.POSTMORTEM
    assert parse_markdown("# a\n", "notes/x.md").document.kind is DocKind.DOC
    parsed = parse_markdown("---\nkind: incident\n---\n# a\n", "notes/x.md")
    assert parsed.document.kind is DocKind.POSTMORTEM
    odd = parse_markdown("---\nkind: recipe\n---\n# a\n", "runbooks/x.md")
    assert odd.document.kind is DocKind.RUNBOOK and "kind" in odd.warnings[0]


def test_long_sections_are_split_with_the_same_anchor() -> None:
    paragraphs = "\n\n".join(" ".join(f"w{p}x{i}" for i in range(60)) for p in range(6))
    chunks = parse_markdown(f"# T\n\n## Long\n\n{paragraphs}\n", "d.md", max_words=150).chunks
    assert len(chunks) == 3
    assert {c.anchor for c in chunks} == {"long"}
    assert len({c.content_hash for c in chunks}) == 3
    assert all(len(c.text.split()) <= 150 + 10 for c in chunks)


def test_postmortem_root_cause_and_fix_are_extracted() -> None:
    text = "# Outage\n\n## Root cause\n\nPool set to 4.\n\n## How we fixed it\n\nRolled back.\n"
    doc = parse_markdown(text, "postmortems/a.md").document
    assert doc.root_cause == "Pool set to 4."
    assert doc.fix == "Rolled back."


def test_document_without_headings_or_text() -> None:
    assert [c.anchor for c in parse_markdown("just words\n", "x.md").chunks] == [None]
    empty = parse_markdown("", "empty-notes.md")
    assert len(empty.chunks) == 1 and empty.document.title == "empty notes"


def test_hashes_change_with_content() -> None:
    a = parse_markdown("# T\n\n## S\n\none\n", "d.md")
    b = parse_markdown("# T\n\n## S\n\ntwo\n", "d.md")
    assert a.document.content_hash != b.document.content_hash
    assert a.chunks[0].content_hash != b.chunks[0].content_hash
