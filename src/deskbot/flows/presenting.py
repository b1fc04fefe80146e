"""What a summary shows, for any transport: answers as lines, notices with their icon."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from deskbot.flows.engine import Flow, Kind, Notice
from deskbot.i18n import _


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    value: str
    long: bool


@dataclass(frozen=True)
class ShownNotice:
    kind: str
    icon: str
    text: str


def lines(
    flow: Flow, answers: Mapping[str, Any], transform: Callable[[str], str] | None = None
) -> list[Line]:
    """The answers on the path taken, as a person reads them; transform e.g. redacts text."""
    shown = []
    for step in flow.applicable(answers):
        value = step.display(answers.get(step.key))
        if transform is not None and step.kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.FILES):
            value = transform(value)
        shown.append(Line(step.key, step.label, value, step.kind == Kind.LONG_TEXT))
    return shown


def notices(flow: Flow, found: list[Notice]) -> list[ShownNotice]:
    shown = []
    for notice in found:
        text = notice.text
        if notice.step:
            # Translators: a warning about one answer, after the name of its question.
            text = _("{label}: {notice}", label=flow.step(notice.step).label, notice=text)
        icon = ":warning:" if notice.kind == "personal_data" else ":bulb:"
        shown.append(ShownNotice(notice.kind, icon, text))
    return shown


def position(flow: Flow, answers: Mapping[str, Any], current_key: str | None) -> str:
    """ "question 4 of 17" — counted over the steps that apply on this path."""
    keys = [s.key for s in flow.applicable(answers)]
    at = keys.index(current_key) + 1 if current_key in keys else len(keys)
    # Translators: where a conversation stands; it follows the flow's title and " · ".
    return _("question {position} of {total}", position=at, total=len(keys))


def progress(flow: Flow, answers: Mapping[str, Any], current_key: str | None) -> str:
    """ "Report a bug · question 4 of 17": the title, " · ", then `position`."""
    return f"{flow.title} · {position(flow, answers, current_key)}"
