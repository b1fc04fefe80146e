"""A user's DM with deskbot, driven through the Slack driver and read back from the stand-in."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from deskbot.db import Database
from deskbot.models import Draft
from deskbot.slack.ids import Action
from tests.support.driver import _Driver
from tests.support.slack_standin import SlackStandin


def eventually(check: Any, timeout: float = 5.0) -> Any:
    """The first truthy result of check(), polled; deskbot finishes Slack work after the ack."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


class Chat:
    """One user's DM with deskbot, read from what the stand-in recorded."""

    def __init__(
        self, db: Database, driver: _Driver[Any], standin: SlackStandin, user: str
    ) -> None:
        self.db, self.driver, self.standin, self.user = db, driver, standin, user
        self.channel = "D" + user

    def question(self) -> dict[str, Any]:
        """The newest message from deskbot in the DM, once its state has been stored."""

        def stored() -> dict[str, Any] | None:
            messages = self.from_deskbot()
            if not messages:
                return None
            newest = messages[-1]
            with self.db.transaction() as session:
                draft = session.scalars(
                    select(Draft)
                    .where(Draft.user_id == self.user)
                    .order_by(Draft.updated_at.desc())
                ).first()
                ts = ((draft.state if draft else {}).get("dm") or {}).get("ts")
            return (
                newest if ts == newest["ts"] or draft is None or draft.status != "active" else None
            )

        message = eventually(stored)
        assert message, "deskbot did not ask anything"
        return message

    def from_deskbot(self) -> list[dict[str, Any]]:
        return [m for m in self.standin.messages(self.channel) if m.get("subtype") == "bot_message"]

    def text(self) -> str:
        return blocks_text(self.question().get("blocks", []))

    def say(self, text: str, **kwargs: Any) -> None:
        self.driver.dm(self.user, text, **kwargs)
        self.settle()

    def press(self, action_id: str, choice: str | None = None) -> None:
        """Press a button of the latest question; choice names it by its value or its label."""
        message = self.question()
        value = None
        if choice is not None:
            action_id, value = next(
                (e["action_id"], e["value"])
                for b in message["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
                if e.get("action_id", "").startswith(action_id)
                and (e.get("value", "").endswith(":" + choice) or e["text"]["text"] == choice)
            )
        self.driver.click(self.user, message, action_id, value)
        self.settle()

    def tick(self, *values: str) -> None:
        message = self.question()
        self.driver.block_action(
            self.user,
            Action.DM_TICK,
            message=message,
            channel_id=self.channel,
            selected_options=list(values),
        )
        self.settle()
        self.press(Action.DM_DONE)

    def settle(self) -> None:
        """Wait until deskbot has finished answering (its calls to Slack have stopped)."""
        seen = -1
        while seen != len(self.standin.calls):
            seen = len(self.standin.calls)
            time.sleep(0.1)


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def text_objects(node: Any) -> list[dict[str, Any]]:
    """Every Block Kit text object (plain_text or mrkdwn) inside node."""
    if isinstance(node, dict):
        found = [node] if node.get("type") in ("plain_text", "mrkdwn") else []
        return found + [o for value in node.values() for o in text_objects(value)]
    if isinstance(node, list):
        return [o for value in node for o in text_objects(value)]
    return []
