"""The App Home: unfinished drafts to resume or discard, one's own reports and requests, and
for agents the queue; within Slack's 100 blocks whatever the volume."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from deskbot import clock
from deskbot.models import Draft
from deskbot.slack.ids import Action
from tests.conftest import AGENT, AM, RunningApp
from tests.support.chat import blocks_text, eventually
from tests.support.slack_standin import SlackStandin
from tests.test_deletion_tracker import file_requests
from tests.test_desk_tools import file_bug


def opened(deskbot: RunningApp, standin: SlackStandin, user: str, count: int) -> str:
    """Open the Home tab; the text of the view deskbot publishes."""
    deskbot.driver.event({"type": "app_home_opened", "user": user, "tab": "home"})
    standin.wait_for("views.publish", count=count)
    home = standin.home(user)
    assert home is not None and len(home["blocks"]) <= 100
    return blocks_text(home["blocks"])


def test_drafts_reports_and_the_queue(deskbot: RunningApp, standin: SlackStandin) -> None:
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))  # Tue 7 Apr
    runner = deskbot.services.runner
    for number in range(30):
        file_bug(deskbot, f"Open module {number} and press next.")
    file_requests(runner, 30)
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="dm", fresh=True)
    runner.open(flow="deletion_request", user_id=AM, surface="modal", fresh=True)

    mine = opened(deskbot, standin, AM, 1)
    assert "*Report a bug* · question 1 of" in mine and "*Delete a client account*" in mine
    assert "*BUG-30* · new" in mine and "*BUG-25*" not in mine  # the newest five
    assert "Unassigned bug reports" not in mine  # the queue is the service desk's

    # Resume the bug report in a modal, though it was begun in the DM.
    home = standin.home(AM)
    assert home is not None
    deskbot.driver.click(AM, home, Action.HOME_RESUME, draft.id)
    standin.wait_for("views.open")
    modal = standin.open_modal(AM)
    assert modal is not None and "Your unfinished report is back" in blocks_text(modal["blocks"])

    # Discard the other one: it is gone from the page.
    other = next(
        e["value"]
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == Action.HOME_DISCARD and e["value"] != draft.id
    )
    deskbot.driver.click(AM, home, Action.HOME_DISCARD, other)
    assert eventually(
        lambda: "Delete a client account*" not in blocks_text(standin.home(AM)["blocks"])
    )
    with deskbot.db.transaction() as session:
        assert session.scalars(select(Draft.status).where(Draft.id == other)).one() == "cancelled"

    queue = opened(deskbot, standin, AGENT, 3)
    assert "*Unassigned bug reports*" in queue and "*BUG-1* · new" in queue
    assert "… and 22 more" in queue  # 30 unassigned, eight shown
    assert "*Deletion requests due soon or overdue*\nNothing." in queue
    assert "Open deletion requests" in queue and "page 1 of 3" in queue

    clock.set_clock(lambda: datetime(2026, 4, 13, 8, 0, tzinfo=UTC))  # Mon 13 Apr
    queue = opened(deskbot, standin, AGENT, 4)
    assert "DEL-1* · production" in queue.split("due soon or overdue")[1]
