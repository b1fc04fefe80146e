"""The local console: every flow in a terminal, without Slack, on the same drafts and database."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from deskbot import deletions, privacy
from deskbot.accounts.check import check_address
from deskbot.accounts.importer import import_csv
from deskbot.accounts.lookup import last_import
from deskbot.accounts.normalise import InvalidAddress
from deskbot.flows import bug_report, deletion_request, presenting
from deskbot.flows.deletion_request import ERASED
from deskbot.flows.engine import Conversation, Kind, Outcome, Step
from deskbot.flows.runner import FlowRunner, Incomplete, NotYours
from deskbot.models import DeletionRequest
from deskbot.roles import Refused
from deskbot.templating import render_text

CONSOLE_USER = "console"
WORDS = {"back", "skip", "cancel", "quit"}


class ConsoleSession:
    """One person at a terminal; `ask` reads a line (input() in real use, a script in tests)."""

    def __init__(self, runner: FlowRunner, ask: Callable[[str], str], out: Console) -> None:
        self.runner = runner
        self.ask = ask
        self.out = out

    def main_menu(self) -> None:
        settings = self.runner.settings
        self.out.print(Panel.fit(f"deskbot console · {settings.organisation}", style="bold"))
        while True:
            self.out.print(
                "\n[bold]What would you like to do?[/]\n  1. Report a bug\n"
                '  2. Check an email address ("already in use")\n'
                "  3. Request the deletion of a client account\n  q. Quit"
            )
            choice = self.read("> ").lower()
            if choice in ("1", "bug"):
                self.run_flow(bug_report.NAME)
            elif choice in ("2", "email"):
                self.email_check()
            elif choice in ("3", "delete"):
                self.run_flow(deletion_request.NAME)
            elif choice in ("q", "quit", "exit", ""):
                return

    def read(self, prompt: str) -> str:
        try:
            return self.ask(prompt).strip()
        except EOFError:
            return "quit"

    def run_flow(self, name: str) -> None:
        draft, resumed = self.runner.open(flow=name, user_id=CONSOLE_USER, surface="console")
        flow = self.runner.flow(draft.flow)
        if resumed:
            self.out.print(
                f"[yellow]Continuing your unfinished {flow.wording.item}.[/] "
                "Type [bold]cancel[/] to discard it."
            )
        self.out.print(
            "Type [bold]back[/], [bold]skip[/] (optional questions), [bold]cancel[/] "
            "or [bold]quit[/] (keeps the draft)."
        )
        state = draft.state
        while state.get("current"):
            step = flow.step(state["current"])
            self.out.print(f"\n[dim]{presenting.progress(flow, state['answers'], step.key)}[/]")
            self.show_question(step, state["answers"].get(step.key))
            line = self.read("> ")
            word = line.lower()
            if word == "quit":
                self.out.print("Saved. Your draft waits for you.")
                return
            if word == "cancel":
                self.runner.cancel(draft.id, CONSOLE_USER)
                self.out.print("Cancelled; the draft is discarded.")
                return
            moved = self.runner.move(draft.id, CONSOLE_USER, self.mover(step, line, word))
            state = moved.draft.state
            self.report(moved.outcome)
        self.summary_and_file(draft.id)

    def show_question(self, step: Step, previous: Any) -> None:
        self.out.print(
            f"[bold]{step.question}[/]" + (" [dim](optional)[/]" if step.optional else "")
        )
        if step.hint:
            self.out.print(f"[dim]{step.hint}[/]")
        for number, option in enumerate(step.options, start=1):
            self.out.print(f"  {number}. {option.label}")
        if step.kind == Kind.MULTI:
            self.out.print("[dim]Numbers separated by commas; empty for none.[/]")
        if step.other:
            self.out.print(f"[dim]{step.other}.[/]")
        if step.kind == Kind.FILES:
            self.out.print("[dim]Paths of image files, separated by commas.[/]")
        if isinstance(previous, str) and previous:
            self.out.print(f"[dim]Earlier answer: {escape(previous)}[/]", highlight=False)

    def mover(self, step: Step, line: str, word: str) -> Callable[[Conversation], Outcome]:
        def move(conversation: Conversation) -> Outcome:
            if word == "back":
                return conversation.back()
            if word == "skip":
                return conversation.skip()
            return conversation.answer(self.raw_answer(step, line))

        return move

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
            return line.lower() in ("y", "yes", "1", "ja", "j")
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
            self.out.print(f"[yellow]Note:[/] {notice.text}", highlight=False)

    def email_check(self) -> None:
        """The console holds every role, the data officer's included: it shows everything."""
        self.offer_demo_accounts()
        raw = self.read("Email address: ")
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
            state = "active" if shown.active else "inactive"
            self.out.print(
                f"• {shown.kind} account on {escape(shown.platform)} — "
                f"{state}, ID {escape(shown.account_id or '?')}, "
                f"{escape(shown.display_name or 'no name')}"
                + (", externally managed" if shown.externally_managed else "")
                + (f", groups: {escape(', '.join(shown.groups))}" if shown.groups else ""),
                highlight=False,
            )
        for hint in answer.hints:
            self.out.print(f"[yellow]Hint:[/] {escape(hint)}", highlight=False)
        for step in answer.next_steps:
            self.out.print(f"[bold]Next:[/] {escape(step)}", highlight=False)
        imported = (
            answer.last_import.isoformat(timespec="minutes") if answer.last_import else "never"
        )
        self.out.print(f"[dim]Account store last imported: {imported}[/]")

    def offer_demo_accounts(self) -> None:
        """An empty store on the demo organisation: offer the demo accounts to try it with."""
        settings = self.runner.settings
        with self.runner.db.transaction() as session:
            empty = last_import(session, organisation_id=settings.organisation_id) is None
        if not empty or settings.organisation_id != "demo":
            return
        if self.read("The account store is empty. Load the demo accounts? [Y/n] ").lower() in (
            "n",
            "no",
            "nee",
        ):
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
            "Loaded. Try m.devries@demo-ggz.example, j.bakker@demo-ggz.example, "
            "kees.jansen@example.org or t.visser@demo-ggz.example."
        )

    def summary_and_file(self, draft_id: str) -> None:
        draft = self.runner.get(draft_id, CONSOLE_USER)
        flow = self.runner.flow(draft.flow)
        answers = draft.state["answers"]
        self.out.print("\n[bold]Summary[/]")
        for line in presenting.lines(flow, answers):
            self.out.print(f"[bold]{line.label}:[/] {escape(line.value)}", highlight=False)
        for notice in presenting.notices(flow, flow.summary_notices(answers)):
            self.out.print(f"[yellow]{notice.text}[/]", highlight=False)
        if self.read(f"{flow.wording.submit}? [y/N] ").lower() not in ("y", "yes", "j", "ja"):
            self.out.print("Not filed. Your draft is kept; choose it again to continue.")
            return
        try:
            filed = self.runner.file(draft_id, CONSOLE_USER)
        except Incomplete:
            self.out.print("[red]Some questions are still unanswered.[/]")
            return
        except NotYours:
            self.out.print("[red]This draft is closed already.[/]")
            return
        report = filed.item
        self.out.print(f"\n[green bold]Filed as {report.reference}.[/]")
        if isinstance(report, DeletionRequest):
            self.confirm_deletion(report)
            return
        self.out.print("[dim]The copy for the service desk, without personal data:[/]")
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
        self.out.print("[bold red]This cannot be undone.[/] Once confirmed, the vendor erases:")
        for item in ERASED:
            self.out.print(f"  • {item}")
        typed = self.read(f"Type the client ID ({request.client_id}) to confirm, or Enter: ")
        if typed.casefold() != request.client_id.casefold():
            self.out.print(f"Not confirmed. {request.reference} waits for its confirmation.")
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
            f"[green]Confirmed.[/] The service desk deletes the account by the end of "
            f"{due:%a %d %b %Y}; the legal limit is {request.statutory_date:%a %d %b %Y}."
        )
