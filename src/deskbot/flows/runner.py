"""Runs flows over stored drafts, one transaction per move; shared by Slack and the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from deskbot import bugs, clock, deletions, drafts, i18n
from deskbot.db import Database
from deskbot.flows import bug_report, deletion_request, get_flow
from deskbot.flows.engine import Conversation, Flow, Invalid, Kind, Outcome, clean_page
from deskbot.models import BugReport, DeletionRequest, Draft, SlackDelivery
from deskbot.roles import MAY_REPORT_BUGS, MAY_REQUEST_DELETION, Actor, Role
from deskbot.settings import Settings

SUMMARY = "summary"  # where a conversation stands once every question is answered


class NotYours(Exception):
    """The draft belongs to someone else, or is no longer open."""


class NotOwner(NotYours):
    """There is no such draft of this user's: someone else's, or none at all. Whatever the
    click was on is left as it is."""


class NotAllowed(NotYours):
    """The user no longer holds a role that may do this."""


class Incomplete(Exception):
    """The draft cannot be filed yet: some questions are unanswered."""

    def __init__(self, draft: Snapshot) -> None:
        super().__init__("questions are unanswered")
        self.draft = draft


@dataclass(frozen=True)
class Snapshot:
    """A draft as it stood after a move, safe to use outside the transaction."""

    id: str
    flow: str
    user_id: str
    surface: str
    status: str
    state: dict[str, Any]


@dataclass(frozen=True)
class Moved:
    draft: Snapshot
    outcome: Outcome
    duplicate: bool = False  # the same Slack delivery again: nothing was done
    stale: bool = False  # the move was for a question that is no longer the current one


Item = BugReport | DeletionRequest

# Who may start and move a draft of each flow; asked again before every move.
MAY_START = {bug_report.NAME: MAY_REPORT_BUGS, deletion_request.NAME: MAY_REQUEST_DELETION}


@dataclass(frozen=True)
class Filed:
    item: Item  # BUG-<n> or DEL-<n>
    already: bool  # filed earlier (a double click or a retried delivery)


def filed_from(session: Session, draft: Draft) -> Item | None:
    """What a draft was filed as, if it was."""
    if draft.flow == deletion_request.NAME:
        return deletions.for_draft(session, draft.id)
    return bugs.report_for_draft(session, draft.id)


def snapshot(draft: Draft) -> Snapshot:
    return Snapshot(
        draft.id, draft.flow, draft.user_id, draft.surface, draft.status, dict(draft.state)
    )


def first_delivery(session: Session, event_id: str | None) -> bool:
    """Records a Slack event ID in the current transaction; False when it was seen before."""
    if not event_id:
        return True
    try:
        with session.begin_nested():
            session.add(SlackDelivery(event_id=event_id))
    except IntegrityError:
        return False
    return True


def keep_files(
    flow: Flow, page: int, raw: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    """A modal's file input cannot show files attached before, so it comes back empty when a
    page is submitted again; keep the stored files unless new ones were attached."""
    kept = dict(raw)
    for step in flow.page_steps(page, answers):
        if step.kind == Kind.FILES and not raw.get(step.key) and answers.get(step.key):
            kept[step.key] = answers[step.key]
    return kept


class FlowRunner:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        roles_of: Callable[[str], frozenset[Role]] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        # Without a role directory (the local console) the one user holds every role.
        self.roles_of = roles_of or (lambda _user_id: frozenset(Role))
        self._flows: dict[tuple[str, str], Flow] = {}

    def may_start(self, user_id: str, flow: str) -> bool:
        """Asked before every move: a role taken away stops an unfinished draft too."""
        return bool(self.roles_of(user_id) & MAY_START[flow])

    def actor(self, user_id: str) -> Actor:
        return Actor(user_id, self.roles_of(user_id))

    def first_delivery(self, event_id: object) -> bool:
        """Whether this Slack event is seen for the first time, by any deskbot instance: a
        retried delivery, here or on another instance, finds its ID recorded."""
        if not isinstance(event_id, str) or not event_id:
            return True
        with self.db.transaction() as session:
            # Prefixed: the moves of a conversation record the bare ID in their own
            # transaction, as a second guard.
            return first_delivery(session, f"seen:{event_id}"[:64])

    @property
    def ttl(self) -> timedelta:
        return timedelta(days=self.settings.draft_ttl_days)

    def flow(self, name: str) -> Flow:
        """The flow as declared in the language in force: its questions are written then."""
        key = (name, i18n.language())
        if key not in self._flows:
            self._flows[key] = get_flow(name, self.settings)
        return self._flows[key]

    def open(
        self,
        *,
        flow: str,
        user_id: str,
        surface: str,
        fresh: bool = False,
        prefill: dict[str, Any] | None = None,
    ) -> tuple[Snapshot, bool]:
        """The user's unfinished draft of this flow (resumed=True), or a new one."""
        with self.db.transaction() as session:
            draft = (
                None
                if fresh or prefill
                else drafts.find_active(
                    session,
                    organisation_id=self.settings.organisation_id,
                    user_id=user_id,
                    flow=flow,
                )
            )
            resumed = draft is not None
            if draft is None:
                state: dict[str, Any] = {"answers": dict(prefill or {}), "path": []}
                Conversation(self.flow(flow), state)  # places the first question
                draft = drafts.start(
                    session,
                    organisation_id=self.settings.organisation_id,
                    flow=flow,
                    user_id=user_id,
                    surface=surface,
                    ttl=self.ttl,
                    state=state,
                )
                drafts.audit(session, draft, actor=user_id, event="started", surface=surface)
            elif draft.surface != surface:
                draft.surface = surface
            return snapshot(draft), resumed

    def _owned(self, session: Session, draft_id: str, user_id: str) -> Draft:
        """The draft, locked, if this user may act on it; else NotYours (or NotAllowed)."""
        draft = drafts.get(session, draft_id, for_update=True)
        if (
            draft is None
            or draft.user_id != user_id
            or draft.organisation_id != self.settings.organisation_id
        ):
            raise NotOwner(draft_id)
        if not self.may_start(user_id, draft.flow):
            raise NotAllowed(user_id)
        if draft.status == drafts.ACTIVE and draft.expires_at <= clock.now():
            drafts.close(draft, "expired")  # the ticker would have; this click was first
        return draft

    def get(self, draft_id: str, user_id: str) -> Snapshot:
        with self.db.transaction() as session:
            return snapshot(self._owned(session, draft_id, user_id))

    def move(
        self,
        draft_id: str,
        user_id: str,
        step: Callable[[Conversation], Outcome],
        *,
        event_id: str | None = None,
        expect_step: str | None = None,
    ) -> Moved:
        """Apply one move (answer, skip, back) to an open draft and store the result.

        expect_step is the question the user was looking at ("summary" after the last one);
        a click on an older question changes nothing.
        """
        for attempt in range(3):
            try:
                with self.db.transaction() as session:
                    draft = self._owned(session, draft_id, user_id)
                    if not first_delivery(session, event_id):
                        return Moved(snapshot(draft), Outcome(None), duplicate=True)
                    if draft.status != drafts.ACTIVE:
                        raise NotYours(draft_id)
                    current = draft.state.get("current") or SUMMARY
                    if expect_step is not None and expect_step != current:
                        return Moved(snapshot(draft), Outcome(None), stale=True)
                    state = dict(draft.state)
                    outcome = step(Conversation(self.flow(draft.flow), state))
                    drafts.save(draft, state, ttl=self.ttl)
                    return Moved(snapshot(draft), outcome)
            except StaleDataError:
                # Someone else moved the same draft at the same moment; read it again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def find_active(
        self, user_id: str, *, flow: str | None = None, surface: str | None = None
    ) -> Snapshot | None:
        with self.db.transaction() as session:
            draft = drafts.find_active(
                session,
                organisation_id=self.settings.organisation_id,
                user_id=user_id,
                flow=flow,
                surface=surface,
            )
            return snapshot(draft) if draft else None

    def switch_surface(self, draft_id: str, user_id: str, surface: str) -> Snapshot:
        """Carry an open draft over to another surface (modal → DM)."""
        with self.db.transaction() as session:
            draft = self._owned(session, draft_id, user_id)
            if draft.status != drafts.ACTIVE:
                raise NotYours(draft_id)
            draft.surface = surface
            drafts.save(draft, dict(draft.state), ttl=self.ttl)
            return snapshot(draft)

    def add_pending(
        self, draft_id: str, user_id: str, step_key: str, items: list[Any], *, event_id: str | None
    ) -> Snapshot:
        """Collect items (dropped files) for the current question, inside one transaction."""
        with self.db.transaction() as session:
            draft = self._owned(session, draft_id, user_id)
            if not first_delivery(session, event_id) or draft.status != drafts.ACTIVE:
                return snapshot(draft)
            state = dict(draft.state)
            pending = dict(state.get("pending") or {})
            pending[step_key] = list(pending.get(step_key) or []) + items
            state["pending"] = pending
            drafts.save(draft, state, ttl=self.ttl)
            return snapshot(draft)

    def update_state(
        self, draft_id: str, user_id: str, changes: dict[str, Any], *, event_id: str | None = None
    ) -> Snapshot:
        """Merge surface details (message ts, pending selections) into the draft's state."""
        with self.db.transaction() as session:
            draft = self._owned(session, draft_id, user_id)
            if not first_delivery(session, event_id):
                return snapshot(draft)
            state = dict(draft.state)
            state.update(changes)
            drafts.save(draft, state, ttl=self.ttl)
            return snapshot(draft)

    def save_page(
        self, draft_id: str, user_id: str, page: int, raw: dict[str, Any], *, partial: bool = False
    ) -> tuple[Snapshot, dict[str, str]]:
        """Check and store one modal page; with errors nothing is stored, unless partial.

        partial (leaving a page by "Back" or for the DM) keeps every answer that is valid,
        so what was typed is not lost.
        """
        with self.db.transaction() as session:
            draft = self._owned(session, draft_id, user_id)
            if draft.status != drafts.ACTIVE:
                raise NotYours(draft_id)
            flow = self.flow(draft.flow)
            state = dict(draft.state)
            answers = dict(state.get("answers", {}))
            raw = keep_files(flow, page, raw, answers)
            cleaned, errors = clean_page(flow, page, raw, answers)
            if errors and not partial:
                return snapshot(draft), errors
            answers.update(cleaned)
            state["answers"] = answers
            state["path"] = [s.key for s in flow.applicable(answers) if s.key in answers]
            following = next((s for s in flow.missing(answers)), None)
            state["current"] = following.key if following else None
            drafts.save(draft, state, ttl=self.ttl)
            return snapshot(draft), errors

    def cancel(self, draft_id: str, user_id: str) -> Snapshot:
        with self.db.transaction() as session:
            draft = self._owned(session, draft_id, user_id)
            if draft.status == drafts.ACTIVE:
                drafts.close(draft, "cancelled")
                drafts.audit(session, draft, actor=user_id, event="cancelled")
            return snapshot(draft)

    def file(self, draft_id: str, user_id: str) -> Filed:
        """File the draft (BUG-<n>, DEL-<n>) once: a second call returns the first item."""
        try:
            with self.db.transaction() as session:
                draft = self._owned(session, draft_id, user_id)
                if draft.status != drafts.ACTIVE:
                    earlier = filed_from(session, draft)
                    if earlier is None:
                        raise NotYours(draft_id)
                    return Filed(earlier, True)
                flow = self.flow(draft.flow)
                try:
                    item: Item
                    if draft.flow == deletion_request.NAME:
                        item = deletions.file_request(
                            session,
                            draft=draft,
                            flow=flow,
                            settings=self.settings,
                            filer=self.actor(user_id),
                        )
                    else:
                        item = bugs.file_report(session, draft=draft, flow=flow)
                except Invalid:
                    raise Incomplete(snapshot(draft)) from None
                return Filed(item, False)
        except (IntegrityError, StaleDataError):
            # A concurrent delivery filed it a moment ago.
            with self.db.transaction() as session:
                closed = drafts.get(session, draft_id)
                earlier = filed_from(session, closed) if closed else None
                if earlier is None:
                    raise
                return Filed(earlier, True)


__all__ = ["Filed", "FlowRunner", "Incomplete", "Moved", "NotAllowed", "NotYours", "Snapshot"]
