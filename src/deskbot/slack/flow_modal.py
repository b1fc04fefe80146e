"""A flow as a Slack modal: one view per page, errors shown on the field, a summary to confirm."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from deskbot.flows.runner import Incomplete, NotOwner, NotYours, Snapshot
from deskbot.i18n import _
from deskbot.slack import errors, filing, flow_dm, views
from deskbot.slack.app import Services, later, quiet
from deskbot.slack.ids import Action, View
from deskbot.slack.payloads import metadata, view_values
from deskbot.templating import render_blocks


def open_flow(
    services: Services,
    *,
    flow: str,
    user_id: str,
    trigger_id: str,
    prefill: dict[str, Any] | None = None,
) -> None:
    """Open the modal on the user's unfinished draft of this flow, or on a new one."""
    draft, resumed = services.runner.open(
        flow=flow, user_id=user_id, surface="modal", prefill=prefill
    )
    try:
        services.client.views_open(
            trigger_id=trigger_id, view=view_for(services, draft, resumed=resumed)
        )
    except SlackApiError as refused:
        if errors.slack_code(refused) not in {*errors.TRIGGER_GONE, "ratelimited"}:
            raise
        # Too late for this trigger; a click on the message brings a fresh one.
        services.client.chat_postMessage(
            channel=user_id,
            text=_("The form could not be opened in time. Your answers are kept."),
            blocks=render_blocks(
                "slack/form_not_opened.json.j2", action=Action.HOME_RESUME, draft_id=draft.id
            ),
        )


def view_for(services: Services, draft: Snapshot, *, resumed: bool = False) -> dict[str, Any]:
    """The page holding the first unanswered question, or the summary when all is answered."""
    flow = services.runner.flow(draft.flow)
    answers = draft.state.get("answers", {})
    missing = flow.missing(answers)
    if not missing:
        return views.modal_summary(flow, draft.id, answers)
    page = missing[0].page
    return views.modal_page(flow, draft.id, answers, page, resumed=resumed)


def submitted_answers(view: dict[str, Any]) -> dict[str, Any]:
    raw = view_values(view)
    for key in [k for k in raw if k.endswith("__other")]:
        typed = raw.pop(key)
        if typed:  # a typed address wins over a chosen platform
            raw[key.removesuffix("__other")] = typed
    return raw


def register(app: App, services: Services) -> None:
    runner = services.runner

    def not_theirs(body: dict[str, Any]) -> None:
        """A click on a view that holds no draft of the clicker's: they are told, privately,
        and the view (perhaps someone else's) is left alone."""
        errors.tell(services.client, body, _("This is not your draft, or it is already closed."))

    @app.view(View.FLOW_PAGE)
    def page_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = metadata(view)
        user_id = body["user"]["id"]
        page = int(meta.get("p") or 0)
        raw = submitted_answers(view)
        try:
            draft, errors = runner.save_page(meta.get("d", ""), user_id, page, raw)
        except NotYours:
            ack(response_action="update", view=gone())
            return
        if errors:
            ack(response_action="errors", errors=error_blocks(errors, view))
            return
        flow = runner.flow(draft.flow)
        answers = draft.state["answers"]
        following = flow.next_page(page, answers)
        if following is None:
            ack(response_action="update", view=views.modal_summary(flow, draft.id, answers))
        else:
            ack(response_action="update", view=views.modal_page(flow, draft.id, answers, following))

    def summary_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        draft_id = metadata(view).get("d", "")
        try:
            filed = runner.file(draft_id, user_id)
        except Incomplete as incomplete:
            # Something is unanswered (an older view, say): back to the page that asks it.
            ack(response_action="update", view=view_for(services, incomplete.draft, resumed=True))
            return
        except NotYours:
            ack(response_action="update", view=gone())
            return
        ack(response_action="update", view=filing.filed_view(services, filed, user_id))

    def announce(body: dict[str, Any], view: dict[str, Any]) -> None:
        filing.announce_draft(services, metadata(view).get("d", ""), body["user"]["id"])

    app.view(View.FLOW_SUMMARY)(ack=summary_submitted, lazy=[quiet(announce)])

    @later(app.action(Action.MODAL_BACK))
    def back(body: dict[str, Any]) -> None:
        view, user_id = body["view"], body["user"]["id"]
        meta = metadata(view)
        try:
            if meta.get("p") is None:
                draft = runner.get(meta.get("d", ""), user_id)
                page = services.runner.flow(draft.flow).page_count
            else:
                page = int(meta["p"])
                draft, _errors = runner.save_page(
                    meta["d"], user_id, page, submitted_answers(view), partial=True
                )
        except NotOwner:
            not_theirs(body)
            return
        except NotYours:
            services.client.views_update(view_id=view["id"], view=gone())
            return
        flow = runner.flow(draft.flow)
        answers = draft.state["answers"]
        previous = next((p for p in range(page - 1, -1, -1) if flow.page_steps(p, answers)), 0)
        services.client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=views.modal_page(flow, draft.id, answers, previous),
        )

    @later(app.action(Action.MODAL_RESTART))
    def restart(body: dict[str, Any]) -> None:
        view, user_id = body["view"], body["user"]["id"]
        meta = metadata(view)
        try:
            runner.cancel(meta.get("d", ""), user_id)
        except NotOwner:
            not_theirs(body)
            return
        except NotYours:
            pass  # already closed: start afresh all the same
        draft, _resumed = runner.open(
            flow=meta.get("f") or "bug_report", user_id=user_id, surface="modal", fresh=True
        )
        flow = runner.flow(draft.flow)
        services.client.views_update(
            view_id=view["id"], view=views.modal_page(flow, draft.id, draft.state["answers"], 0)
        )

    @later(app.action(Action.MODAL_TO_DM))
    def to_dm(body: dict[str, Any]) -> None:
        view, user_id = body["view"], body["user"]["id"]
        meta = metadata(view)
        try:
            if meta.get("p") is not None:
                runner.save_page(
                    meta["d"], user_id, int(meta["p"]), submitted_answers(view), partial=True
                )
            draft = runner.switch_surface(meta.get("d", ""), user_id, "dm")
        except NotOwner:
            not_theirs(body)
            return
        except NotYours:
            services.client.views_update(view_id=view["id"], view=gone())
            return
        services.client.views_update(
            view_id=view["id"],
            view=views.modal_notice(
                # Translators: a dialog's title, at most 24 characters.
                _("Continue in a DM"),
                _("Your answers are saved. I have sent you the next question in a direct message."),
            ),
        )
        flow_dm.ask(services, draft)


def error_blocks(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Errors keyed by the block that shows the field (a typed URL has its own block)."""
    block_ids = {b.get("block_id") for b in view.get("blocks", [])}
    shown: dict[str, str] = {}
    for key, message in errors.items():
        other = f"{key}__other"
        typed = (
            (view.get("state") or {}).get("values", {}).get(other, {}).get(other, {}).get("value")
        )
        shown[other if typed and other in block_ids else key] = message
    return shown


def gone() -> dict[str, Any]:
    return views.modal_notice(
        "deskbot",
        _(
            "This draft is closed: it was filed, cancelled or has expired. "
            "`/desk help` shows how to start a new one."
        ),
    )
