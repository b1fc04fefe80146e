"""A flow as a DM conversation: one question at a time, buttons for choices, back/skip/cancel."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from deskbot.flows import bug_report, deletion_request
from deskbot.flows.engine import Conversation, Kind, Notice, Outcome, Step
from deskbot.flows.runner import SUMMARY, Incomplete, Moved, NotAllowed, NotYours, Snapshot
from deskbot.i18n import N_, _
from deskbot.slack import filing, views
from deskbot.slack.access import may_start, not_allowed
from deskbot.slack.app import Services, later
from deskbot.slack.ids import Action
from deskbot.slack.payloads import files_of, token_parts

# What a user may type at a question, and the move it is. These English words are always
# understood; `typed_move` adds the words of the language in force.
TYPED = {"back": "back", "skip": "skip", "cancel": "cancel", "stop": "cancel"}
# What a user may type in the DM to start a flow, and the flow it starts (see `starter`).
STARTERS = {
    "bug": bug_report.NAME,
    "report": bug_report.NAME,
    "report a bug": bug_report.NAME,
    "resume": bug_report.NAME,
    "start": bug_report.NAME,
    "delete": deletion_request.NAME,
    "deletion": deletion_request.NAME,
}


def typed_move(text: str) -> str | None:
    """The move a typed message asks for ("back", "skip", "cancel"), or None for an answer."""
    word = text.strip().lower()
    if word in TYPED:
        return TYPED[word]
    translated = {
        # Translators: a word the user types to go back to the previous question.
        _("back"): "back",
        # Translators: a word the user types to skip an optional question.
        _("skip"): "skip",
        # Translators: a word the user types to discard an unfinished report or request.
        _("cancel"): "cancel",
        # Translators: another word the user may type to discard an unfinished report.
        _("stop"): "cancel",
    }
    return next((move for typed, move in translated.items() if typed.lower() == word), None)


def starter(text: str) -> str | None:
    """The flow a typed message starts, when there is no draft: English words, and those of
    the language in force."""
    word = text.strip().lower()
    if word in STARTERS:
        return STARTERS[word]
    translated = {
        # Translators: a word the user types in the DM to start a bug report.
        _("bug"): bug_report.NAME,
        # Translators: a word the user types in the DM to start a bug report.
        _("report"): bug_report.NAME,
        # Translators: words the user may type in the DM to start a bug report.
        _("report a bug"): bug_report.NAME,
        # Translators: a word the user types in the DM to start a deletion request.
        _("delete"): deletion_request.NAME,
        # Translators: a word the user types in the DM to start a deletion request.
        _("deletion"): deletion_request.NAME,
    }
    return next((flow for typed, flow in translated.items() if typed.lower() == word), None)


@dataclass(frozen=True)
class Move:
    """What the user did at a question: answered it, went back, or skipped it."""

    kind: str  # "answer", "back" or "skip"
    value: Any = None

    def __call__(self, conversation: Conversation) -> Outcome:
        if self.kind == "back":
            return conversation.back()
        if self.kind == "skip":
            return conversation.skip()
        return conversation.answer(self.value)


def start(services: Services, user_id: str, flow: str) -> None:
    draft, _resumed = services.runner.open(flow=flow, user_id=user_id, surface="dm")
    ask(services, draft)


def ask(
    services: Services,
    draft: Snapshot,
    *,
    error: str | None = None,
    notices: list[Notice] | None = None,
) -> None:
    """Post the draft's current question (or the summary) and remember which message it is."""
    flow = services.runner.flow(draft.flow)
    current = draft.state.get("current")
    if current:
        blocks = views.dm_question(flow, draft.id, draft.state, error=error, notices=notices)
        text = flow.step(current).question
    else:
        blocks = views.dm_summary(flow, draft.id, draft.state["answers"])
        text = flow.wording.ready
    posted = services.client.chat_postMessage(channel=dm_channel(draft), text=text, blocks=blocks)
    services.runner.update_state(
        draft.id,
        draft.user_id,
        {"dm": {"channel": posted["channel"], "ts": posted["ts"]}, "pending": {}},
    )


def dm_channel(draft: Snapshot) -> str:
    """The DM's channel ID once known; until then the user ID, which Slack posts to the DM."""
    return str((draft.state.get("dm") or {}).get("channel") or draft.user_id)


