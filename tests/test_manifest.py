"""app-manifest.yml validates against Slack's schema and matches the listeners, both ways."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deskbot import manifest
from deskbot.db import Database
from deskbot.settings import Settings
from deskbot.slack.app import build_app, build_services
from tests.conftest import AM, RunningApp
from tests.support.slack_standin import SlackStandin

ROOT = Path(__file__).resolve().parents[1]
SHARED_SCHEMA = ROOT.parent / "shared" / "slack-app-manifest.schema.json"


@pytest.fixture(scope="module")
def app() -> Any:
    settings = Settings(
        slack_bot_token="xoxb-x", slack_signing_secret="s", database_url="sqlite://"
    )
    return build_app(build_services(settings, Database(settings.database_url)))


@pytest.fixture
def good() -> dict[str, Any]:
    return manifest.load(ROOT / "app-manifest.yml")


def test_the_manifest_is_valid_and_matches(good: dict[str, Any], app: Any) -> None:
    assert manifest.check(good, app) == []


def mutated(good: dict[str, Any], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(good)
    change(copied)
    return copied


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m["features"]["shortcuts"].pop(0), "handles shortcut 'bug-report-start'"),
        (
            lambda m: m["features"]["slash_commands"].append(
                {"command": "/gdpr", "description": "x"}
            ),
            "declares command '/gdpr'",
        ),
        (
            lambda m: m["settings"]["event_subscriptions"]["bot_events"].append("app_mention"),
            "subscribes to 'app_mention'",
        ),
        (
            lambda m: m["settings"]["event_subscriptions"].update(bot_events=[]),
            "handles event 'message'",
        ),
        (lambda m: m["oauth_config"]["scopes"]["bot"].remove("chat:write"), "'chat:write' scope"),
        (lambda m: m["oauth_config"]["scopes"]["bot"].remove("im:history"), "'im:history' scope"),
        (lambda m: m["display_information"].update(name="x" * 40), "display_information/name"),
        (lambda m: m["features"]["bot_user"].update(colour="red"), "features/bot_user"),
    ],
)
def test_a_mismatch_is_reported(good: dict[str, Any], app: Any, change: Any, expected: str) -> None:
    problems = manifest.check(mutated(good, change), app)
    assert any(expected in p for p in problems), problems


def test_the_packaged_schema_is_slacks(good: dict[str, Any]) -> None:
    if not SHARED_SCHEMA.exists():
        assert not os.environ.get("CI"), "CI has shared/ beside the checkout"
        pytest.skip("shared/ is not beside this checkout")
    assert manifest.schema() == json.loads(SHARED_SCHEMA.read_text())


def test_the_command_line_check(tmp_path: Path, good: dict[str, Any]) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "deskbot", "manifest", "check", str(ROOT / "app-manifest.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "manifest.yml"
    broken.write_text(json.dumps(mutated(good, lambda m: m["features"].pop("shortcuts"))))
    bad = subprocess.run(
        [sys.executable, "-m", "deskbot", "manifest", "check", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "bug-report-start" in bad.stderr


def test_every_web_api_method_used_has_its_scope(
    deskbot: RunningApp, standin: SlackStandin, good: dict[str, Any]
) -> None:
    """Whatever deskbot calls during a session is a method whose scope the manifest asks for."""
    deskbot.driver.command(AM, "/desk", "bug chat")
    deskbot.driver.command(AM, "/desk", "bug")
    standin.wait_for("views.open")
    standin.wait_for("chat.postMessage")
    scopes = set(good["oauth_config"]["scopes"]["bot"])
    for call in standin.calls:
        if call.method == "response_url":  # a reply to the command's own URL: no scope needed
            continue
        assert call.method in manifest.SCOPE_FOR_METHOD, (
            f"{call.method}: add it to SCOPE_FOR_METHOD"
        )
        needed = manifest.SCOPE_FOR_METHOD[call.method]
        assert needed is None or needed in scopes
