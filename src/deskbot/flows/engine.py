"""Declares conversation flows and moves a draft through them; knows nothing of Slack.

A flow is an ordered list of steps. Each step says what to ask, how to check and normalise
the answer, whether it may be skipped, and when it applies at all (branching). A transport
(Slack modal, Slack DM, console) decides how to show a step; this module decides what comes
next. The draft's state is a plain JSON-able dict, stored after every step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from deskbot import i18n
from deskbot.i18n import _


class Kind(StrEnum):
    CHOICE = "choice"  # one of the options (buttons / radio / select)
    MULTI = "multi"  # any of the options (checkboxes)
    TEXT = "text"  # one line of text
    LONG_TEXT = "long_text"  # several lines
    FILES = "files"  # Slack files (screenshots)
    TICK = "tick"  # one box that must be ticked
    DATE = "date"  # a calendar date (a date picker; typed in a conversation)


class Invalid(ValueError):
    """An answer that cannot be taken; the message is shown to the user as it is, so it is
    written (translated) when raised, inside the user's request."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def translated(options: tuple[Option, ...]) -> tuple[Option, ...]:
    """Options declared with `N_()` labels, with their labels in the language in force; the
    values (what is stored) stay as they are."""
    return tuple(Option(o.value, _(o.label)) for o in options)


@dataclass(frozen=True)
class When:
    """The step applies when the answer to `key` is one of `values` (or includes one of them)."""

    key: str
    values: frozenset[str]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.key)
        if isinstance(answer, list):
            return bool(self.values.intersection(answer))
        return answer in self.values

    @classmethod
    def answered(cls, key: str) -> When:
        return _Answered(key, frozenset())


@dataclass(frozen=True)
class _Answered(When):
    def holds(self, answers: Mapping[str, Any]) -> bool:
        return bool(answers.get(self.key))


def when(key: str, *values: str) -> When:
    return When(key, frozenset(values))


