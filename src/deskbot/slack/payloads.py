"""Reads what Slack sends: submitted view values, action tokens, private metadata."""

from __future__ import annotations

import json
from typing import Any


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """The raw answer per action_id of a submitted view, whatever the element type."""
    values: dict[str, Any] = {}
    for block in (view.get("state") or {}).get("values", {}).values():
        for action_id, element in block.items():
            values[action_id] = element_value(element)
    return values


def element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        chosen = element.get("selected_option")
        return chosen.get("value") if chosen else None
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in element.get("selected_options") or []]
    if kind == "file_input":
        return [_file_ref(f) for f in element.get("files") or []]
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "users_select":
        return element.get("selected_user")
    return element.get("value")


def _file_ref(file: dict[str, Any]) -> dict[str, Any]:
    # Keep the reference only: the file itself stays in Slack.
    return {"id": file.get("id"), "name": file.get("name") or file.get("title") or "file"}


def files_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [_file_ref(f) for f in message.get("files") or []]


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def token_parts(value: str | None, count: int) -> list[str]:
    """Splits an action value "draft:step[:option]" into exactly count parts ('' when absent)."""
    parts = (value or "").split(":", count - 1)
    return parts + [""] * (count - len(parts))


def clicked_id(body: dict[str, Any]) -> int:
    """The numeric ID a clicked button carries (0 when it carries none)."""
    value = str(body["actions"][0].get("value") or "")
    return int(value) if value.isdigit() else 0
