"""The deletion tracker: `/desk deletions`, the App Home with its pages, and the monthly report
(downloaded in Slack, and from the command line)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import select

from deskbot import clock, deletions
from deskbot.flows.runner import FlowRunner
from deskbot.models import DeletionRequest
from deskbot.slack.ids import Action
from tests.conftest import AGENT, AM, LEAD, OUTSIDER, THERAPIST, RunningApp
from tests.support.chat import blocks_text, eventually
from tests.support.slack_standin import SlackStandin


def file_requests(runner: FlowRunner, count: int, *, confirm: bool = True) -> None:
    """Requests as an application manager files them (the form's answers, then confirmed)."""
    for number in range(count):
        draft, _ = runner.open(flow="deletion_request", user_id=AM, surface="modal", fresh=True)
        answers = {
            "platform": "production",
            "account_kind": "client",
            "client_id": f"c-{1000 + number}",
            "asked_on": "2026-04-01",
            "note": None,
        }
        runner.update_state(draft.id, AM, {"answers": answers, "current": None})
        filed = runner.file(draft.id, AM)
        if confirm:
            with runner.db.transaction() as session:
                request = session.get(DeletionRequest, filed.item.id)
                assert request is not None
                deletions.confirm(session, request, runner.actor(AM), runner.settings)


def test_the_tracker_in_the_command_and_the_app_home(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))  # Tue 7 Apr, 10:00 local
    file_requests(deskbot.services.runner, 23)
    file_requests(deskbot.services.runner, 1, confirm=False)

    deskbot.driver.command(AGENT, "/desk", "deletions")
    answer = standin.wait_for("response_url")[0].params
    shown = blocks_text(answer["blocks"])
    assert "DEL-1* · production · client `c-1000` · confirmed · unassigned" in shown
    assert "due Tue 14 Apr 2026 (5 working days left)" in shown
    assert "24 open" in shown and len(answer["blocks"]) <= 50

    # A therapist sees only their own requests (none); an outsider none at all.
    deskbot.driver.command(THERAPIST, "/desk", "deletions")
    mine = standin.wait_for("response_url", count=2)[1].params
    assert "Your deletion requests" in blocks_text(mine["blocks"])
    assert "DEL-1" not in blocks_text(mine["blocks"])

    # The App Home: ten a page, the unconfirmed one last, Previous/Next to move.
    deskbot.driver.event({"type": "app_home_opened", "user": LEAD, "tab": "home"})
    home = eventually(lambda: standin.home(LEAD))
    assert home is not None
    read = blocks_text(home["blocks"])
    assert "DEL-1*" in read and "DEL-11*" not in read and "page 1 of 3" in read
    assert len(home["blocks"]) <= 100
    deskbot.driver.click(LEAD, home, Action.HOME_NEXT)
    second = eventually(
        lambda: (h := standin.home(LEAD)) and "page 2 of 3" in blocks_text(h["blocks"]) and h
    )
    deskbot.driver.click(LEAD, second, Action.HOME_NEXT)
    last = eventually(
        lambda: (h := standin.home(LEAD)) and "page 3 of 3" in blocks_text(h["blocks"]) and h
    )
    assert "DEL-24* · production · client `c-1000` · awaiting confirmation" in blocks_text(
        last["blocks"]
    )

    # Overdue requests say so, in working days.
    clock.set_clock(lambda: datetime(2026, 4, 16, 8, 0, tzinfo=UTC))  # Thu 16 Apr
    deskbot.driver.event({"type": "app_home_opened", "user": AGENT, "tab": "home"})
    agent_home = eventually(lambda: standin.home(AGENT))
    assert "overdue by 2 working days" in blocks_text(agent_home["blocks"])

    deskbot.driver.event({"type": "app_home_opened", "user": OUTSIDER, "tab": "home"})
    outsider = eventually(lambda: standin.home(OUTSIDER))
    assert "Open deletion requests" not in blocks_text(outsider["blocks"])


def test_the_monthly_report_in_slack_and_on_the_command_line(
    deskbot: RunningApp, standin: SlackStandin
) -> None:
    clock.set_clock(lambda: datetime(2026, 4, 7, 8, 0, tzinfo=UTC))
    runner = deskbot.services.runner
    file_requests(runner, 3)
    with deskbot.db.transaction() as session:
        first, second, third = session.scalars(
            select(DeletionRequest).order_by(DeletionRequest.number)
        ).all()
        agent = runner.actor(AGENT)
        deletions.complete(session, first, agent, runner.settings)  # on time
        clock.set_clock(lambda: datetime(2026, 4, 20, 8, 0, tzinfo=UTC))  # after Tue 14 Apr
        deletions.complete(session, second, agent, runner.settings)  # late
        deletions.reject(session, third, agent, "Not a client of ours.")

    deskbot.driver.command(OUTSIDER, "/desk", "deletions report 2026-04")
    assert "Only application managers" in str(standin.wait_for("response_url")[0].params)
    deskbot.driver.command(AGENT, "/desk", "deletions report 2026-04")
    files = eventually(lambda: standin.uploaded_files)
    assert files and files[0].filename == "deletion-sla-2026-04.csv"
    assert files[0].channel_id == "D" + AGENT
    rows = list(csv.DictReader(io.StringIO((files[0].content or b"").decode())))
    assert [(r["request"], r["outcome"]) for r in rows] == [
        ("DEL-1", "met"),
        ("DEL-2", "breached"),
        ("DEL-3", "rejected"),
    ]
    assert rows[0]["due_date"] == "2026-04-14" and "c-1000" not in str(rows)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKBOT_", "SLACK_"))}
    done = subprocess.run(
        [sys.executable, "-m", "deskbot", "sla", "report", "--month", "2026-04"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "DESKBOT_DATABASE_URL": deskbot.db.url, "DESKBOT_ORGANISATION_ID": "test"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        line for line in (files[0].content or b"").decode().splitlines()[1:]
    ]
    assert "1 breached, 1 met, 1 rejected" in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "deskbot", "sla", "report", "--month", "April"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "DESKBOT_DATABASE_URL": deskbot.db.url},
    )
    assert bad.returncode == 2 and "YYYY-MM" in bad.stdout
