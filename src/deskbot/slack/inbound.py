"""Reads a request body from Slack once its signature is checked: the payload as a dict, or
`Malformed` with a reason that names no value from the body.

Slack sends three shapes: slash commands as a form, interactions as a form whose one field
`payload` holds JSON, and events as JSON. Bolt's own parser decides between the first two by
looking for the word "payload" anywhere in the body, so `/desk find payload` would be read
as an empty interaction; here a form is an interaction only when it has a `payload` field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY = 1024 * 1024  # Slack's own payloads stay far below this
MAX_DEPTH = 64  # Block Kit nests a dozen levels at most


class Malformed(ValueError):
    """The body is not a payload Slack sends; the message says which rule it broke."""


def parse(raw: bytes, content_type: str) -> dict[str, Any]:
    """The payload of a signed request body."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if content_type.split(";")[0].strip().lower() == "application/json":
        payload = _json(text)
        _event_shape(payload)
        return payload
    form = _form(text)
    if "payload" in form:
        payload = _json(form["payload"])
        _interaction_shape(payload)
        return payload
    if form.get("ssl_check") == "1":
        return form
    _command_shape(form)
    return form


def _form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise Malformed("the form is not URL-encoded") from None
    return dict(pairs)


def _json(text: str) -> dict[str, Any]:
    if _depth(text) > MAX_DEPTH:
        raise Malformed("the JSON is nested too deeply")
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed("the JSON does not parse") from None
    if not isinstance(loaded, dict):
        raise Malformed("the JSON is not an object")
    return loaded


def _depth(text: str) -> int:
    """How deeply brackets nest, counted before parsing (strings may hold brackets too: an
    over-count only refuses what Slack never sends)."""
    deepest = depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _require(payload: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(key)
    if not isinstance(value, kind):
        raise Malformed(f"`{key}` is missing or of the wrong type")
    return value


def _optional(payload: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> None:
    if key in payload and payload[key] is not None and not isinstance(payload[key], kind):
        raise Malformed(f"`{key}` is of the wrong type")


def _command_shape(form: dict[str, str]) -> None:
    for key in ("command", "user_id", "team_id"):
        if not form.get(key):
            raise Malformed(f"`{key}` is missing")


def _user(payload: dict[str, Any]) -> None:
    user = _require(payload, "user", dict)
    _require(user, "id", str)


def _view(view: Any) -> None:
    if not isinstance(view, dict):
        raise Malformed("`view` is missing or of the wrong type")
    _require(view, "callback_id", str)
    for key in ("id", "private_metadata", "hash"):
        _optional(view, key, str)
    _optional(view, "blocks", list)
    state = view.get("state")
    if state is None:
        return
    if not isinstance(state, dict):
        raise Malformed("`view.state` is of the wrong type")
    values = state.get("values") or {}
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(e, dict) for e in block.values())
        for block in values.values()
    ):
        raise Malformed("`view.state.values` is of the wrong shape")


def _interaction_shape(payload: dict[str, Any]) -> None:
    kind = _require(payload, "type", str)
    _optional(payload, "trigger_id", str)
    _optional(payload, "response_url", str)
    for key in ("channel", "container", "message", "team", "state"):
        _optional(payload, key, dict)
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut"):
        _user(payload)
    if kind == "block_actions":
        actions = _require(payload, "actions", list)
        if not actions or not all(isinstance(a, dict) for a in actions):
            raise Malformed("`actions` is empty or of the wrong shape")
        _require(actions[0], "action_id", str)
        _optional(actions[0], "value", str)
        _optional(actions[0], "block_id", str)
        if "view" in payload:
            _view(payload["view"])
    elif kind in ("view_submission", "view_closed"):
        _view(payload.get("view"))
    elif kind in ("shortcut", "message_action"):
        _require(payload, "callback_id", str)
        _require(payload, "trigger_id", str)
        if kind == "message_action":
            _user(payload)
    elif kind == "block_suggestion":
        _user(payload)
        _require(payload, "action_id", str)
        _optional(payload, "value", str)


def _event_shape(payload: dict[str, Any]) -> None:
    kind = _require(payload, "type", str)
    if kind == "url_verification":
        _require(payload, "challenge", str)
    elif kind == "event_callback":
        _require(payload, "event_id", str)
        _optional(payload, "team_id", str)
        event = _require(payload, "event", dict)
        _require(event, "type", str)
        for key in ("user", "channel", "channel_type", "text", "subtype", "bot_id", "ts", "tab"):
            _optional(event, key, str)
        _optional(event, "files", list)
