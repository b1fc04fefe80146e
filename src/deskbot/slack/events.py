"""Events: messages in the app's DM carry the answers of a conversation."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from deskbot.slack import flow_dm
from deskbot.slack.app import Services, later


def register(app: App, services: Services) -> None:
    @later(app.event("message"))
    def message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") != "im":
            return
        # The event ID makes a retried delivery (X-Slack-Retry-Num) a no-op, on any instance:
        # one greeting, one conversation, one answer per message.
        if services.runner.first_delivery(body.get("event_id")):
            flow_dm.on_message(services, event, body.get("event_id"))
