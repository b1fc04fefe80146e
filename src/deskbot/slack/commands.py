"""Entry points: the /desk command and the shortcuts that start a flow."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from deskbot.roles import MAY_REPORT_BUGS
from deskbot.slack import flow_dm, flow_modal
from deskbot.slack.app import Services
from deskbot.slack.ids import COMMAND, Shortcut
from deskbot.templating import render_text

MESSAGE_TEXT_LIMIT = 3000


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def desk(ack: Ack, body: dict[str, Any]) -> None:
        user_id = body["user_id"]
        words = (body.get("text") or "").strip().lower().split()
        topic = words[0] if words else "help"
        if topic not in ("bug", "report"):
            ack(text=render_text("text/help.txt.j2", command=COMMAND))
            return
        if not services.roles.has_any(user_id, MAY_REPORT_BUGS):
            ack(text=not_allowed(user_id, "report bugs"))
            return
        if len(words) > 1 and words[1] in ("chat", "dm"):
            ack(text="I have sent you the first question in a direct message.")
            flow_dm.start(services, user_id)
            return
        ack()
        flow_modal.open_flow(services, user_id=user_id, trigger_id=body["trigger_id"])

    @app.shortcut(Shortcut.REPORT_BUG)
    def report_bug(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        if may_report(services, user_id):
            flow_modal.open_flow(services, user_id=user_id, trigger_id=body["trigger_id"])

    @app.shortcut(Shortcut.REPORT_MESSAGE_AS_BUG)
    def report_message(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        if not may_report(services, user_id):
            return
        text = (body.get("message") or {}).get("text") or ""
        flow_modal.open_flow(
            services,
            user_id=user_id,
            trigger_id=body["trigger_id"],
            prefill={"scenario": text[:MESSAGE_TEXT_LIMIT]} if text.strip() else None,
        )


def not_allowed(user_id: str, what: str) -> str:
    return render_text("text/not_allowed.txt.j2", user_id=user_id, what=what)


def may_report(services: Services, user_id: str) -> bool:
    """Only application managers and agents report bugs; others are told why in a DM."""
    if services.roles.has_any(user_id, MAY_REPORT_BUGS):
        return True
    services.client.chat_postMessage(channel=user_id, text=not_allowed(user_id, "report bugs"))
    return False
