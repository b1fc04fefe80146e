"""Builds the Block Kit for a flow from a draft's state, through the templates."""

from __future__ import annotations

import json
from typing import Any

from deskbot import privacy
from deskbot.flows import presenting
from deskbot.flows.engine import Flow, Kind, Notice, Option, Step
from deskbot.i18n import N_, _
from deskbot.models import BugReport
from deskbot.slack.ids import DM_ACTIONS, MODAL_ACTIONS, TRIAGE_ACTIONS, Action, View
from deskbot.templating import render_blocks, render_view

RADIO_LIMIT = 5  # more options than this read better as a drop-down
# The statuses an agent can set on a triage card (triage.SETTABLE), as its drop-down names them.
STATUS_OPTIONS = {
    "in_progress": N_("In progress"),
    "waiting": N_("Waiting for the reporter"),
    "with_vendor": N_("With the vendor"),
}


def _option(o: Option) -> dict[str, str]:
    return {"value": o.value, "label": o.label}


def modal_field(step: Step, answers: dict[str, Any]) -> dict[str, Any]:
    """One step as the view model of an input block."""
    answer = answers.get(step.key)
    field: dict[str, Any] = {
        "key": step.key,
        "label": step.label,
        "hint": step.hint,
        "optional": step.optional or step.kind == Kind.TICK or step.other is not None,
        "options": [_option(o) for o in step.options],
        "max_length": step.max_length,
        "placeholder": step.placeholder,
        "initial_option": None,
        "initial_options": [],
        "initial_text": None,
        "other": None,
    }
    if step.kind == Kind.CHOICE:
        field["element"] = (
            "radio" if len(step.options) <= RADIO_LIMIT and not step.other else "select"
        )
        chosen = next((o for o in step.options if o.value == answer), None)
        field["initial_option"] = _option(chosen) if chosen else None
        if step.other is not None:
            field["label"] = step.question
            field["other"] = {"label": step.other, "initial": answer if chosen is None else None}
            if chosen is None and isinstance(answer, str):
                # A typed URL: show it in the free-text box, not as a chosen option.
                field["initial_option"] = None
    elif step.kind in (Kind.MULTI, Kind.TICK):
        field["element"] = "tick" if step.kind == Kind.TICK else "checkboxes"
        picked = answer if isinstance(answer, list) else (["yes"] if answer else [])
        field["initial_options"] = [_option(o) for o in step.options if o.value in picked]
    elif step.kind == Kind.DATE:
        field["element"] = "date"
        field["initial_text"] = answer if isinstance(answer, str) and answer else None
    elif step.kind == Kind.FILES:
        field["element"] = "file"
        if answer:
            field["hint"] = _(
                "Attached: {files}. Files added here replace them.", files=step.display(answer)
            )
    else:
        field["element"] = "multiline" if step.kind == Kind.LONG_TEXT else "text"
        field["initial_text"] = answer if isinstance(answer, str) and answer else None
    return field


def metadata(flow: Flow, draft_id: str, page: int | None) -> str:
    return json.dumps({"f": flow.name, "d": draft_id, "p": page})


def modal_page(
    flow: Flow, draft_id: str, answers: dict[str, Any], page: int, *, resumed: bool = False
) -> dict[str, Any]:
    steps = flow.page_steps(page, answers)
    last = flow.next_page(page, answers) is None
    first_key = steps[0].key if steps else None
    return render_view(
        "slack/modal_page.json.j2",
        callback_id=View.FLOW_PAGE,
        private_metadata=metadata(flow, draft_id, page),
        title=flow.title,
        # Translators: a dialog's submit button, at most 24 characters.
        submit=_("Review") if last else _("Next"),
        progress=_(
            "Step {page} of {pages}: {title}",
            page=page + 1,
            pages=flow.page_count,
            title=flow.page_titles[page],
        )
        + " · "
        + presenting.position(flow, answers, first_key),
        resumed=resumed,
        wording=flow.wording,
        fields=[modal_field(s, answers) for s in steps],
        can_go_back=page > 0,
        draft_id=draft_id,
        actions=MODAL_ACTIONS,
    )


def summary_context(flow: Flow, answers: dict[str, Any]) -> dict[str, Any]:
    found = flow.summary_notices(answers)
    return {
        "wording": flow.wording,
        "flow_title": flow.title,
        "lines": presenting.lines(flow, answers),
        "notices": presenting.notices(flow, found),
    }


