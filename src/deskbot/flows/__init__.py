"""Conversation flows, and the registry that builds them from the settings."""

from __future__ import annotations

from deskbot.flows import bug_report, deletion_request
from deskbot.flows.engine import Flow
from deskbot.settings import Settings


def get_flow(name: str, settings: Settings) -> Flow:
    if name == bug_report.NAME:
        return bug_report.build(settings.platforms)
    if name == deletion_request.NAME:
        return deletion_request.build(settings)
    raise KeyError(f"unknown flow {name!r}")