def show(services: Services, moved: Moved, answered: Step | None) -> None:
    """After a move: close the answered question, then ask the next one (or show the summary)."""
    if moved.duplicate:
        return
    draft, outcome = moved.draft, moved.outcome
    dm = draft.state.get("dm") or {}
    if answered is not None and not outcome.error and dm.get("ts"):
        services.client.chat_update(
            channel=dm["channel"],
            ts=dm["ts"],
            text=answered.question,
            blocks=views.dm_answered(answered, draft.state["answers"].get(answered.key)),
        )
    ask(services, draft, error=outcome.error, notices=outcome.notices)


def on_message(services: Services, event: dict[str, Any], event_id: str | None) -> None:
    """A message in the DM: the answer to the current question, a typed command, or a start."""
    user_id = event.get("user")
    if not user_id or event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
        return
    # One message of a user at a time, so two quick answers cannot overtake each other.
    with _turn(user_id):
        _on_message(services, user_id, event, event_id)


def _on_message(
    services: Services, user_id: str, event: dict[str, Any], event_id: str | None
) -> None:
    runner = services.runner
    draft = runner.find_active(user_id, surface="dm")
    text = (event.get("text") or "").strip()
    if draft is None:
        flow = starter(text)
        if flow is None:
            services.client.chat_postMessage(
                channel=event["channel"],
                text=_(
                    "Hello! Type *{bug}* to report a bug step by step, or *{delete}* to request "
                    "the deletion of a client's account. `/desk help` shows everything else.",
                    bug=_("bug"),
                    delete=_("delete"),
                ),
            )
        elif may_start(services, user_id, flow):
            start(services, user_id, flow)
        return
    typed = typed_move(text)
    if typed == "cancel":
        cancel(services, draft.id, user_id)
        return
    key = draft.state.get("current")
    step = runner.flow(draft.flow).step(key) if key else None
    if typed is None and step is not None and step.kind == Kind.FILES:
        collect_files(services, draft, step, event, event_id)
        return
    if typed is None and step is not None and step.kind in (Kind.MULTI, Kind.TICK):
        ask(services, draft, error=_("Please tick the boxes above and press Done."))
        return
    move = Move(typed) if typed else Move("answer", typed_answer(step, text))
    try:
        moved = runner.move(draft.id, user_id, move, event_id=event_id, expect_step=key or SUMMARY)
    except NotYours:
        return
    if moved.stale:
        ask(
            services,
            moved.draft,
            error=_("That answer crossed my next question; please repeat it."),
        )
        return
    show(services, moved, step if move.kind == "answer" else None)


_turns: dict[str, threading.Lock] = {}
_turns_lock = threading.Lock()


def _turn(user_id: str) -> threading.Lock:
    with _turns_lock:
        return _turns.setdefault(user_id, threading.Lock())


def typed_answer(step: Step | None, text: str) -> Any:
    """A typed answer; for a choice, the option whose label (in the language in force) or
    value was typed. The value is what is stored."""
    if step is None or step.kind != Kind.CHOICE:
        return text
    lowered = text.lower()
    return next(
        (o.value for o in step.options if lowered in (o.value.lower(), o.label.lower())), text
    )


def collect_files(
    services: Services, draft: Snapshot, step: Step, event: dict[str, Any], event_id: str | None
) -> None:
    """Screenshots dropped into the DM are gathered until the user presses Done."""
    files = files_of(event)
    if not files:
        ask(services, draft, error=_("Drop the screenshots here, or press Skip."))
        return
    services.runner.add_pending(draft.id, draft.user_id, step.key, files, event_id=event_id)


def cancel(services: Services, draft_id: str, user_id: str) -> None:
    draft = services.runner.cancel(draft_id, user_id)
    dm = draft.state.get("dm") or {}
    if dm.get("ts"):
        flow = services.runner.flow(draft.flow)
        services.client.chat_update(
            channel=dm["channel"],
            ts=dm["ts"],
            text=flow.wording.cancelled,
            blocks=views.dm_cancelled(flow),
        )


