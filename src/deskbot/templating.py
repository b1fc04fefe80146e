"""Renders the Jinja2 templates: Block Kit JSON (every value through tojson) and plain texts."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from deskbot import i18n


def templates_dir() -> Path:
    """Where the templates are: inside the installed package, or beside src/ in a checkout."""
    packaged = Path(str(resources.files("deskbot"))) / "templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("deskbot's templates are missing from this installation")


def escape_mrkdwn(text: Any) -> str:
    """User text made safe for mrkdwn: no mentions, links or channel pings can be injected."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: Any, limit: int) -> str:
    """Text cut to Slack's limit for the field it goes in, with an ellipsis when cut."""
    value = "" if text is None else str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["tojson"] = _tojson
    env.filters["mrkdwn"] = escape_mrkdwn
    env.filters["clip"] = clip
    env.filters["day"] = i18n.day
    # Texts are marked `_("...")` in templates as in code, and read the language in force.
    env.globals.update(_=i18n.gettext, gettext=i18n.gettext, ngettext=i18n.ngettext)
    return env


def render_text(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context).strip() + "\n"


def render_json(name: str, **context: Any) -> Any:
    """A Block Kit structure from a `*.json.j2` template."""
    rendered = environment().get_template(name).render(**context)
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as problem:  # a template bug, never user input
        raise ValueError(f"template {name} rendered invalid JSON: {problem}") from problem


def render_view(name: str, **context: Any) -> dict[str, Any]:
    """A modal or home view from a template."""
    view = render_json(name, **context)
    if not isinstance(view, dict):
        raise ValueError(f"template {name} did not render a view")
    return view


def render_blocks(name: str, **context: Any) -> list[dict[str, Any]]:
    """A list of blocks for a message from a template."""
    blocks = render_json(name, **context)
    if not isinstance(blocks, list):
        raise ValueError(f"template {name} did not render a list of blocks")
    return blocks
