"""The local console: every flow in a terminal, without Slack, on the same drafts and database."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from deskbot import deletions, i18n, privacy
from deskbot.accounts.advice import CLIENT
from deskbot.accounts.check import check_address
from deskbot.accounts.importer import import_csv
from deskbot.accounts.lookup import last_import
from deskbot.accounts.normalise import InvalidAddress
from deskbot.flows import bug_report, deletion_request, presenting
from deskbot.flows.deletion_request import ERASED
from deskbot.flows.engine import Conversation, Kind, Outcome, Step
from deskbot.flows.runner import FlowRunner, Incomplete, NotYours
from deskbot.i18n import _
from deskbot.models import DeletionRequest
from deskbot.roles import Refused
from deskbot.templating import render_text

CONSOLE_USER = "console"
# The words typed at the console, in English; those of the language in force work too.
BACK, SKIP, CANCEL, QUIT = "back", "skip", "cancel", "quit"
YES = ("y", "yes", "1", "ja", "j")
NO = ("n", "no", "nee")


def moves() -> dict[str, str]:
    """What each word typed at a question means: the English words and the translated ones."""
    translated = {
        # Translators: a word the user types to go back to the previous question.
        _("back"): BACK,
        # Translators: a word the user types to skip an optional question.
        _("skip"): SKIP,
        # Translators: a word the user types to discard an unfinished report or request.
        _("cancel"): CANCEL,
        # Translators: a word the user types at the console to stop (the draft is kept).
        _("quit"): QUIT,
    }
    return {word.lower(): move for word, move in translated.items()} | {
        move: move for move in (BACK, SKIP, CANCEL, QUIT)
    }


def yes_words() -> set[str]:
    """The answers that mean yes: English and Dutch always, and the language in force."""
    # Translators: the short answer "yes" typed at the console, as in "[y/N]".
    short = _("y")
    # Translators: the answer "yes" typed at the console.
    return set(YES) | {short.lower(), _("yes").lower()}


def no_words() -> set[str]:
    # Translators: the short answer "no" typed at the console, as in "[Y/n]".
    short = _("n")
    # Translators: the answer "no" typed at the console.
    return set(NO) | {short.lower(), _("no").lower()}


def word(text: str) -> str:
    """A word the user typed, bold, as the console shows it in its instructions."""
    return f"[bold]{escape(text)}[/]"


class ConsoleSession:
    """One person at a terminal; `ask` reads a line (input() in real use, a script in tests).

    It runs inside `i18n.speaking()`: every text is written in that language when shown."""

    def __init__(self, runner: FlowRunner, ask: Callable[[str], str], out: Console) -> None:
        self.runner = runner
        self.ask = ask
        self.out = out

    def main_menu(self) -> None:
        settings = self.runner.settings
        self.out.print(
            Panel.fit(
                _("deskbot console · {organisation}", organisation=settings.organisation),
                style="bold",
            )
        )
        while True:
            self.out.print(
                "\n[bold]"
                + _("What would you like to do?")
                + "[/]\n  1. "
                + _("Report a bug")
                + "\n  2. "
                + _('Check an email address ("already in use")')
                + "\n  3. "
                + _("Request the deletion of a client account")
                + "\n  q. "
                + _("Quit")
            )
            choice = self.read("> ").lower()
            if choice in ("1", "bug", _("bug").lower()):
                self.run_flow(bug_report.NAME)
            elif choice in ("2", "email", _("email").lower()):
                self.email_check()
            elif choice in ("3", "delete", _("delete").lower()):
                self.run_flow(deletion_request.NAME)
            elif choice in ("q", "quit", "exit", "", _("quit").lower()):
                return

    def read(self, prompt: str) -> str:
        try:
            return self.ask(prompt).strip()
        except EOFError:
            return QUIT

    def run_flow(self, name: str) -> None:
        draft, resumed = self.runner.open(flow=name, user_id=CONSOLE_USER, surface="console")
        flow = self.runner.flow(draft.flow)
        if resumed:
            self.out.print(
                f"[yellow]{flow.wording.continuing}[/] "
                + _("Type {cancel} to discard it.", cancel=word(_("cancel")))
            )
        self.out.print(
            _(
                "Type {back}, {skip} (optional questions), {cancel} or {quit} (keeps the draft).",
                back=word(_("back")),
                skip=word(_("skip")),
                cancel=word(_("cancel")),
                quit=word(_("quit")),
            )
        )
        state = draft.state
        meaning = moves()
        while state.get("current"):
            step = flow.step(state["current"])
            self.out.print(f"\n[dim]{presenting.progress(flow, state['answers'], step.key)}[/]")
            self.show_question(step, state["answers"].get(step.key))
            line = self.read("> ")
            move = meaning.get(line.lower())
            if move == QUIT:
                self.out.print(_("Saved. Your draft waits for you."))
                return
            if move == CANCEL:
                self.runner.cancel(draft.id, CONSOLE_USER)
                self.out.print(_("Cancelled; the draft is discarded."))
                return
            moved = self.runner.move(draft.id, CONSOLE_USER, self.mover(step, line, move))
            state = moved.draft.state
            self.report(moved.outcome)
        self.summary_and_file(draft.id)

    def show_question(self, step: Step, previous: Any) -> None:
        self.out.print(
            f"[bold]{step.question}[/]"
            + (" [dim]" + _("(optional)") + "[/]" if step.optional else "")
        )
        if step.hint:
            self.out.print(f"[dim]{step.hint}[/]")
        for number, option in enumerate(step.options, start=1):
            self.out.print(f"  {number}. {option.label}")
        if step.kind == Kind.MULTI:
            self.out.print("[dim]" + _("Numbers separated by commas; empty for none.") + "[/]")
        if step.other:
            self.out.print(f"[dim]{step.other}.[/]")
        if step.kind == Kind.FILES:
            self.out.print("[dim]" + _("Paths of image files, separated by commas.") + "[/]")
        if isinstance(previous, str) and previous:
            self.out.print(
                "[dim]" + _("Earlier answer: {answer}", answer=escape(previous)) + "[/]",
                highlight=False,
            )

    def mover(self, step: Step, line: str, move: str | None) -> Callable[[Conversation], Outcome]:
        def apply(conversation: Conversation) -> Outcome:
            if move == BACK:
                return conversation.back()
            if move == SKIP:
                return conversation.skip()
            return conversation.answer(self.raw_answer(step, line))

        return apply

    def raw_answer(self, step: Step, line: str) -> Any:
        def pick(token: str) -> str:
            token = token.strip()
            if token.isdigit() and 1 <= int(token) <= len(step.options):
                return step.options[int(token) - 1].value
            return token

        if step.kind == Kind.CHOICE:
            return pick(line)
        if step.kind == Kind.MULTI:
            return [pick(t) for t in line.split(",") if t.strip()]
        if step.kind == Kind.TICK:
            return line.lower() in yes_words()
        if step.kind == Kind.FILES:
            paths = [Path(p.strip()).expanduser() for p in line.split(",") if p.strip()]
            return [{"id": f"local:{p.name}", "name": p.name} for p in paths if p.is_file()]
        if step.kind == Kind.LONG_TEXT:
            return line.replace("\\n", "\n")
        return line

    def report(self, outcome: Outcome) -> None:
        if outcome.error:
            self.out.print(f"[red]{escape(outcome.error)}[/]", highlight=False)
        for notice in outcome.notices:
            self.out.print("[yellow]" + _("Note:") + f"[/] {notice.text}", highlight=False)

    def email_check(self) -> None:
        """The console holds every role, the data officer's included: it shows everything."""
        self.offer_demo_accounts()
        raw = self.read(_("Email address:") + " ")
        try:
            answer = check_address(
                self.runner.db,
                self.runner.settings,
                actor=CONSOLE_USER,
                raw=raw,
                sees_clients=True,
                via="console",
            )
        except InvalidAddress as problem:
            self.out.print(f"[red]{escape(str(problem))}[/]")
            return
        self.out.print(f"\n[bold]{escape(answer.summary)}[/]")
        for shown in answer.shown:
            details = [
                _("active") if shown.active else _("inactive"),
                _("ID {id}", id=escape(shown.account_id or "?")),
                escape(shown.display_name or _("no name")),
            ]
            if shown.externally_managed:
                details.append(_("externally managed"))
            if shown.groups:
                details.append(_("groups: {groups}", groups=escape(", ".join(shown.groups))))
            values = {"platform": escape(shown.platform), "details": ", ".join(details)}
            if shown.kind == CLIENT:
                # Translators: {details} lists: active or inactive, the ID, the name, ….
                found = _("client account on {platform} — {details}", **values)
            else:
                # Translators: {details} lists: active or inactive, the ID, the name, ….
                found = _("professional account on {platform} — {details}", **values)
            self.out.print(f"• {found}", highlight=False)
        for hint in answer.hints:
            self.out.print("[yellow]" + _("Hint:") + f"[/] {escape(hint)}", highlight=False)
        for step in answer.next_steps:
            self.out.print("[bold]" + _("Next:") + f"[/] {escape(step)}", highlight=False)
        imported = (
            answer.last_import.isoformat(timespec="minutes") if answer.last_import else _("never")
        )
        self.out.print(
            "[dim]" + _("Account store last imported: {moment}", moment=imported) + "[/]"
        )

    def offer_demo_accounts(self) -> None:
        """An empty store on the demo organisation: offer the demo accounts to try it with."""
        settings = self.runner.settings
        with self.runner.db.transaction() as session:
            empty = last_import(session, organisation_id=settings.organisation_id) is None
        if not empty or settings.organisation_id != "demo":
            return
        question = _("The account store is empty. Load the demo accounts? [Y/n]") + " "
        if self.read(question).lower() in no_words():
            return
        demo = resources.files("deskbot") / "data" / "demo"
        for kind in ("professional", "client"):
            with resources.as_file(demo / f"{kind}s.csv") as path:
                import_csv(
                    self.runner.db,
                    settings=settings,
                    path=path,
                    kind=kind,
                    full=False,
                    actor=CONSOLE_USER,
                )
        self.out.print(
            _(
                "Loaded. Try {first}, {second}, {third} or {fourth}.",
                first="m.devries@demo-ggz.example",
                second="j.bakker@demo-ggz.example",
                third="kees.jansen@example.org",
                fourth="t.visser@demo-ggz.example",
            )
        )

    def summary_and_file(self, draft_id: str) -> None:
        draft = self.runner.get(draft_id, CONSOLE_USER)
        flow = self.runner.flow(draft.flow)
        answers = draft.state["answers"]
        self.out.print("\n[bold]" + _("Summary") + "[/]")
        for line in presenting.lines(flow, answers):
            self.out.print(f"[bold]{line.label}:[/] {escape(line.value)}", highlight=False)
        for notice in presenting.notices(flow, flow.summary_notices(answers)):
            self.out.print(f"[yellow]{notice.text}[/]", highlight=False)
        # Translators: {action} is the flow's submit button, e.g. "File report".
        question = _("{action}? [y/N]", action=flow.wording.submit)
        if self.read(question + " ").lower() not in yes_words():
            self.out.print(_("Not filed. Your draft is kept; choose it again to continue."))
            return
        try:
            filed = self.runner.file(draft_id, CONSOLE_USER)
        except Incomplete:
            self.out.print("[red]" + _("Some questions are still unanswered.") + "[/]")
            return
        except NotYours:
            self.out.print("[red]" + _("This draft is closed already.") + "[/]")
            return
        report = filed.item
        self.out.print(
            "\n[green bold]" + _("Filed as {reference}.", reference=report.reference) + "[/]"
        )
        if isinstance(report, DeletionRequest):
            self.confirm_deletion(report)
            return
        self.out.print("[dim]" + _("The copy for the service desk, without personal data:") + "[/]")
        text = render_text(
            "text/bug_report.txt.j2",
            reference=report.reference,
            organisation=self.runner.settings.organisation,
            filed_at=report.created_at.isoformat(timespec="minutes"),
            lines=presenting.lines(flow, report.answers, transform=privacy.redact),
        )
        self.out.print(text, markup=False, highlight=False)

    def confirm_deletion(self, request: DeletionRequest) -> None:
        """The explicit confirmation: what is erased, and the client ID typed once more."""
        settings = self.runner.settings
        self.out.print(
            "[bold red]"
            + _("This cannot be undone.")
            + "[/] "
            + _("Once confirmed, the vendor erases:")
        )
        for item in ERASED:
            self.out.print(f"  • {_(item)}")
        typed = self.read(
            _(
                "Type the client ID ({client_id}) to confirm, or Enter:",
                client_id=request.client_id,
            )
            + " "
        )
        if typed.casefold() != request.client_id.casefold():
            self.out.print(
                _(
                    "Not confirmed. {reference} waits for its confirmation.",
                    reference=request.reference,
                )
            )
            return
        with self.runner.db.transaction() as session:
            current = deletions.get(session, settings.organisation_id, request.id, for_update=True)
            assert current is not None
            try:
                deletions.confirm(session, current, self.runner.actor(CONSOLE_USER), settings)
            except Refused as refused:
                self.out.print(f"[red]{refused}[/]")
                return
            due = current.due_date
        self.out.print(
            "[green]"
            + _("Confirmed.")
            + "[/] "
            + _(
                "The service desk deletes the account by the end of {due}; the legal limit is "
                "{limit}.",
                due=i18n.day(due),
                limit=i18n.day(request.statutory_date),
            )
        )