def modal_summary(flow: Flow, draft_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    return render_view(
        "slack/modal_summary.json.j2",
        callback_id=View.FLOW_SUMMARY,
        private_metadata=metadata(flow, draft_id, None),
        title=flow.title,
        draft_id=draft_id,
        actions=MODAL_ACTIONS,
        **summary_context(flow, answers),
    )


def modal_notice(title: str, text: str) -> dict[str, Any]:
    return render_view("slack/modal_notice.json.j2", title=title, text=text)


def dm_question(
    flow: Flow,
    draft_id: str,
    state: dict[str, Any],
    *,
    error: str | None = None,
    notices: list[Notice] | None = None,
) -> list[dict[str, Any]]:
    step = flow.step(state["current"])
    answers = state["answers"]
    previous = answers.get(step.key)
    if step.kind == Kind.CHOICE:
        element = "buttons"
    elif step.kind == Kind.MULTI:
        element = "checkboxes"
    elif step.kind == Kind.TICK:
        element = "tick"
    elif step.kind == Kind.FILES:
        element = "files"
    else:
        element = "text"
    picked = state.get("pending", {}).get(step.key, previous)
    if step.kind == Kind.TICK:
        picked = ["yes"] if picked else []
    return render_blocks(
        "slack/dm_question.json.j2",
        question=step.question,
        hint=step.hint,
        error=error,
        notices=presenting.notices(flow, notices or []),
        element=element,
        options=[_option(o) for o in step.options],
        initial_options=[_option(o) for o in step.options if o.value in (picked or [])],
        other=_("{other}: type it as a message.", other=step.other) if step.other else None,
        previous=previous if isinstance(previous, str) else None,
        optional=step.optional,
        can_go_back=bool(state.get("path")),
        token=f"{draft_id}:{step.key}",
        actions=DM_ACTIONS,
        progress=presenting.progress(flow, answers, step.key),
    )


def dm_cancelled(flow: Flow) -> list[dict[str, Any]]:
    return render_blocks("slack/dm_cancelled.json.j2", cancelled=flow.wording.cancelled)


def dm_answered(step: Step, value: Any) -> list[dict[str, Any]]:
    return render_blocks(
        "slack/dm_answered.json.j2", question=step.question, answer=step.display(value)
    )


def dm_summary(
    flow: Flow, draft_id: str, answers: dict[str, Any], *, filed_reference: str | None = None
) -> list[dict[str, Any]]:
    return render_blocks(
        "slack/dm_summary.json.j2",
        token=f"{draft_id}:summary",
        actions=DM_ACTIONS,
        filed_reference=filed_reference,
        **summary_context(flow, answers),
    )


def filed_receipt(flow: Flow, report: BugReport) -> list[dict[str, Any]]:
    hints = [n.text for n in flow.notices(report.answers) if n.kind == "hint"]
    return render_blocks("slack/filed.json.j2", reference=report.reference, hints=hints)


def triage_card(flow: Flow, report: BugReport, *, mails: bool = False) -> list[dict[str, Any]]:
    """The service desk's copy: personal data redacted, never the reporter's warnings."""
    from deskbot import triage

    shown = presenting.lines(flow, report.answers, transform=privacy.redact)
    headline = next((line.value for line in shown if line.key == "actual"), "")
    return render_blocks(
        "slack/triage_card.json.j2",
        reference=report.reference,
        report_id=report.id,
        headline=headline.splitlines()[0] if headline else "",
        reporter_id=report.reporter_id,
        assignee_id=report.assignee_id,
        status=triage.label(report),
        lines=shown,
        notices=[],
        resolution=privacy.redact(report.resolution) if report.resolution else None,
        open=report.status != triage.Status.RESOLVED,
        statuses=[{"value": s.value, "label": _(STATUS_OPTIONS[s])} for s in triage.SETTABLE],
        mails=mails,
        actions=TRIAGE_ACTIONS,
    )


def triage_question(report: BugReport, agent_id: str, question: str) -> list[dict[str, Any]]:
    """The service desk's question in the reporter's DM, with a button to answer it."""
    return render_blocks(
        "slack/triage_question.json.j2",
        reference=report.reference,
        report_id=report.id,
        agent_id=agent_id,
        question=question,
        reply=Action.TRIAGE_REPLY,
    )


def triage_resolved(report: BugReport, answer: str) -> list[dict[str, Any]]:
    """The reporter's news: resolved, with the answer to pass on to the end user."""
    return render_blocks("slack/triage_resolved.json.j2", reference=report.reference, answer=answer)


def text_dialog(
    callback_id: str, item_id: int, reference: str, purpose: str, words: tuple[str, str, str, str]
) -> dict[str, Any]:
    """A modal asking for one text about an item (a reason, a question, an answer); the
    purpose travels in the metadata. words: title, submit label, introduction, field label."""
    title, submit, intro, label = words
    return render_view(
        "slack/text_dialog.json.j2",
        callback_id=callback_id,
        private_metadata=json.dumps({"r": item_id, "a": purpose}),
        title=title,
        submit=submit,
        intro=f"*{reference}*: {intro}",
        label=label,
    )