Parser = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Step:
    key: str
    kind: Kind
    label: str  # short: modal label, summary line
    question: str  # the full question in a conversation
    page: int  # which modal view the step is on
    hint: str | None = None
    optional: bool = False
    options: tuple[Option, ...] = ()
    other: str | None = None  # CHOICE only: label of a free-text alternative to the options
    conditions: tuple[When, ...] = ()
    parse: Parser | None = None
    max_length: int = 3000
    placeholder: str | None = None

    def applies(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.conditions)

    def option_label(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)

    def clean(self, raw: Any, answers: Mapping[str, Any]) -> Any:
        """The stored form of a raw answer, or Invalid with a message for the user."""
        value = _normalise(self, raw)
        if _is_empty(value):
            if self.optional:
                return [] if self.kind in (Kind.MULTI, Kind.FILES) else None
            raise Invalid(_required_message(self))
        closed_choice = self.kind == Kind.CHOICE and self.other is None
        if closed_choice and value not in {o.value for o in self.options}:
            raise Invalid(_("Please choose one of the options."))
        if self.kind == Kind.MULTI:
            allowed = {o.value for o in self.options}
            if not set(value) <= allowed:
                raise Invalid(_("Please choose from the options shown."))
            value = [o.value for o in self.options if o.value in value]  # declared order
        if isinstance(value, str) and len(value) > self.max_length:
            raise Invalid(_("Please keep this under {limit} characters.", limit=self.max_length))
        return self.parse(value, answers) if self.parse else value

    def display(self, value: Any) -> str:
        """An answer as a person reads it."""
        if value is None or value == [] or value == "":
            return "—"
        if self.kind == Kind.CHOICE:
            return self.option_label(str(value))
        if self.kind == Kind.MULTI:
            return ", ".join(self.option_label(v) for v in value)
        if self.kind == Kind.FILES:
            # Translators: shown for an attached file that has neither a name nor an ID.
            return ", ".join(f.get("name") or f.get("id") or _("file") for f in value)
        if self.kind == Kind.TICK:
            if value:
                # Translators: a summary's answer for a box that was ticked.
                return _("yes")
            # Translators: a summary's answer for a box that was not ticked.
            return _("no")
        if self.kind == Kind.DATE:
            try:
                return i18n.day(date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        return str(value)


def _normalise(step: Step, raw: Any) -> Any:
    if step.kind in (Kind.MULTI, Kind.FILES):
        if raw is None:
            return []
        return list(raw) if isinstance(raw, list | tuple) else [raw]
    if step.kind == Kind.TICK:
        # Only a real tick counts: True, or the ticked box's value ("yes").
        return raw is True or raw == "yes" or (isinstance(raw, list) and "yes" in raw)
    if raw is None:
        return None
    text = str(raw).replace("\r\n", "\n").strip()
    return text


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _required_message(step: Step) -> str:
    if step.kind == Kind.TICK:
        return _("Please tick this box to go on.")
    if step.kind in (Kind.CHOICE, Kind.MULTI):
        return _("Please choose an answer.")
    return _("This one is needed; please fill it in.")


@dataclass(frozen=True)
class Notice:
    """Something the user should know before filing; it never blocks."""

    kind: str  # "personal_data" or "hint"
    text: str
    step: str | None = None  # the step it is about, if any


@dataclass(frozen=True)
class Wording:
    """The words a transport needs around a flow's questions, written in the language in
    force when the flow is declared (each flow is declared once per language)."""

    summary_intro: str  # mrkdwn: "*Please check everything once more.* …"
    submit: str  # at most 24 characters: a modal button
    ready: str  # "Your report is ready to file."
    start_again: str  # "Start a new report with `/desk bug`."
    resumed: str  # "Your unfinished report is back, …": a reopened modal
    continuing: str  # "Continuing your unfinished report.": the console
    waiting: str  # "Your unfinished report is still waiting for you ({where}).": a nudge
    cancelled: str  # mrkdwn: "Report cancelled and its draft discarded. Type *bug* …"


@dataclass(frozen=True)
class Flow:
    name: str
    title: str  # at most 24 characters: it is a modal title
    steps: tuple[Step, ...]
    page_titles: tuple[str, ...]
    wording: Wording
    notices: Callable[[Mapping[str, Any]], list[Notice]] = field(default=lambda answers: [])

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    @property
    def page_count(self) -> int:
        return len(self.page_titles)

    def first_step(self, answers: Mapping[str, Any]) -> Step | None:
        return self._next_from(0, answers)

    def step_after(self, key: str, answers: Mapping[str, Any]) -> Step | None:
        index = [s.key for s in self.steps].index(key)
        return self._next_from(index + 1, answers)

    def _next_from(self, index: int, answers: Mapping[str, Any]) -> Step | None:
        return next((s for s in self.steps[index:] if s.applies(answers)), None)

    def page_steps(self, page: int, answers: Mapping[str, Any]) -> list[Step]:
        """The steps of a modal page: those whose branch is decided by earlier pages.

        A condition on a key of the same page cannot be known while the view is open,
        so such a step is shown and its condition is checked on submission.
        """
        on_page = [s for s in self.steps if s.page == page]
        keys = {s.key for s in on_page}
        return [s for s in on_page if all(c.key in keys or c.holds(answers) for c in s.conditions)]

    def next_page(self, after: int, answers: Mapping[str, Any]) -> int | None:
        for page in range(after + 1, self.page_count):
            if self.page_steps(page, answers):
                return page
        return None

    def applicable(self, answers: Mapping[str, Any]) -> list[Step]:
        return [s for s in self.steps if s.applies(answers)]

    def final_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Only the answers on the path taken: a branch left by going back is dropped."""
        return {s.key: answers.get(s.key) for s in self.applicable(answers)}

    def summary_notices(self, answers: Mapping[str, Any]) -> list[Notice]:
        """The notices about the answers on the path taken (not a branch left by "Back")."""
        return self.notices(self.final_answers(answers))

    def missing(self, answers: Mapping[str, Any]) -> list[Step]:
        return [s for s in self.applicable(answers) if s.key not in answers]


# ---- the draft's state, and what can happen to it -------------------------------------


@dataclass
class Outcome:
    """What a move did: the step to ask next (None when everything is answered) or an error."""

    next_step: Step | None
    error: str | None = None
    notices: list[Notice] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.error is None and self.next_step is None


class Conversation:
    """One question at a time over a draft's state dict (answers, path, current)."""

    def __init__(self, flow: Flow, state: dict[str, Any]) -> None:
        self.flow = flow
        self.state = state
        state.setdefault("answers", {})
        state.setdefault("path", [])
        if "current" not in state:
            first = flow.first_step(state["answers"])
            state["current"] = first.key if first else None

    @property
    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = self.state["answers"]
        return answers

    @property
    def current(self) -> Step | None:
        key = self.state.get("current")
        return self.flow.step(key) if key else None

    def answer(self, raw: Any) -> Outcome:
        step = self.current
        if step is None:
            return Outcome(None, error=_("Everything is answered already."))
        try:
            value = step.clean(raw, self.answers)
        except Invalid as problem:
            return Outcome(step, error=str(problem))
        return self._advance(step, value)

    def skip(self) -> Outcome:
        step = self.current
        if step is None or not step.optional:
            return Outcome(step, error=_("This question cannot be skipped."))
        return self._advance(step, [] if step.kind in (Kind.MULTI, Kind.FILES) else None)

    def back(self) -> Outcome:
        path: list[str] = self.state["path"]
        if not path:
            return Outcome(self.current, error=_("This is the first question."))
        self.state["current"] = path.pop()
        return Outcome(self.current)

    def _advance(self, step: Step, value: Any) -> Outcome:
        self.answers[step.key] = value
        self.state["path"].append(step.key)
        following = self.flow.step_after(step.key, self.answers)
        self.state["current"] = following.key if following else None
        return Outcome(following, notices=step_notices(self.flow, step, self.answers))


def step_notices(flow: Flow, step: Step, answers: Mapping[str, Any]) -> list[Notice]:
    """The notices that concern one step's answer (shown right after it in a conversation)."""
    return [n for n in flow.notices({step.key: answers.get(step.key)}) if n.kind != "hint"]


def clean_page(
    flow: Flow, page: int, raw: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check one submitted modal page: the cleaned answers, and errors by step key."""
    steps = flow.page_steps(page, answers)
    merged: dict[str, Any] = dict(answers)
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    # Choices first, so a same-page condition (e.g. screenshots → tick) sees its answer.
    for step in sorted(steps, key=lambda s: bool(s.conditions)):
        if not step.applies(merged):
            continue
        try:
            value = step.clean(raw.get(step.key), merged)
        except Invalid as problem:
            errors[step.key] = str(problem)
            continue
        cleaned[step.key] = merged[step.key] = value
    return cleaned, errors


def summary_lines(flow: Flow, answers: Mapping[str, Any]) -> list[tuple[Step, str]]:
    return [(s, s.display(answers.get(s.key))) for s in flow.applicable(answers)]
