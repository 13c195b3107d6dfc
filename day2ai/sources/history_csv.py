"""Incidents from a PagerDuty or Opsgenie CSV export (``day2ai scan --config ... --incidents FILE.csv``).

Columns are matched by name, case, spaces and dashes ignored; the first present of each list wins:

- id: ``id``, ``incident_id``, ``incident_number``, ``tinyid``, ``number``, ``#``
- service: ``service``, ``service_name``, ``impacted_services`` (the first of a comma list), ``services``
- opened: ``created_at``, ``created_on``, ``created``, ``createdat``, ``opened_at``, ``triggered_at``
- acknowledged: ``acknowledged_at``, ``acknowledgedat``, ``first_acknowledged_at``, or
  ``seconds_to_first_ack`` (PagerDuty analytics) after the opening
- resolved: ``resolved_at``, ``resolved_on``, ``resolved``, ``closed_at``, ``closedat``, or
  ``seconds_to_resolve`` after the opening
- severity: ``severity``, ``priority``, ``priority_name``, then ``urgency``: ``P1``..``P4`` and
  ``sev1``..``sev4`` as is, ``P5`` as sev4; PagerDuty urgency ``high`` as sev2, ``low`` as sev3
- title: ``title``, ``description``, ``summary``, ``message``, ``name``

Times are RFC 3339, ``YYYY-MM-DD HH:MM:SS`` or ``YYYY/MM/DD HH:MM:SS`` (UTC), or epoch seconds or
milliseconds. A bad row is an :class:`~day2ai.errors.BundleError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from day2ai.errors import BundleError
from day2ai.sources.history import IncidentRecord
from day2ai.timeutil import parse_timestamp

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "incident_id", "incident_number", "tinyid", "number", "#"),
    "service": ("service", "service_name", "impacted_services", "services"),
    "opened_at": ("created_at", "created_on", "created", "createdat", "opened_at", "triggered_at"),
    "acknowledged_at": ("acknowledged_at", "acknowledgedat", "first_acknowledged_at"),
    "resolved_at": ("resolved_at", "resolved_on", "resolved", "closed_at", "closedat"),
    "severity": ("severity", "priority", "priority_name"),
    "urgency": ("urgency",),
    "title": ("title", "description", "summary", "message", "name"),
    "seconds_to_first_ack": ("seconds_to_first_ack",),
    "seconds_to_resolve": ("seconds_to_resolve",),
}
REQUIRED = ("id", "service", "opened_at")
_URGENCY = {"high": "sev2", "low": "sev3"}
_SEVERITY = re.compile(r"^(?:p|sev)[\s_-]?([1-5])$")
MAX_ROWS = 200_000


def _key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower().lstrip("\ufeff"))


def _time(text: str) -> float:
    value = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        epoch = float(value)
        return epoch / 1000.0 if epoch > 1e11 else epoch  # epoch milliseconds (Opsgenie)
    if re.match(r"^\d{4}/\d{2}/\d{2}", value):
        value = value[:10].replace("/", "-") + value[10:]
    return parse_timestamp(value)


def _severity(raw: str, urgency: str) -> str | None:
    if m := _SEVERITY.match(raw.strip().lower()):
        return f"sev{min(int(m.group(1)), 4)}"
    return _URGENCY.get(urgency.strip().lower())


def _columns(header: list[str], path: Path) -> dict[str, int]:
    keys = [_key(h) for h in header]
    found = {field: next((keys.index(n) for n in names if n in keys), -1) for field, names in COLUMNS.items()}
    missing = [f for f in REQUIRED if found[f] < 0]
    if missing:
        accepted = "; ".join(f"{f}: {', '.join(COLUMNS[f])}" for f in missing)
        raise BundleError(str(path), f"no column for {', '.join(missing)} (accepted names: {accepted})", line=1)
    return {f: i for f, i in found.items() if i >= 0}


def read_incidents_csv(path: Path) -> list[IncidentRecord]:
    """Every incident of a CSV export; the first bad row raises BundleError (file:line: column)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BundleError(str(path), f"cannot read the CSV file: {exc}") from None
    if not rows:
        raise BundleError(str(path), "empty CSV file (expected a header row)")
    if len(rows) > MAX_ROWS + 1:
        raise BundleError(str(path), f"more than {MAX_ROWS} rows")
    cols = _columns(rows[0], path)
    return [_row(row, cols, path, n) for n, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]


def _row(row: list[str], cols: dict[str, int], path: Path, line: int) -> IncidentRecord:
    def cell(field: str) -> str:
        i = cols.get(field)
        return row[i].strip() if i is not None and i < len(row) else ""

    def when(field: str, offset_field: str | None = None, base: float | None = None) -> float | None:
        try:
            if text := cell(field):
                return _time(text)
            if offset_field and base is not None and (offset := cell(offset_field)):
                return base + float(offset)
        except ValueError as exc:
            name = field if cell(field) else offset_field
            raise BundleError(str(path), str(exc), line=line, field=name) from None
        return None

    for field in REQUIRED:
        if not cell(field):
            raise BundleError(str(path), "required value is empty", line=line, field=field)
    opened = when("opened_at")
    severity = _severity(cell("severity"), cell("urgency"))
    if severity is None:
        raise BundleError(str(path), f"no severity: priority {cell('severity')!r}, urgency {cell('urgency')!r} "
                          "(expected P1-P5, sev1-sev4, or urgency high/low)", line=line, field="severity")
    return IncidentRecord(
        id=cell("id"), service=cell("service").split(",")[0].strip(), severity=severity,
        opened_at=opened if opened is not None else 0.0, title=cell("title"),
        acknowledged_at=when("acknowledged_at", "seconds_to_first_ack", opened),
        resolved_at=when("resolved_at", "seconds_to_resolve", opened))
