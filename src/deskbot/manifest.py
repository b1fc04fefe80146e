"""Checks app-manifest.yml against Slack's schema and against the listeners the code registers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from slack_bolt import App

# The scope each Web API method deskbot calls needs (None: no scope needed).
SCOPE_FOR_METHOD: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "files.info": "files:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "views.open": None,
    "views.push": None,
    "views.update": None,
    "views.publish": None,
    "apps.connections.open": None,  # app-level token: connections:write
}
EVENT_SCOPES = {"message.im": "im:history", "app_home_opened": None}


def schema() -> dict[str, Any]:
    text = (resources.files("deskbot") / "data" / "slack-app-manifest.schema.json").read_text(
        "utf-8"
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load(path: str | Path) -> dict[str, Any]:
    with Path(path).open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def schema_problems(manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]


def handled(app: App) -> dict[str, set[str]]:
    """What the app's listeners answer: commands, global/message shortcuts, event types.

    Read from Bolt's built-in matchers, so a listener added with a literal ID is seen too.
    """
    found: dict[str, set[str]] = {"command": set(), "shortcut": set(), "event": set()}
    for listener in app._listeners:
        for matcher in getattr(listener, "matchers", []):
            func = getattr(matcher, "func", None)
            kind = (getattr(func, "__qualname__", "") or "").split(".")[0]
            if kind == "global_shortcut" or kind == "message_shortcut":
                kind = "shortcut"
            if kind in found:
                found[kind].update(_strings(func))
    return found


def _strings(func: Any) -> Iterable[str]:
    for cell in getattr(func, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, str):
            yield str(value)
        elif isinstance(value, dict):
            yield from (str(v) for v in value.values() if isinstance(v, str))


def declared(manifest: dict[str, Any]) -> dict[str, set[str]]:
    features = manifest.get("features") or {}
    settings = manifest.get("settings") or {}
    return {
        "command": {c["command"] for c in features.get("slash_commands") or []},
        "shortcut": {s["callback_id"] for s in features.get("shortcuts") or []},
        "event": set((settings.get("event_subscriptions") or {}).get("bot_events") or []),
    }


def match_problems(manifest: dict[str, Any], app: App) -> list[str]:
    problems: list[str] = []
    have, want = handled(app), declared(manifest)
    for kind in ("command", "shortcut"):
        for missing in sorted(have[kind] - want[kind]):
            problems.append(
                f"the code handles {kind} {missing!r}, the manifest does not declare it"
            )
        for missing in sorted(want[kind] - have[kind]):
            problems.append(f"the manifest declares {kind} {missing!r}, no listener handles it")
    # Bolt listens to "message"; the manifest subscribes to message.im, message.channels, …
    handled_events = have["event"]
    for event in sorted(want["event"]):
        if event.split(".")[0] not in handled_events:
            problems.append(f"the manifest subscribes to {event!r}, no listener handles it")
    for event in sorted(handled_events):
        if not any(e.split(".")[0] == event for e in want["event"]):
            problems.append(
                f"the code handles event {event!r}, the manifest does not subscribe to it"
            )
    scopes = set(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or [])
    if want["command"] and "commands" not in scopes:
        problems.append("slash commands need the 'commands' scope")
    for event in want["event"]:
        needed = EVENT_SCOPES.get(event)
        if needed and needed not in scopes:
            problems.append(f"event {event} needs the {needed!r} scope")
    for method, scope in SCOPE_FOR_METHOD.items():
        if scope and scope not in scopes:
            problems.append(f"{method} needs the {scope!r} scope")
    interactivity = (manifest.get("settings") or {}).get("interactivity") or {}
    if want["shortcut"] and not interactivity.get("is_enabled"):
        problems.append("shortcuts and buttons need interactivity enabled")
    return problems


def check(manifest: dict[str, Any], app: App) -> list[str]:
    return schema_problems(manifest) + match_problems(manifest, app)


def check_file(path: str | Path) -> list[str]:
    """The problems of the manifest at path, for the app as the current settings build it."""
    from deskbot.db import Database
    from deskbot.settings import Settings
    from deskbot.slack.app import build_app, build_services

    if not Path(path).is_file():
        return [f"{path}: no such file"]
    settings = Settings(
        slack_bot_token="xoxb-manifest-check",
        slack_signing_secret="manifest-check",
        database_url="sqlite://",
    )
    db = Database(settings.database_url)
    try:
        return check(load(path), build_app(build_services(settings, db)))
    finally:
        db.dispose()
