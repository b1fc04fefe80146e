"""Entry points: the /desk command and the shortcuts that start a flow."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from deskbot.roles import MAY_REPORT_BUGS
from deskbot.slack import email_check, flow_dm, flow_modal
from deskbot.slack.access import may_report, not_allowed
from deskbot.slack.app import Services, later, quiet
from deskbot.slack.ids import COMMAND, Shortcut
from deskbot.templating import render_text

MESSAGE_TEXT_LIMIT = 3000


def register(app: App, services: Services) -> None:
    def wants(body: dict[str, Any]) -> tuple[str, bool]:
        words = (body.get("text") or "").strip().lower().split()
        topic = words[0] if words else "help"
        if topic in ("email", "mail", "e-mail"):
            return "email", False
        return ("bug" if topic in ("bug", "report") else "help"), words[1:2] in (["chat"], ["dm"])

    def desk_ack(ack: Ack, body: dict[str, Any]) -> None:
        topic, _ = wants(body)
        if topic == "help":
            ack(text=render_text("text/help.txt.j2", command=COMMAND))
        else:
            ack()  # the role check may ask Slack for group members: not before the ack

    def desk(body: dict[str, Any], respond: Respond) -> None:
        topic, chat = wants(body)
        user_id = body["user_id"]
        if topic == "email":
            address = (body.get("text") or "").strip().partition(" ")[2].strip()
            email_check.command(services, body, respond, address)
            return
        if topic != "bug":
            return
        if not services.roles.has_any(user_id, MAY_REPORT_BUGS):
            respond(text=not_allowed(user_id, "report bugs"))
        elif chat:
            flow_dm.start(services, user_id)
            respond(text="I have sent you the first question in a direct message.")
        else:
            flow_modal.open_flow(services, user_id=user_id, trigger_id=body["trigger_id"])

    app.command(COMMAND)(ack=desk_ack, lazy=[quiet(desk)])

    @later(app.shortcut(Shortcut.REPORT_BUG))
    def report_bug(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if may_report(services, user_id):
            flow_modal.open_flow(services, user_id=user_id, trigger_id=body["trigger_id"])

    @later(app.shortcut(Shortcut.REPORT_MESSAGE_AS_BUG))
    def report_message(body: dict[str, Any]) -> None:
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
