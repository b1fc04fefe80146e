""" "This email address is already in use": where does it live, as much as the asker may see."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond

from deskbot.accounts import advice
from deskbot.accounts.check import check_address
from deskbot.accounts.normalise import InvalidAddress
from deskbot.i18n import N_, _
from deskbot.roles import MAY_CHECK_EMAIL, SEES_CLIENT_DATA, Role
from deskbot.slack.access import not_allowed
from deskbot.slack.app import Services, later, quiet
from deskbot.slack.ids import Action, Shortcut, View
from deskbot.slack.payloads import metadata, view_values
from deskbot.templating import render_blocks, render_view

FIELD = "address"


def look_up(services: Services, user_id: str, raw: str, *, via: str) -> advice.Answer:
    return check_address(
        services.db,
        services.settings,
        actor=user_id,
        raw=raw,
        sees_clients=services.roles.has_any(user_id, SEES_CLIENT_DATA),
        via=via,
    )


def answer_blocks(answer: advice.Answer) -> list[dict[str, Any]]:
    return render_blocks(
        "slack/email_answer.json.j2",
        answer=answer,
        ask_action=Action.EMAIL_ASK_DATA_OFFICER,
        ask_value=json.dumps({"a": answer.address}),
    )


def command(services: Services, body: dict[str, Any], respond: Respond, address: str) -> None:
    """`/desk email ADDRESS`: the answer, privately, where the command was typed."""
    user_id = body["user_id"]
    if not services.roles.has_any(user_id, MAY_CHECK_EMAIL):
        respond(
            text=not_allowed(user_id, N_("Sorry, you cannot check email addresses with deskbot."))
        )
        return
    if not address:
        services.client.views_open(trigger_id=body["trigger_id"], view=ask_view())
        return
    try:
        found = look_up(services, user_id, address, via="command")
    except InvalidAddress as problem:
        respond(text=str(problem))
        return
    respond(text=found.summary, blocks=answer_blocks(found))


def ask_view() -> dict[str, Any]:
    return render_view("slack/email_modal.json.j2", callback_id=View.EMAIL_CHECK, field=FIELD)


def register(app: App, services: Services) -> None:
    @later(app.shortcut(Shortcut.CHECK_EMAIL))
    def shortcut(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if not services.roles.has_any(user_id, MAY_CHECK_EMAIL):
            services.client.chat_postMessage(
                channel=user_id,
                text=not_allowed(
                    user_id, N_("Sorry, you cannot check email addresses with deskbot.")
                ),
            )
            return
        services.client.views_open(trigger_id=body["trigger_id"], view=ask_view())

    @app.view(View.EMAIL_CHECK)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if not services.roles.has_any(user_id, MAY_CHECK_EMAIL):
            ack(
                response_action="errors",
                errors={
                    FIELD: not_allowed(
                        user_id, N_("Sorry, you cannot check addresses with deskbot.")
                    )
                },
            )
            return
        try:
            found = look_up(services, user_id, view_values(view).get(FIELD) or "", via="modal")
        except InvalidAddress as problem:
            ack(response_action="errors", errors={FIELD: str(problem)})
            return
        ack(
            response_action="update",
            view=render_view("slack/email_result.json.j2", blocks=answer_blocks(found)),
        )

    @later(app.action(Action.EMAIL_ASK_DATA_OFFICER))
    def ask_data_officer(body: dict[str, Any]) -> None:
        """Route the question to the data officers; they see the client account in full."""
        asker = body["user"]["id"]
        address = json.loads(body["actions"][0]["value"]).get("a", "")
        if not services.roles.has_any(asker, MAY_CHECK_EMAIL):
            return
        officers = services.roles.members(Role.DATA_OFFICER)
        for officer in officers:
            # Each data officer reads the question, and the answer in it, in their language.
            with services.languages.speaking_to(officer):
                found = look_up(services, officer, address, via="data-officer")
                services.client.chat_postMessage(
                    channel=officer,
                    text=_("A question about an email address for you as data officer."),
                    blocks=render_blocks(
                        "slack/email_for_data_officer.json.j2",
                        asker=asker,
                        answer_blocks=answer_blocks(found),
                        reply_action=Action.EMAIL_REPLY,
                        reply_value=json.dumps({"to": asker}),
                    ),
                )
        services.client.chat_postMessage(
            channel=asker,
            text=(
                _("I have asked the data officer; their answer will come here.")
                if officers
                else _("No data officer is configured for deskbot; ask the person who runs it.")
            ),
        )

    @later(app.action(Action.EMAIL_REPLY))
    def reply_clicked(body: dict[str, Any]) -> None:
        officer = body["user"]["id"]
        if not services.roles.has_any(officer, SEES_CLIENT_DATA):
            return
        asker = json.loads(body["actions"][0]["value"]).get("to", "")
        services.client.views_open(
            trigger_id=body["trigger_id"],
            view=render_view(
                "slack/email_reply_modal.json.j2",
                callback_id=View.EMAIL_REPLY,
                private_metadata=json.dumps({"to": asker}),
            ),
        )

    def reply_ack(ack: Ack, body: dict[str, Any]) -> None:
        if not services.roles.has_any(body["user"]["id"], SEES_CLIENT_DATA):
            ack(response_action="errors", errors={"reply": _("Only a data officer can answer.")})
            return
        ack()

    def reply_sent(body: dict[str, Any], view: dict[str, Any]) -> None:
        officer = body["user"]["id"]
        if not services.roles.has_any(officer, SEES_CLIENT_DATA):
            return
        asker = metadata(view).get("to", "")
        # The answer goes to the asker: in their language, not the data officer's.
        with services.languages.speaking_to(asker):
            services.client.chat_postMessage(
                channel=asker,
                text=_("The data officer answered your question about an email address."),
                blocks=render_blocks(
                    "slack/email_reply.json.j2",
                    officer=officer,
                    reply=view_values(view).get("reply"),
                ),
            )

    app.view(View.EMAIL_REPLY)(ack=reply_ack, lazy=[quiet(reply_sent)])
