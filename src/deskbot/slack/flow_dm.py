"""A flow as a conversation in a DM: one question at a time, buttons for choices, back/skip/cancel."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from deskbot.flows.engine import Conversation, Kind, Outcome
from deskbot.flows.runner import Moved, NotYours, Snapshot
from deskbot.slack import filing, views
from deskbot.slack.app import Services
from deskbot.slack.ids import Action
from deskbot.slack.payloads import files_of, token_parts

FLOW = "bug_report"
TYPED_COMMANDS = {"back": "back", "skip": "skip", "cancel": "cancel", "stop": "cancel"}


def start(services: Services, user_id: str) -> None:
    draft, _ = services.runner.open(flow=FLOW, user_id=user_id, surface="dm")
    resume(services, draft)


def resume(services: Services, draft: Snapshot, *, error: str | None = None) -> None:
    """Ask the draft's current question (or show the summary) as a new message in the DM."""
    channel = dm_channel(services, draft)
    flow = services.runner.flow(draft.flow)
    if draft.state.get("current"):
        blocks = views.dm_question(flow, draft.id, draft.state, error=error)
        text = flow.step(draft.state["current"]).question
    else:
        blocks = views.dm_summary(flow, draft.id, draft.state["answers"])
        text = "Your bug report is ready to file."
    posted = services.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    services.runner.update_state(
        draft.id, draft.user_id, {"dm": {"channel": channel, "ts": posted["ts"]}, "pending": {}}
    )


def dm_channel(services: Services, draft: Snapshot) -> str:
    known = (draft.state.get("dm") or {}).get("channel")
    if known:
        return str(known)
    opened = services.client.conversations_open(users=draft.user_id)
    return str(opened["channel"]["id"])


def after_move(services: Services, moved: Moved, *, answered_key: str | None) -> None:
    """Show the result of a move: the answered question closed, then the next one or the summary."""
    if moved.duplicate:
        return
    draft, outcome = moved.draft, moved.outcome
    flow = services.runner.flow(draft.flow)
    dm = draft.state.get("dm") or {}
    if outcome.error:
        resume(services, draft, error=outcome.error)
        return
    if answered_key and dm.get("ts"):
        step = flow.step(answered_key)
        services.client.chat_update(
            channel=dm["channel"], ts=dm["ts"], text=step.question,
            blocks=views.dm_answered(step, draft.state["answers"].get(answered_key)),
        )
    channel = dm_channel(services, draft)
    if draft.state.get("current"):
        blocks = views.dm_question(flow, draft.id, draft.state, notices=outcome.notices)
        text = flow.step(draft.state["current"]).question
    else:
        blocks = views.dm_summary(flow, draft.id, draft.state["answers"])
        text = "Your bug report is ready to file."
    posted = services.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    services.runner.update_state(
        draft.id, draft.user_id, {"dm": {"channel": channel, "ts": posted["ts"]}, "pending": {}}
    )


def on_message(services: Services, event: dict[str, Any], event_id: str | None) -> None:
    """A message in the DM: the answer to the current question, a typed command, or a start."""
    user_id = event.get("user")
    if not user_id or event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
        return
    runner = services.runner
    with runner.db.transaction() as session:
        from deskbot import drafts

        draft = drafts.find_active(
            session, organisation_id=runner.settings.organisation_id, user_id=user_id, surface="dm"
        )
        draft_id = draft.id if draft else None
    text = (event.get("text") or "").strip()
    if draft_id is None:
        starting = text.lower() in ("bug", "report", "report a bug", "resume", "start")
        from deskbot.slack.commands import may_report

        if starting and may_report(services, user_id):
            start(services, user_id)
        elif not starting:
            services.client.chat_postMessage(
                channel=event["channel"],
                text="Hello! Type *bug* to report a bug step by step, or use `/desk bug` for a form.",
            )
        return
    command = TYPED_COMMANDS.get(text.lower())
    if command == "cancel":
        cancel(services, draft_id, user_id)
        return
    current: list[str] = []

    def move(conversation: Conversation) -> Outcome:
        step = conversation.current
        current.append(step.key if step else "")
        if command == "back":
            return conversation.back()
        if command == "skip":
            return conversation.skip()
        if step is None:
            return Outcome(None, error="Everything is answered: use the buttons below to file it.")
        if step.kind == Kind.FILES:
            pending = conversation.state.setdefault("pending", {})
            pending[step.key] = pending.get(step.key, []) + files_of(event)
            return Outcome(step, error=None if event.get("files") else "Drop the screenshots here, or press Skip.")
        if step.kind in (Kind.TEXT, Kind.LONG_TEXT) or step.other:
            return conversation.answer(text)
        if step.kind == Kind.CHOICE:
            chosen = next(
                (o.value for o in step.options if text.lower() in (o.value.lower(), o.label.lower())), None
            )
            if chosen:
                return conversation.answer(chosen)
        return Outcome(step, error="Please use the buttons for this question.")

    try:
        moved = runner.move(draft_id, user_id, move, event_id=event_id)
    except NotYours:
        return
    step_key = current[0] if current else None
    if moved.duplicate:
        return
    step = runner.flow(moved.draft.flow).step(step_key) if step_key else None
    if step is not None and step.kind == Kind.FILES and not moved.outcome.error:
        return  # files collected; the user presses Done
    answered = step_key if command is None and not moved.outcome.error else None
    after_move(services, moved, answered_key=answered)


