"""Entry points: the /desk command and the shortcuts that start a flow."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from deskbot.flows import bug_report, deletion_request
from deskbot.i18n import _
from deskbot.slack import deletion_desk, desk_tools, email_check, flow_dm, flow_modal
from deskbot.slack.access import WHAT, may_start, not_allowed
from deskbot.slack.app import Services, later, quiet
from deskbot.slack.ids import COMMAND, Shortcut
from deskbot.templating import render_text

MESSAGE_TEXT_LIMIT = 3000


TOPICS = {
    "bug": "bug",
    "report": "bug",
    "delete": "delete",
    "deletion": "delete",
    "deletions": "deletions",
    "email": "email",
    "mail": "email",
    "e-mail": "email",
    "whoami": "whoami",
    "find": "find",
    "search": "find",
}
FLOWS = {"bug": bug_report.NAME, "delete": deletion_request.NAME}


def register(app: App, services: Services) -> None:
    def wants(body: dict[str, Any]) -> tuple[str, list[str]]:
        """The topic of a /desk command, and the words after it (original case)."""
        words = (body.get("text") or "").strip().split()
        topic = TOPICS.get(words[0].lower(), "help") if words else "help"
        return topic, words[1:]

    def desk_ack(ack: Ack, body: dict[str, Any]) -> None:
        topic, _rest = wants(body)
        if topic == "help":
            ack(text=render_text("text/help.txt.j2", command=COMMAND))
        else:
            ack()  # the role check may ask Slack for group members: not before the ack

    def desk(body: dict[str, Any], respond: Respond) -> None:
        topic, rest = wants(body)
        user_id = body["user_id"]
        if topic == "email":
            email_check.command(services, body, respond, " ".join(rest))
        elif topic == "deletions":
            deletion_desk.command(services, body, respond, rest)
        elif topic == "whoami":
            desk_tools.whoami(services, user_id, respond)
        elif topic == "find":
            desk_tools.find(services, user_id, " ".join(rest), respond)
        elif topic in FLOWS:
            flow = FLOWS[topic]
            if not services.runner.may_start(user_id, flow):
                respond(text=not_allowed(user_id, WHAT[flow]))
            elif [w.lower() for w in rest[:1]] in (["chat"], ["dm"]):
                flow_dm.start(services, user_id, flow)
                respond(text=_("I have sent you the first question in a direct message."))
            else:
                flow_modal.open_flow(
                    services, flow=flow, user_id=user_id, trigger_id=body["trigger_id"]
                )

    app.command(COMMAND)(ack=desk_ack, lazy=[quiet(desk)])

    @later(app.shortcut(Shortcut.REPORT_BUG))
    def report_bug(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if may_start(services, user_id, bug_report.NAME):
            flow_modal.open_flow(
                services, flow=bug_report.NAME, user_id=user_id, trigger_id=body["trigger_id"]
            )

    @later(app.shortcut(Shortcut.REQUEST_DELETION))
    def request_deletion(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if may_start(services, user_id, deletion_request.NAME):
            flow_modal.open_flow(
                services,
                flow=deletion_request.NAME,
                user_id=user_id,
                trigger_id=body["trigger_id"],
            )

    @later(app.shortcut(Shortcut.REPORT_MESSAGE_AS_BUG))
    def report_message(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if not may_start(services, user_id, bug_report.NAME):
            return
        text = (body.get("message") or {}).get("text") or ""
        flow_modal.open_flow(
            services,
            flow=bug_report.NAME,
            user_id=user_id,
            trigger_id=body["trigger_id"],
            prefill={"scenario": text[:MESSAGE_TEXT_LIMIT]} if text.strip() else None,
        )
