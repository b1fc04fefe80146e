"""Around the flows: `/desk whoami`, `/desk find` and the history of an item, from its card."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from slack_bolt import App, Respond

from deskbot import audit, search
from deskbot.models import AuditEvent
from deskbot.roles import MAY_REPORT_BUGS, SEES_DELETIONS, Role
from deskbot.slack import access
from deskbot.slack.app import Services, later
from deskbot.slack.ids import Action
from deskbot.templating import escape_mrkdwn, render_view

ROLE_NAMES = {
    Role.APPLICATION_MANAGER: "application manager",
    Role.AGENT: "service-desk agent",
    Role.DATA_OFFICER: "data officer",
    Role.THERAPIST: "therapist",
    Role.LEAD: "lead (receives SLA escalations)",
}
MAY = {
    Role.APPLICATION_MANAGER: "report bugs, request and confirm deletions, check email addresses",
    Role.AGENT: "report bugs, work the triage cards and deletion requests, check email addresses",
    Role.DATA_OFFICER: "check email addresses, client accounts included, and answer questions",
    Role.THERAPIST: "request the deletion of a client's account",
    Role.LEAD: "see the deletion tracker and its report",
}
HISTORY_LIMIT = 40


def whoami(services: Services, user_id: str, respond: Respond) -> None:
    roles = services.roles.roles_of(user_id)
    if not roles:
        respond(
            text=f"You are <@{user_id}> and hold no deskbot role. Ask the person who runs "
            "deskbot to add you as an application manager or service-desk agent."
        )
        return
    lines = [f"You are <@{user_id}>. Your deskbot roles:"]
    lines += [f"• *{ROLE_NAMES[r]}*: you may {MAY[r]}" for r in Role if r in roles]
    respond(text="\n".join(lines))


def find(services: Services, user_id: str, query: str, respond: Respond) -> None:
    roles = services.roles
    bugs = roles.has_any(user_id, MAY_REPORT_BUGS)
    all_deletions = roles.has_any(user_id, SEES_DELETIONS)
    if not (bugs or all_deletions or roles.has_any(user_id, frozenset({Role.THERAPIST}))):
        respond(text="Only people with a deskbot role can search its reports and requests.")
        return
    if not query.strip():
        respond(text="Tell me what to look for: `/desk find BUG-12`, `/desk find DEL-3` or words.")
        return
    with services.db.transaction() as session:
        found = search.find(
            session,
            organisation_id=services.settings.organisation_id,
            query=query,
            bugs=bugs,
            all_deletions=all_deletions,
            user_id=user_id,
        )
    if not found:
        respond(text=f"Nothing found for “{escape_mrkdwn(query.strip()[:100])}”.")
        return
    lines = [
        f"*{f.reference}* · {escape_mrkdwn(f.status)} · {f.created} · <@{f.owner}>"
        + (f" · {escape_mrkdwn(f.summary[:150])}" if f.summary else "")
        for f in found
    ]
    respond(text=f"Found {len(found)}:\n" + "\n".join(lines))


def _line(event: AuditEvent, zone: tzinfo) -> str:
    what = event.action.split(".", 1)[-1].replace("_", " ")
    shown = {k: v for k, v in event.detail.items() if k in DETAIL_SHOWN}
    extra = ", ".join(f"{DETAIL_SHOWN[k]} {escape_mrkdwn(str(v))}" for k, v in shown.items())
    at = event.at.astimezone(zone)
    return f"`{at:%d %b %Y %H:%M}` <@{event.actor}> {what}" + (f" ({extra})" if extra else "")


DETAIL_SHOWN = {
    "due": "due",
    "paused_working_days": "working days paused:",
    "surface": "via",
    "assignee": "to",
}


def register(app: App, services: Services) -> None:
    @later(app.action(Action.HISTORY))
    def history(body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        reference = str(body["actions"][0].get("value") or "")
        matched = search.REFERENCE.fullmatch(reference)
        if matched is None:
            return
        bug = matched.group(1).upper() == "BUG"
        allowed = MAY_REPORT_BUGS if bug else SEES_DELETIONS
        if not services.roles.has_any(user_id, allowed):
            access.tell(
                services, body, f"Only the service desk can see the history of {reference}."
            )
            return
        zone = services.settings.work_calendar().zone
        with services.db.transaction() as session:
            events = audit.history(
                session,
                organisation_id=services.settings.organisation_id,
                subject_type="bug_report" if bug else "deletion_request",
                subject_id=reference,
                limit=HISTORY_LIMIT + 1,
            )
        older = len(events) > HISTORY_LIMIT
        lines = [_line(e, zone) for e in events[-HISTORY_LIMIT:]]
        services.client.views_open(
            trigger_id=body["trigger_id"],
            view=render_view(
                "slack/history_modal.json.j2",
                reference=reference,
                chunks=[lines[i : i + 10] for i in range(0, len(lines), 10)],
                older=older,
            ),
        )
