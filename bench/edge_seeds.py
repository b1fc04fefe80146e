"""What the fuzzer of bench/edge.py starts from: payloads of every kind deskbot receives, built
from what it really shows (its modals, cards, questions and home) and from every ID it knows.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from edge_support import (
    ADDRESS,
    AGENT,
    AM,
    AM2,
    DO,
    OUTSIDER,
    TRIAGE,
    wait_until,
)
from sqlalchemy import func, select
from tests.support.driver import PayloadBuilder, SlackDriver
from tests.support.slack_standin import JsonDict, SlackStandin, block_elements

from deskbot.db import Database
from deskbot.models import BugReport
from deskbot.slack.ids import COMMAND, Action, Shortcut, View

PAGE_1 = {
    "platform": "https://care.example.org",
    "access": "app",
    "user_kind": "professional",
    "account_id": "prof-4821",
}
PAGE_2 = {
    "roles": ["therapist"],
    "tool": "diary",
    "scenario": f"Open the diary and save. Mail {ADDRESS}",
    "expected": "Saved.",
    "actual": "A spinner keeps turning.",
    "device_type": "phone",
}
PAGE_3 = {
    "os": "iOS 17.4",
    "device_model": "Apple iPhone 13",
    "app_version": "4.12.1",
    "excluded": ["connection"],
    "reproduced": "not_tried",
    "scope": "single_user",
}
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def wait_modal(standin: SlackStandin, user: str, old: JsonDict | None = None) -> JsonDict:
    """The modal in front of the user, once it is no longer `old` (its hash changes on update)."""

    def shown() -> JsonDict | None:
        view = standin.open_modal(user)
        if view is not None and old is not None and view["id"] == old["id"]:
            return None if view.get("hash") == old.get("hash") else view
        return view

    view = wait_until(shown, 10.0)
    if view is None:
        raise AssertionError(f"no modal opened for {user}" if old is None else "modal unchanged")
    return view


# -- seeds from what deskbot shows --------------------------------------------------------------


def element_value(element: JsonDict) -> object:
    kind = element.get("type")
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    if kind in ("static_select", "radio_buttons", "overflow"):
        return options[0]["value"] if options else None
    if kind in ("multi_static_select", "checkboxes"):
        return [options[0]["value"]] if options else None
    if kind in ("users_select", "multi_users_select"):
        return AM
    if kind == "datepicker":
        return YESTERDAY
    if kind == "button":
        return element.get("value")
    return "edge"


def element_seeds(
    builder: PayloadBuilder,
    user: str,
    *,
    view: JsonDict | None = None,
    message: JsonDict | None = None,
    channel: str | None = None,
) -> list[JsonDict]:
    """A block_actions payload for each element a view or message shows."""
    shown = view if view is not None else message
    seeds = []
    for block in (shown or {}).get("blocks") or []:
        for element in block_elements(block):
            if not element.get("action_id") or element.get("type") == "file_input":
                continue
            try:
                delivery = builder.block_action(
                    user,
                    str(element["action_id"]),
                    element_value(element),
                    block_id=block.get("block_id"),
                    view=view,
                    message=message,
                    channel_id=channel,
                )
            except (AssertionError, KeyError):
                continue
            seeds.append(delivery.payload)
    return seeds


@dataclass
class Seeds:
    by_kind: dict[str, list[JsonDict]]
    notes: list[str]


def live_seeds(driver: SlackDriver, standin: SlackStandin, db: Database) -> tuple[Seeds, JsonDict]:
    """Payloads built from what deskbot really shows: its modals, cards, questions and home."""
    builder = driver.payloads
    seeds: dict[str, list[JsonDict]] = defaultdict(list)
    notes: list[str] = []
    ids: JsonDict = {"draft": "d" * 32, "report": 1, "request": 1, "view": None}

    def submitted(user: str, view: JsonDict, values: JsonDict) -> None:
        seeds["view_submission"].append(builder.view_submission(user, view, values)[1].payload)

    def clicks(user: str, **shown: Any) -> None:
        seeds["block_actions"] += element_seeds(builder, user, **shown)

    def modal_pages() -> None:
        driver.command(AM, COMMAND, "bug")
        view = wait_modal(standin, AM)
        for page in (PAGE_1, PAGE_2, PAGE_3, {}):
            submitted(AM, view, page)
            clicks(AM, view=view)
            seeds["view_closed"].append(builder.view_closed(AM, view, is_cleared=False).payload)
            ids["view"] = view
            driver.submit_view(AM, view, page)
            view = wait_modal(standin, AM, view)

    def open_draft() -> None:
        driver.command(AM2, COMMAND, "bug")
        view = wait_modal(standin, AM2)
        ids["draft"] = json.loads(view.get("private_metadata") or "{}").get("d", ids["draft"])
        submitted(AM2, view, PAGE_1)

    def triage_card() -> None:
        standin.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == TRIAGE)
        card = standin.last_message(TRIAGE)
        clicks(AGENT, message=card, channel=TRIAGE)
        with db.transaction() as session:
            ids["report"] = session.scalar(select(func.max(BugReport.id))) or 1
        opened = len(standin.calls_to("views.open"))
        driver.click(AGENT, card, Action.TRIAGE_ASK)
        standin.wait_for("views.open", count=opened + 1)
        submitted(AGENT, wait_modal(standin, AGENT), {"reason": f"Which browser? {ADDRESS}"})

    def conversation() -> None:
        driver.dm(AGENT, "bug")
        standin.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == AGENT)
        time.sleep(0.3)
        clicks(AGENT, message=standin.last_message("D" + AGENT))

    def deletion() -> None:
        driver.command(AM, COMMAND, "delete")
        view = wait_modal(standin, AM, wait_modal(standin, AM))
        request = {
            "platform": "production",
            "account_kind": "client",
            "client_id": "c-48213",
            "asked_on": YESTERDAY,
            "note": "Asked by phone.",
        }
        for values in (request, {}, {"typed": "c-48213"}):
            submitted(AM, view, values)
            clicks(AM, view=view)
            driver.submit_view(AM, view, values)
            view = wait_modal(standin, AM, view)
        time.sleep(1.0)
        for message in standin.messages(TRIAGE)[-3:]:
            clicks(AGENT, message=message, channel=TRIAGE)
        ids["request"] = 1

    def email() -> None:
        driver.global_shortcut(DO, Shortcut.CHECK_EMAIL)
        submitted(DO, wait_modal(standin, DO), {"address": ADDRESS})

    def home() -> None:
        published = len(standin.calls_to("views.publish"))
        driver.event(
            {"type": "app_home_opened", "user": AGENT, "channel": "D" + AGENT, "tab": "home"}
        )
        standin.wait_for("views.publish", count=published + 1)
        clicks(AGENT, view=standin.home(AGENT))

    def shortcuts() -> None:
        for user in (AM, AGENT, OUTSIDER):
            for shortcut in (Shortcut.REPORT_BUG, Shortcut.CHECK_EMAIL, Shortcut.REQUEST_DELETION):
                seeds["shortcut"].append(builder.global_shortcut(user, shortcut).payload)
        said = standin.add_message(TRIAGE, {"text": f"Spinner again, {ADDRESS}", "user": AM})
        seeds["shortcut"].append(
            builder.message_shortcut(AM, Shortcut.REPORT_MESSAGE_AS_BUG, said, TRIAGE).payload
        )

    steps: dict[str, Callable[[], None]] = {
        "bug report modal": modal_pages,
        "open draft": open_draft,
        "triage card": triage_card,
        "DM conversation": conversation,
        "deletion request": deletion,
        "email check": email,
        "app home": home,
        "shortcuts": shortcuts,
    }
    for name, work in steps.items():
        try:
            work()
        except (AssertionError, TimeoutError, KeyError, IndexError) as problem:
            notes.append(f"{name}: {type(problem).__name__}: {str(problem)[:120]}")
    standin.close_modal(AM2, clear=True)
    return Seeds(dict(seeds), notes), ids


# -- seeds from every ID deskbot knows ----------------------------------------------------------

COMMAND_TEXTS = (
    *("", "help", "bug", "bug chat", "delete", "delete dm", f"email {ADDRESS}", "email"),
    *("deletions", "deletions report 2026-11", "whoami", "find diary", "search spinner"),
)
PERSON = {"id": AGENT, "username": "u0agent", "name": "u0agent", "team_id": "T0001"}
COMMON = {"token": "x", "api_app_id": "A0001", "team": {"id": "T0001"}, "user": PERSON}


def events(builder: PayloadBuilder) -> list[JsonDict]:
    """Events deskbot subscribes to, and some it should pass over."""
    shown = [
        builder.dm_event(AM2, "hello"),
        builder.dm_event(AM2, "bug"),
        builder.dm_event(AGENT, "back"),
        {"type": "app_home_opened", "user": AM, "channel": "D" + AM, "tab": "home"},
        {
            "type": "message",
            "channel": TRIAGE,
            "channel_type": "channel",
            "user": AM,
            "text": "hello",
            "ts": "1.2",
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "D" + AM,
            "channel_type": "im",
            "message": {"text": "bug", "user": AM},
            "ts": "1.3",
        },
        {
            "type": "message",
            "subtype": "bot_message",
            "channel": "D" + AM,
            "channel_type": "im",
            "bot_id": "B0BOT",
            "text": "hi",
            "ts": "1.4",
        },
        {"type": "app_mention", "user": AM, "channel": TRIAGE, "text": "<@U0BOT> bug"},
        {
            "type": "reaction_added",
            "user": AM,
            "reaction": "ticket",
            "item": {"type": "message", "channel": TRIAGE, "ts": "1.2"},
        },
    ]
    return [builder.event(event).payload for event in shown]


def made_seeds(builder: PayloadBuilder, ids: JsonDict) -> dict[str, list[JsonDict]]:
    """Payloads built here, for every command, action ID and callback ID deskbot knows."""
    seeds: dict[str, list[JsonDict]] = defaultdict(list)
    for user in (AM, AGENT, OUTSIDER, DO):
        for words in COMMAND_TEXTS:
            seeds["command"].append(builder.command(user, COMMAND, words).payload)
    draft, report, request = ids["draft"], ids["report"], ids["request"]
    values = [
        draft,
        str(report),
        str(request),
        f"{draft}:platform:https://care.example.org",
        json.dumps({"a": ADDRESS}),
        json.dumps({"to": AM}),
        f"BUG-{report}",
        "next:2",
    ]
    view = {
        "id": "V0EDGE",
        "type": "modal",
        "hash": "h",
        "callback_id": View.FLOW_PAGE,
        "private_metadata": json.dumps({"d": draft, "p": 0}),
        "blocks": [],
        "state": {"values": {}},
    }
    on_message = {
        "container": {"type": "message", "message_ts": "1.1", "channel_id": TRIAGE},
        "channel": {"id": TRIAGE},
        "message": {"ts": "1.1", "blocks": []},
    }
    on_view = {"container": {"type": "view", "view_id": "V0EDGE"}, "view": view}
    for action in Action:
        action_id = f"{action}-1" if action == Action.DM_CHOOSE else str(action)
        for value in values:
            clicked = {
                "type": "button",
                "action_id": action_id,
                "block_id": f"bug-{report}",
                "value": value,
                "action_ts": "1.1",
            }
            for where in (on_message, on_view):
                seeds["block_actions"].append(
                    {**COMMON, "type": "block_actions", "trigger_id": "t.1", "actions": [clicked]}
                    | where
                )
    metas = [
        {"d": draft, "p": 0},
        {"d": draft},
        {"r": request, "a": "pause"},
        {"r": report, "a": "ask"},
        {"to": AM},
    ]
    state = {
        key: {key: {"type": "plain_text_input", "value": f"Hello {ADDRESS}"}}
        for key in ("address", "reason", "typed", "reply", "account_id")
    }
    for callback in View:
        for meta in metas:
            submitted = {
                **view,
                "callback_id": str(callback),
                "private_metadata": json.dumps(meta),
                "state": {"values": state},
            }
            seeds["view_submission"].append(
                {**COMMON, "type": "view_submission", "trigger_id": "t.1", "view": submitted}
            )
    for action_id in ("platform", "tool", "account_id", "assignee"):
        seeds["block_suggestion"].append(
            {
                **COMMON,
                "type": "block_suggestion",
                "action_id": action_id,
                "block_id": action_id,
                "value": "car",
                "container": {"type": "view", "view_id": "V0EDGE"},
                "view": view,
            }
        )
    seeds["event"] = events(builder)
    seeds["event"].append({"token": "x", "challenge": "c", "type": "url_verification"})
    return dict(seeds)