def cancel(services: Services, draft_id: str, user_id: str) -> None:
    draft = services.runner.cancel(draft_id, user_id)
    dm = draft.state.get("dm") or {}
    if dm.get("ts"):
        services.client.chat_update(
            channel=dm["channel"], ts=dm["ts"], text="Report cancelled.",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": ":wastebasket: Report cancelled and its draft discarded."}}],
        )


def register(app: App, services: Services) -> None:
    runner = services.runner

    def acting(body: dict[str, Any]) -> tuple[str, str, str, str]:
        action = body["actions"][0]
        draft_id, step_key, option = token_parts(action.get("value"), 3)
        return body["user"]["id"], draft_id, step_key, option

    def guarded(body: dict[str, Any], draft_id: str, user_id: str, step_key: str, make: Any) -> None:
        """Apply a move only if the click belongs to the user's current question."""
        try:
            draft = runner.get(draft_id, user_id)
        except NotYours:
            services.client.chat_postEphemeral(
                channel=body["channel"]["id"], user=user_id,
                text="This is not your report, or it is already closed.",
            )
            return
        current = draft.state.get("current") or "summary"
        if draft.status != "active" or current != step_key:
            services.client.chat_postEphemeral(
                channel=body["channel"]["id"], user=user_id,
                text="That question was answered already; the latest question is further down.",
            )
            return
        try:
            moved = runner.move(draft_id, user_id, make)
        except NotYours:
            return
        after_move(services, moved, answered_key=step_key if make.answers else None)

    class Answer:
        answers = True

        def __init__(self, value: Any) -> None:
            self.value = value

        def __call__(self, conversation: Conversation) -> Outcome:
            return conversation.answer(self.value)

    class Nav:
        answers = False

        def __init__(self, name: str) -> None:
            self.name = name

        def __call__(self, conversation: Conversation) -> Outcome:
            return conversation.back() if self.name == "back" else conversation.skip()

    # Each choice button has its own action ID (Slack wants them unique within a message).
    @app.action(re.compile(rf"^{Action.DM_CHOOSE}-\d+$"))
    def choose(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, draft_id, step_key, option = acting(body)
        guarded(body, draft_id, user_id, step_key, Answer(option))

    @app.action(Action.DM_TICK)
    def tick(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id = body["user"]["id"]
        action = body["actions"][0]
        block_value = [o["value"] for o in action.get("selected_options") or []]
        # The checkboxes carry no token; the draft is the one whose question this message is.
        draft = find_by_message(services, user_id, body)
        if draft is not None and draft.state.get("current"):
            runner.update_state(draft.id, user_id, {"pending": {draft.state["current"]: block_value}})

    @app.action(Action.DM_DONE)
    def done(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, draft_id, step_key, _ = acting(body)
        try:
            draft = runner.get(draft_id, user_id)
        except NotYours:
            return
        value = (draft.state.get("pending") or {}).get(step_key)
        if value is None:
            value = checkbox_state(body)
        step = runner.flow(draft.flow).step(step_key) if step_key in [s.key for s in runner.flow(draft.flow).steps] else None
        if step is not None and step.kind == Kind.TICK:
            value = bool(value)
        guarded(body, draft_id, user_id, step_key, Answer(value))

    @app.action(Action.DM_BACK)
    def back(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, draft_id, step_key, _ = acting(body)
        guarded(body, draft_id, user_id, step_key, Nav("back"))

    @app.action(Action.DM_SKIP)
    def skip(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, draft_id, step_key, _ = acting(body)
        guarded(body, draft_id, user_id, step_key, Nav("skip"))

    @app.action(Action.DM_CANCEL)
    def cancel_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, draft_id, _, _ = acting(body)
        try:
            cancel(services, draft_id, user_id)
        except NotYours:
            return

    @app.action(Action.DM_SUBMIT)
    def submit(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user_id, draft_id, _, _ = acting(body)
        try:
            filed = runner.file(draft_id, user_id)
        except NotYours:
            return
        draft = runner.get(draft_id, user_id)
        dm = draft.state.get("dm") or {}
        if dm.get("ts") and not filed.already:
            services.client.chat_update(
                channel=dm["channel"], ts=dm["ts"], text=f"Filed as {filed.report.reference}.",
                blocks=views.dm_summary(
                    runner.flow(draft.flow), draft.id, filed.report.answers,
                    filed_reference=filed.report.reference,
                ),
            )
        filing.announce(services, filed, receipt_channel=dm.get("channel") or user_id)


def checkbox_state(body: dict[str, Any]) -> list[str]:
    """Selected checkboxes from the message's state, which Slack sends with every click."""
    for block in ((body.get("state") or {}).get("values") or {}).values():
        for element in block.values():
            if element.get("type") == "checkboxes":
                return [o["value"] for o in element.get("selected_options") or []]
    return []


def find_by_message(services: Services, user_id: str, body: dict[str, Any]) -> Snapshot | None:
    ts = (body.get("container") or {}).get("message_ts")
    with services.db.transaction() as session:
        from deskbot import drafts

        draft = drafts.find_active(
            session, organisation_id=services.settings.organisation_id, user_id=user_id, surface="dm"
        )
        if draft is None or (draft.state.get("dm") or {}).get("ts") != ts:
            return None
        from deskbot.flows.runner import snapshot

        return snapshot(draft)
