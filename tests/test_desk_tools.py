"""`/desk whoami`, `/desk find`, an item's history from its card, and `deskbot audit export`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from deskbot.slack import filing
from deskbot.slack.ids import Action
from tests.conftest import AGENT, AM, GROUP_MEMBER, OUTSIDER, THERAPIST, TRIAGE, RunningApp
from tests.support.answers import COMPLETE_BUG_REPORT
from tests.support.chat import blocks_text, eventually
from tests.support.slack_standin import SlackStandin
from tests.test_deletion_tracker import file_requests


def answer(standin: SlackStandin, count: int) -> str:
    """The text of the count-th private answer to a /desk command."""
    return str(standin.wait_for("response_url", count=count)[count - 1].params.get("text"))


def file_bug(deskbot: RunningApp, scenario: str) -> None:
    runner = deskbot.services.runner
    draft, _ = runner.open(flow="bug_report", user_id=AM, surface="modal", fresh=True)
    answers = {**COMPLETE_BUG_REPORT, "scenario": scenario, "actual": "Mail kees@example.org"}
    runner.update_state(draft.id, AM, {"answers": answers, "current": None})
    filing.announce_item(deskbot.services, runner.file(draft.id, AM).item)


def test_whoami_find_and_history(deskbot: RunningApp, standin: SlackStandin) -> None:
    driver = deskbot.driver
    driver.command(GROUP_MEMBER, "/desk", "whoami")
    assert "*application manager*" in answer(standin, 1)
    driver.command(OUTSIDER, "/desk", "whoami")
    assert "hold no deskbot role" in answer(standin, 2)

    file_bug(deskbot, "Open the questionnaire overview and sort by date.")
    file_requests(deskbot.services.runner, 1)  # DEL-1, requested by AM

    driver.command(AGENT, "/desk", "find questionnaire overview")
    found = answer(standin, 3)
    assert "*BUG-1*" in found and "[email removed]" in found and "kees@" not in found
    driver.command(AGENT, "/desk", "find kees@example.org")  # redacted: never a match
    assert "Nothing found" in answer(standin, 4)
    driver.command(AGENT, "/desk", "find c-1000")
    assert "*DEL-1*" in answer(standin, 5)
    driver.command(THERAPIST, "/desk", "find DEL-1")  # someone else's request
    assert "Nothing found" in answer(standin, 6)
    driver.command(OUTSIDER, "/desk", "find BUG-1")
    assert "Only people with a deskbot role" in answer(standin, 7)

    # The history, from the triage card: who did what, and when.
    card = eventually(lambda: [m for m in standin.messages(TRIAGE) if "BUG-1" in str(m)])[0]
    driver.click(OUTSIDER, card, Action.HISTORY)
    assert eventually(
        lambda: [e for e in standin.ephemerals(OUTSIDER) if "Only the service desk" in e["text"]]
    )
    driver.click(AGENT, card, Action.HISTORY)
    standin.wait_for("views.open")
    history = standin.open_modal(AGENT)
    assert history is not None and f"<@{AM}> filed (via modal)" in blocks_text(history["blocks"])


def test_audit_export(deskbot: RunningApp) -> None:
    file_bug(deskbot, "Open the diary and save an entry.")
    file_requests(deskbot.services.runner, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKBOT_", "SLACK_"))}
    env.update(DESKBOT_DATABASE_URL=deskbot.db.url, DESKBOT_ORGANISATION_ID="test")

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "deskbot", "audit", "export", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    done = export()
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    actions = [(r["subject_id"], r["action"]) for r in rows]
    assert ("BUG-1", "bug.filed") in actions and ("DEL-1", "deletion.confirmed") in actions
    assert "kees" not in done.stdout
    only = export("--subject", "DEL-1", "--format", "jsonl")
    events = [json.loads(line) for line in only.stdout.splitlines()]
    assert [e["action"] for e in events] == ["deletion.requested", "deletion.confirmed"]
    assert events[1]["detail"]["client_id"] == "c-1000" and events[1]["actor"] == AM
    assert "2 events exported" in only.stderr
    assert export("--since", "last week").returncode == 2
