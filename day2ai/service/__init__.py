"""day2ai as an HTTP service (``day2ai serve``): investigations over HTTP with server-sent events,
bearer-token auth, an Alertmanager webhook and Slack notifications. Needs the ``service`` extra."""

from __future__ import annotations

from day2ai.service.app import ServiceSettings, create_app
from day2ai.service.runs import Run, RunManager

__all__ = ["Run", "RunManager", "ServiceSettings", "create_app"]