def register(app: App, services: Services) -> None:
    runner = services.runner

    def clicked(body: dict[str, Any]) -> tuple[str, str, str, str]:
        draft_id, step_key, option = token_parts(body["actions"][0].get("value"), 3)
        return body["user"]["id"], draft_id, step_key, option

    def refuse(body: dict[str, Any], user_id: str, text: str) -> None:
        services.client.chat_postEphemeral(channel=body["channel"]["id"], user=user_id, text=text)

    def act(body: dict[str, Any], move: Move) -> None:
        """Apply a click, but only from the draft's owner and only on the current question."""
        user_id, draft_id, step_key, _option = clicked(body)
        try:
            moved = runner.move(draft_id, user_id, move, expect_step=step_key)
        except NotAllowed:
            refuse(
                body, user_id, not_allowed(user_id, N_("Sorry, you cannot use this with deskbot."))
            )
            return
        except NotYours:
            refuse(body, user_id, not_yours())
            return
        if moved.stale:
            refuse(body, user_id, _("That question was answered already; the latest one is below."))
            return
        flow = runner.flow(moved.draft.flow)
        show(services, moved, flow.step(step_key) if move.kind == "answer" else None)

    # Each choice has its own action ID: Slack wants them unique within a block.
    @later(app.action(re.compile(rf"^{Action.DM_CHOOSE}-\d+$")))
    def choose(body: dict[str, Any]) -> None:
        act(body, Move("answer", clicked(body)[3]))

    @later(app.action(Action.DM_TICK))
    def tick(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        selected = [o["value"] for o in body["actions"][0].get("selected_options") or []]
        draft = runner.find_active(user_id, surface="dm")
        ts = (body.get("container") or {}).get("message_ts")
        # The checkboxes carry no token: they belong to the draft whose question this message is.
        if (
            draft is not None
            and draft.state.get("current")
            and (draft.state.get("dm") or {}).get("ts") == ts
        ):
            runner.update_state(draft.id, user_id, {"pending": {draft.state["current"]: selected}})

    @later(app.action(Action.DM_DONE))
    def done(body: dict[str, Any]) -> None:
        user_id, draft_id, step_key, _option = clicked(body)
        try:
            draft = runner.get(draft_id, user_id)
        except NotYours:
            refuse(body, user_id, not_yours())
            return
        # The boxes as ticked when Done was clicked (Slack sends them along); else what the
        # tick events stored, or the files dropped into the DM.
        value = checkbox_state(body)
        if value is None:
            value = (draft.state.get("pending") or {}).get(step_key)
        kind = next((s.kind for s in runner.flow(draft.flow).steps if s.key == step_key), None)
        act(body, Move("answer", bool(value) if kind == Kind.TICK else value))

    @later(app.action(Action.DM_BACK))
    def back(body: dict[str, Any]) -> None:
        act(body, Move("back"))

    @later(app.action(Action.DM_SKIP))
    def skip(body: dict[str, Any]) -> None:
        act(body, Move("skip"))

    @later(app.action(Action.DM_CANCEL))
    def cancel_clicked(body: dict[str, Any]) -> None:
        user_id, draft_id, _step, _option = clicked(body)
        try:
            cancel(services, draft_id, user_id)
        except NotYours:
            refuse(body, user_id, not_yours())

    @later(app.action(Action.DM_SUBMIT))
    def submit(body: dict[str, Any]) -> None:
        user_id, draft_id, _step, _option = clicked(body)
        try:
            filed = runner.file(draft_id, user_id)
            draft = runner.get(draft_id, user_id)
        except Incomplete:
            refuse(body, user_id, _("Some questions are still unanswered; press Back to see them."))
            return
        except NotYours:
            refuse(body, user_id, not_yours())
            return
        dm = draft.state.get("dm") or {}
        if dm.get("ts") and not filed.already:
            flow = runner.flow(draft.flow)
            services.client.chat_update(
                channel=dm["channel"],
                ts=dm["ts"],
                text=_("Filed as {reference}.", reference=filed.item.reference),
                blocks=views.dm_summary(
                    flow,
                    draft.id,
                    flow.final_answers(draft.state["answers"]),
                    filed_reference=filed.item.reference,
                ),
            )
        filing.announce_item(services, filed.item)


def not_yours() -> str:
    return _("This is not your draft, or it is already closed.")


def checkbox_state(body: dict[str, Any]) -> list[str] | None:
    """Ticked boxes from the message's state, which Slack sends along with a click."""
    for block in ((body.get("state") or {}).get("values") or {}).values():
        for element in block.values():
            if element.get("type") == "checkboxes":
                return [o["value"] for o in element.get("selected_options") or []]
    return None
