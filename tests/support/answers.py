"""Complete bug-report answers (a client in a desktop browser), for tests and benchmarks."""

from __future__ import annotations

from typing import Any

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
