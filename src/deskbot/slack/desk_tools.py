"""Around the flows: `/desk whoami`, `/desk find` and the history of an item, from its card."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from slack_bolt import App, Respond

from deskbot import audit, i18n, search
from deskbot.i18n import N_, _, ngettext
from deskbot.models import AuditEvent
from deskbot.roles import MAY_REPORT_BUGS, SEES_DELETIONS, Role
from deskbot.slack import access
from deskbot.slack.app import Services, later
from deskbot.slack.ids import Action
from deskbot.templating import escape_mrkdwn, render_view

# What each role is called and may do, as `/desk whoami` says it.
ROLES = {
    Role.APPLICATION_MANAGER: (
        N_("application manager"),
        N_("report bugs, request and confirm deletions, check email addresses"),
    ),
    Role.AGENT: (
        N_("service-desk agent"),
        N_("report bugs, work the triage cards and deletion requests, check email addresses"),
    ),
    Role.DATA_OFFICER: (
        N_("data officer"),
        N_("check email addresses, client accounts included, and answer questions"),
    ),
    Role.THERAPIST: (N_("therapist"), N_("request the deletion of a client's account")),
    Role.LEAD: (
        N_("lead (receives SLA escalations)"),
        N_("see the deletion tracker and its report"),
    ),
}
HISTORY_LIMIT = 40


def whoami(services: Services, user_id: str, respond: Respond) -> None:
    roles = services.roles.roles_of(user_id)
    if not roles:
        respond(
            text=_(
                "You are {you} and hold no deskbot role. Ask the person who runs deskbot to add "
                "you as an application manager or service-desk agent.",
                you=f"<@{user_id}>",
            )
        )
        return
    lines = [_("You are {you}. Your deskbot roles:", you=f"<@{user_id}>")]
    lines += [
        _("• *{role}*: you may {what}", role=_(ROLES[r][0]), what=_(ROLES[r][1]))
        for r in Role
        if r in roles
    ]
    respond(text="\n".join(lines))


def find(services: Services, user_id: str, query: str, respond: Respond) -> None:
    roles = services.roles
    bugs = roles.has_any(user_id, MAY_REPORT_BUGS)
    all_deletions = roles.has_any(user_id, SEES_DELETIONS)
    if not (bugs or all_deletions or roles.has_any(user_id, frozenset({Role.THERAPIST}))):
        respond(text=_("Only people with a deskbot role can search its reports and requests."))
        return
    if not query.strip():
        respond(
            text=_("Tell me what to look for: `/desk find BUG-12`, `/desk find DEL-3` or words.")
        )
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
        respond(text=_("Nothing found for “{query}”.", query=escape_mrkdwn(query.strip()[:100])))
        return
    lines = [
        f"*{f.reference}* · {escape_mrkdwn(f.status)} · {f.created} · <@{f.owner}>"
        + (f" · {escape_mrkdwn(f.summary[:150])}" if f.summary else "")
        for f in found
    ]
    respond(text=ngettext("Found {n}:", "Found {n}:", len(found)) + "\n" + "\n".join(lines))


def _line(event: AuditEvent, zone: tzinfo) -> str:
    code = event.action.split(".", 1)[-1]
    what = _(EVENTS[code]) if code in EVENTS else code.replace("_", " ")
    shown = {k: v for k, v in event.detail.items() if k in DETAIL_SHOWN}
    extra = ", ".join(_(DETAIL_SHOWN[k], value=_detail(k, v)) for k, v in shown.items())
    at = event.at.astimezone(zone)
    when = f"{i18n.day(at).split(' ', 1)[-1]} {at:%H:%M}"
    return f"`{when}` <@{event.actor}> {what}" + (f" ({extra})" if extra else "")


def _detail(key: str, value: object) -> str:
    if key == "assignee" and str(value).isalnum():
        return f"<@{value}>"
    if key == "surface" and value in SURFACES:
        return _(SURFACES[str(value)])
    if key == "due":
        try:
            return i18n.day(date.fromisoformat(str(value)))
        except ValueError:
            pass
    return escape_mrkdwn(str(value))


# What each audited action is called in an item's history.
EVENTS = {
    "filed": N_("filed"),
    "requested": N_("requested"),
    "confirmed": N_("confirmed"),
    "assigned": N_("assigned"),
    "status": N_("changed the status"),
    "asked": N_("asked"),
    "replied": N_("replied"),
    "forwarded": N_("forwarded"),
    "mailed": N_("mailed"),
    "resolved": N_("resolved"),
    "in_progress": N_("started processing"),
    "paused": N_("paused"),
    "resumed": N_("resumed"),
    "completed": N_("completed"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
}
# Where a report or request was filed from.
SURFACES = {"modal": N_("modal"), "dm": N_("direct message"), "console": N_("console")}
DETAIL_SHOWN = {
    "due": N_("due {value}"),
    "paused_working_days": N_("working days paused: {value}"),
    "surface": N_("via {value}"),
    "assignee": N_("to {value}"),
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
                services,
                body,
                _("Only the service desk can see the history of {reference}.", reference=reference),
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
