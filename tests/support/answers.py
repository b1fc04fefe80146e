"""Complete bug-report answers (a client in a desktop browser), and a filed report holding
them, for tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskbot.models import BugReport

COMPLETE_BUG_REPORT: dict[str, Any] = {
    "platform": "https://care.example.org",
    "access": "browser",
    "user_kind": "client",
    "account_id": "c-1",
    "tool": "diary",
    "tool_id": None,
    "scenario": "Open the diary and save an entry.",
    "expected": "Saved.",
    "actual": "Spinner.",
    "device_type": "desktop",
    "os": "Windows 11",
    "browser": "Firefox 128",
    "excluded": [],
    "reproduced": "no",
    "scope": "single_user",
    "screenshots": [],
}


def filed_report(
    answers: dict[str, Any],
    *,
    number: int = 12,
    filed: datetime = datetime(2026, 3, 4, 9, 30, tzinfo=UTC),
) -> BugReport:
    """A bug report as filed, never stored: for rendering its card, receipt or vendor copy."""
    return BugReport(
        id=7,
        organisation_id="ggz",
        number=number,
        draft_id="d" * 32,
        reporter_id="U0REPORTER",
        status="new",
        answers=answers,
        created_at=filed,
    )
