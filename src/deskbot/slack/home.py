"""Each user's App Home: their unfinished drafts, their reports and requests, and for the
service desk the queue and the deletion tracker. Every list is capped and the tracker pages,
so the view stays within Slack's 100 blocks whatever the volume."""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from slack_bolt import App
from sqlalchemy import func, select

from deskbot import clock, deletions, drafts, i18n, triage
from deskbot.flows import presenting
from deskbot.flows.runner import NotYours
from deskbot.i18n import N_, _, ngettext
from deskbot.models import BugReport, DeletionRequest, Draft
from deskbot.roles import SEES_DELETIONS, Role
from deskbot.slack import deletion_views, flow_modal
from deskbot.slack.app import Services, later
from deskbot.slack.ids import Action
from deskbot.templating import escape_mrkdwn, render_blocks

PAGE_SIZE = 10  # deletion tracker rows a page
LIST_SIZE = 5  # drafts, reports and requests of one's own
QUEUE_SIZE = 8  # each part of the service desk's queue
NONE_OF_YOURS = N_("You have not asked for any deletions. `/desk delete` starts a request.")


def _when(moment: Any, services: Services) -> str:
    """A moment as `07 Apr 14:05`, in the reader's language (the day without its weekday)."""
    local = moment.astimezone(services.settings.work_calendar().zone)
    return f"{i18n.day(local, year=False).split(' ', 1)[-1]} {local:%H:%M}"


def publish(services: Services, user_id: str, *, page: int = 0) -> None:
    settings = services.settings
    org = settings.organisation_id
    roles = services.roles.roles_of(user_id)
    is_agent = Role.AGENT in roles
    sees_deletions = bool(roles & SEES_DELETIONS)
    now = clock.now()
    with services.db.transaction() as session:
        open_drafts = list(
            session.scalars(
                select(Draft)
                .where(
                    Draft.organisation_id == org,
                    Draft.user_id == user_id,
                    Draft.status == drafts.ACTIVE,
                    Draft.expires_at > now,
                )
                .order_by(Draft.updated_at.desc())
                .limit(LIST_SIZE)
            )
        )
        reports = list(
            session.scalars(
                select(BugReport)
                .where(BugReport.organisation_id == org, BugReport.reporter_id == user_id)
                .order_by(BugReport.id.desc())
                .limit(LIST_SIZE)
            )
        )
        requests = deletions.requested_by(session, org, user_id, limit=LIST_SIZE)
        queue: dict[str, list[str]] = {}
        if is_agent:
            queue = _queue(session, services, user_id)
        tracker: tuple[list[DeletionRequest], int] = ([], 0)
        if sees_deletions:
            tracker = deletions.open_requests(
                session, org, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
    draft_rows = []
    for draft in open_drafts:
        flow = services.runner.flow(draft.flow)
        answers, current = draft.state.get("answers", {}), draft.state.get("current")
        where = presenting.position(flow, answers, current)
        # Translators: when a draft was last saved; {when} is e.g. "07 Apr 14:05".
        saved = _("saved {when}", when=_when(draft.updated_at, services))
        draft_rows.append({"id": draft.id, "text": f"*{flow.title}* · {where} · {saved}"})
    blocks = render_blocks(
        "slack/home.json.j2",
        drafts=draft_rows,
        reports=[
            f"*{r.reference}* · {triage.label(r)} · "
            + _("filed {when}", when=_when(r.created_at, services))
            + (f" · <@{r.assignee_id}>" if r.assignee_id else "")
            for r in reports
        ],
        queue=queue,
        actions={"resume": Action.HOME_RESUME, "discard": Action.HOME_DISCARD},
    )
    blocks += deletion_views.tracker(
        requests,
        len(requests),
        settings,
        title=_("Your deletion requests"),
        empty=_(NONE_OF_YOURS),
    )
    if sees_deletions:
        rows, total = tracker
        blocks += deletion_views.tracker(
            rows,
            total,
            settings,
            title=_("Open deletion requests"),
            page=page,
            per_page=PAGE_SIZE,
            pager="deletions",
        )
    services.client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})


def _queue(session: Any, services: Services, user_id: str) -> dict[str, list[str]]:
    """The service desk's queue: unassigned, mine, and deletion requests due soon or overdue."""
    org = services.settings.organisation_id
    open_report = (BugReport.organisation_id == org, BugReport.status != triage.Status.RESOLVED)

    def lines(where: Any) -> list[str]:
        found = session.scalars(
            select(BugReport).where(*open_report, where).order_by(BugReport.id).limit(QUEUE_SIZE)
        )
        return [
            f"*{r.reference}* · {triage.label(r)} · {escape_mrkdwn(_headline(r))}" for r in found
        ]

    def count(where: Any) -> int:
        return int(
            session.scalar(select(func.count()).select_from(BugReport).where(*open_report, where))
            or 0
        )

    calendar = services.settings.work_calendar()
    urgent = []
    rows, _total = deletions.open_requests(session, org, limit=50)
    for request in rows:
        standing = deletions.standing(request, calendar)
        if standing.working_days_left is not None and standing.working_days_left <= 2:
            urgent.append(deletion_views.tracker_line(request, services.settings))
    unassigned, mine = BugReport.assignee_id.is_(None), BugReport.assignee_id == user_id
    parts = {
        _("Unassigned bug reports"): (lines(unassigned), count(unassigned)),
        _("Assigned to you"): (lines(mine), count(mine)),
    }
    shown = {
        title: found + ([_more(total - len(found))] if total > len(found) else [])
        for title, (found, total) in parts.items()
    }
    shown[_("Deletion requests due soon or overdue")] = urgent[:QUEUE_SIZE] + (
        [_more(len(urgent) - QUEUE_SIZE)] if len(urgent) > QUEUE_SIZE else []
    )
    return shown


def _more(left: int) -> str:
    # Translators: the end of a shortened list.
    return ngettext("… and {n} more", "… and {n} more", left)


def _headline(report: BugReport) -> str:
    from deskbot.privacy import redact

    actual = str(report.answers.get("actual") or "").splitlines()
    return redact(actual[0])[:120] if actual else ""


def register(app: App, services: Services) -> None:
    @later(app.event("app_home_opened"))
    def home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and services.runner.first_delivery(
            body.get("event_id")
        ):
            publish(services, event["user"])

    @later(app.action(re.compile(rf"^({Action.HOME_PREVIOUS}|{Action.HOME_NEXT})$")))
    def home_page(body: dict[str, Any]) -> None:
        _pager, _colon, page = (body["actions"][0].get("value") or "").partition(":")
        publish(services, body["user"]["id"], page=int(page) if page.isdigit() else 0)

    @later(app.action(Action.HOME_RESUME))
    def resume(body: dict[str, Any]) -> None:
        user_id, draft_id = body["user"]["id"], str(body["actions"][0].get("value") or "")
        try:
            draft = services.runner.switch_surface(draft_id, user_id, "modal")
        except NotYours:
            publish(services, user_id)
            return
        services.client.views_open(
            trigger_id=body["trigger_id"], view=flow_modal.view_for(services, draft, resumed=True)
        )

    @later(app.action(Action.HOME_DISCARD))
    def discard(body: dict[str, Any]) -> None:
        user_id, draft_id = body["user"]["id"], str(body["actions"][0].get("value") or "")
        with suppress(NotYours):  # closed already: the page shows it is gone
            services.runner.cancel(draft_id, user_id)
        publish(services, user_id)
