"""Who may do what in Slack, and the polite refusal for those who may not."""

from __future__ import annotations

from deskbot.roles import MAY_REPORT_BUGS
from deskbot.slack.app import Services
from deskbot.templating import render_text


def not_allowed(user_id: str, what: str) -> str:
    return render_text("text/not_allowed.txt.j2", user_id=user_id, what=what)


def may_report(services: Services, user_id: str) -> bool:
    """Only application managers and agents report bugs; others are told why in a DM."""
    if services.roles.has_any(user_id, MAY_REPORT_BUGS):
        return True
    services.client.chat_postMessage(channel=user_id, text=not_allowed(user_id, "report bugs"))
    return False
