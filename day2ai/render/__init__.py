"""Views of a Report for people: terminal (rich), Markdown (chat bots) and HTML (Jupyter).

One module per medium: ``text`` (terminal), ``markdown`` (GitHub/Teams), ``slack`` (Slack
Block Kit), ``html`` (Jupyter);
shared pieces in ``common``. Models call into these from their view methods, importing inside
the method, so ``day2ai.models`` never imports this package at module level.
"""

from __future__ import annotations

from day2ai.render.html import hypothesis_html, report_html
from day2ai.render.markdown import report_markdown
from day2ai.render.slack import report_slack
from day2ai.render.text import report_rich

__all__ = ["hypothesis_html", "report_html", "report_markdown", "report_rich", "report_slack"]
