"""BUG-<n> counts per organisation, without gaps or doubles, also when filed concurrently."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from deskbot.db import Database
from deskbot.flows.runner import FlowRunner
from deskbot.models import BugReport
from deskbot.settings import Settings
from tests.support.answers import COMPLETE_BUG_REPORT


def complete_drafts(runner: FlowRunner, count: int) -> list[tuple[str, str]]:
    made = []
    for i in range(count):
        user = f"U0REP{i:03d}"
        draft, _ = runner.open(flow="bug_report", user_id=user, surface="modal", fresh=True)
        runner.update_state(draft.id, user, {"answers": dict(COMPLETE_BUG_REPORT), "current": None})
        made.append((draft.id, user))
    return made


def test_numbers_per_organisation_under_concurrency(db: Database) -> None:
    care = FlowRunner(Settings(database_url=db.url, organisation_id="care"), db)
    other = FlowRunner(Settings(database_url=db.url, organisation_id="other"), db)
    care_drafts = complete_drafts(care, 24)
    other_drafts = complete_drafts(other, 3)

    with ThreadPoolExecutor(6) as pool:
        # Every draft is filed twice at once: a double click must not make a second report.
        filed = list(pool.map(lambda d: care.file(*d), care_drafts + care_drafts))
        list(pool.map(lambda d: other.file(*d), other_drafts))

    assert sum(not f.already for f in filed) == 24
    with db.transaction() as session:
        numbers = session.execute(
            select(BugReport.organisation_id, BugReport.number).order_by(BugReport.number)
        ).all()
    assert sorted(n for org, n in numbers if org == "care") == list(range(1, 25))
    assert sorted(n for org, n in numbers if org == "other") == [1, 2, 3]
