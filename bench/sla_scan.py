"""What one reminder tick costs with many open deletion requests, next to a naive scan of the
same rows in the same run: the tick's cost should follow the due reminders, not the open requests.

For each database (a fresh SQLite file; PostgreSQL in a schema made for the run, skipped when
it cannot be reached) and each number N of open requests:
1. N confirmed, open deletion requests (with their drafts) and their pending reminders
   (due_day, escalation and statutory_near for each, working_day_3 for every third: about 3.3
   per request), all due in the future, are bulk-inserted; PostgreSQL gets an ANALYZE after the
   load, as autovacuum would give it, SQLite none, as deskbot never runs one;
2. D random reminders are made due (due_at an hour ago), and the tick's database work is timed:
   `reminders.claim_due` with the ticker's limit in a transaction of its own, then for each
   claimed reminder what `deletion_desk._send_one` does around the Slack call: `renew` and the
   request read in one transaction, `claimed` and `finish(status=SENT)` in the next. Ticks repeat
   until all D are sent (more than one tick when D exceeds the limit); then the same D are armed
   again (pending, unclaimed, due) for the next repetition, after one untimed warm-up;
3. the naive scan, on the same rows with the same D due: every open request and every pending
   reminder loaded, and the due ones picked out in Python. It only finds them; it sends nothing.

"claim median ms" is claim_due's transaction alone and "tick median ms" a whole tick, both
medians of single ticks; "per due reminder ms" is the median time to send all D, divided by D.
D = 0 is the idle tick, which runs every tick_seconds all day. The plan of claim_due's query is
printed below the table (on PostgreSQL from EXPLAIN ANALYZE).

    python bench/sla_scan.py [--sizes 10000,100000] [--due 0,10,1000] [--repeats 5]
                             [--scan-repeats 1] [--postgres-url URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import inspect
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, event, insert, select, text, update

from deskbot import clock, reminders
from deskbot.db import Database
from deskbot.models import DeletionRequest, Draft, Reminder
from deskbot.slack import deletion_desk

ORG = "bench"
CHUNK = 5000  # requests per insert transaction
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The ticker claims at most this many reminders per tick (send_due's default).
TICK_LIMIT: int = inspect.signature(deletion_desk.send_due).parameters["limit"].default
KINDS = ("due_day", "escalation", "statutory_near")


def ints(value: str) -> list[int]:
    return [int(part.replace("_", "")) for part in value.split(",") if part.strip()]


def morning(day: date, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, 7, tzinfo=UTC) + timedelta(minutes=minute)


def fill(db: Database, count: int, rng: random.Random) -> int:
    """N open, confirmed requests with their drafts and future reminders; returns the number of
    reminders. Bulk inserts in chunks: the domain functions would take far too long for 100k."""
    now = clock.now()
    today = now.date()
    total = 0
    for first in range(1, count + 1, CHUNK):
        drafts: list[dict[str, Any]] = []
        requests: list[dict[str, Any]] = []
        due: list[dict[str, Any]] = []
        for number in range(first, min(first + CHUNK, count + 1)):
            draft_id = uuid.uuid4().hex
            user = f"U0BENCH{number % 500:04d}"
            confirmed_at = now - timedelta(days=rng.randint(0, 3), minutes=rng.randint(0, 600))
            due_date = today + timedelta(days=rng.randint(2, 20))
            statutory = today + timedelta(days=rng.randint(10, 30))
            drafts.append(
                {
                    "id": draft_id,
                    "organisation_id": ORG,
                    "flow": "deletion_request",
                    "user_id": user,
                    "surface": "modal",
                    "status": "submitted",
                    "state": {},
                    "version": 1,
                    "created_at": confirmed_at,
                    "updated_at": confirmed_at,
                    "expires_at": confirmed_at + timedelta(days=1),
                }
            )
            requests.append(
                {
                    "id": number,
                    "organisation_id": ORG,
                    "number": number,
                    "draft_id": draft_id,
                    "requester_id": user,
                    "platform": "demo",
                    "client_id": f"c{number:08d}",
                    "asked_on": statutory - timedelta(days=30),
                    "statutory_date": statutory,
                    "note": None,
                    "status": "in_progress" if number % 4 == 0 else "confirmed",
                    "submitted_by": "U0BENCHAM01",
                    "confirmed_by": "U0BENCHAM02",
                    "confirmed_at": confirmed_at,
                    "calendar": "bench",
                    "first_due_date": due_date,
                    "due_date": due_date,
                    "due_at": morning(due_date, 10 * 60),
                    "assignee_id": "U0BENCHAG01" if number % 4 == 0 else None,
                    "paused_days": 0,
                    "created_at": confirmed_at,
                    "updated_at": confirmed_at,
                    "card_channel": "C0DESK",
                    "card_ts": f"{number}.000100",
                    "messages": [],
                    "announced_at": confirmed_at,
                    "version": 1,
                }
            )
            moments = {
                "due_day": morning(due_date, rng.randint(0, 59)),
                "escalation": morning(due_date + timedelta(days=1), rng.randint(0, 59)),
                "statutory_near": morning(statutory - timedelta(days=5), rng.randint(0, 59)),
            }
            if number % 3 == 0:
                moments["working_day_3"] = morning(today + timedelta(days=1), rng.randint(0, 59))
            for kind, due_at in moments.items():
                due.append(
                    {
                        "organisation_id": ORG,
                        "subject_type": reminders.SUBJECT,
                        "subject_id": str(number),
                        "kind": kind,
                        "due_at": due_at,
                        "status": reminders.PENDING,
                        "attempts": 0,
                        "delivered": [],
                    }
                )
        with db.transaction() as session:
            session.execute(insert(Draft), drafts)
            session.execute(insert(DeletionRequest), requests)
            session.execute(insert(Reminder), due)
        total += len(due)
    return total


def arm(db: Database, moments: dict[int, datetime]) -> None:
    """These reminders pending and unclaimed, due at these moments."""
    with db.transaction() as session:
        session.execute(
            update(Reminder),
            [
                {
                    "id": reminder_id,
                    "due_at": due_at,
                    "status": reminders.PENDING,
                    "claimed_at": None,
                    "claim_token": None,
                    "attempts": 0,
                    "delivered": [],
                    "sent_at": None,
                }
                for reminder_id, due_at in moments.items()
            ],
        )


def tick(db: Database, limit: int) -> tuple[int, float]:
    """send_due's database work, without Slack: claim, then per reminder its two transactions.
    Returns how many were claimed and how long the claim itself took."""
    started = time.perf_counter()
    with db.transaction() as session:
        token, claimed = reminders.claim_due(session, organisation_id=ORG, limit=limit)
    claiming = time.perf_counter() - started
    for reminder_id in claimed:
        with db.transaction() as session:
            reminder = reminders.renew(session, reminder_id, token)
            assert reminder is not None
            assert session.get(DeletionRequest, int(reminder.subject_id)) is not None
        with db.transaction() as session:
            done = reminders.claimed(session, reminder_id, token)
            assert done is not None
            reminders.finish(session, done, status=reminders.SENT, delivered=["C0DESK"])
    return len(claimed), claiming


def claim_plan(db: Database, limit: int) -> list[str]:
    """The plan of the query claim_due runs, as it runs it (captured, then explained; on
    PostgreSQL with ANALYZE, in a transaction that is rolled back)."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.startswith("SELECT") and "ORDER BY reminders.due_at" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.sessions() as session:
            reminders.claim_due(session, organisation_id=ORG, limit=limit)
            session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    postgres = db.engine.dialect.name == "postgresql"
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    with db.engine.connect() as connection:
        result = connection.exec_driver_sql(explain + statement, parameters)
        lines = [str(row[0] if postgres else row[-1]) for row in result]
        connection.rollback()
    return lines


def naive_scan(db: Database) -> int:
    """The due reminders found without the due index: everything open loaded, then filtered."""
    now = clock.now()
    with db.sessions() as session:
        open_requests = session.scalars(
            select(DeletionRequest).where(
                DeletionRequest.organisation_id == ORG, DeletionRequest.closed_at.is_(None)
            )
        ).all()
        pending = session.scalars(
            select(Reminder).where(
                Reminder.subject_type == reminders.SUBJECT, Reminder.status == reminders.PENDING
            )
        ).all()
        open_ids = {str(request.id) for request in open_requests}
        due = [
            reminder
            for reminder in pending
            if reminder.subject_id in open_ids
            and reminder.due_at <= now
            and (reminder.claimed_at is None or reminder.claimed_at < now - reminders.LEASE)
        ]
    return len(due)


@dataclass
class Row:
    database: str
    requests: int
    due: int
    ticks: int
    claim_ms: float
    tick_ms: float
    per_due_ms: float | None
    scan_ms: float


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(
    db: Database, label: str, count: int, args: argparse.Namespace, rng: random.Random
) -> tuple[list[Row], list[str]]:
    """The rows of one database with N open requests, and the claim query's plan."""
    seconds, reminder_count = timed(lambda: fill(db, count, rng))
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    print(
        f"{label}: {count:,} open requests, {reminder_count:,} pending reminders "
        f"inserted in {seconds:.1f} s",
        flush=True,
    )
    with db.sessions() as session:
        future = {
            reminder_id: due_at
            for reminder_id, due_at in session.execute(select(Reminder.id, Reminder.due_at))
        }
    chosen = rng.sample(sorted(future), max(args.due))
    rows = []
    plan: list[str] = []
    for due_count in args.due:
        ids = chosen[:due_count]
        past = clock.now() - timedelta(hours=1)
        armed = {rid: past + timedelta(milliseconds=i) for i, rid in enumerate(ids)}
        if due_count == max(args.due):
            arm(db, armed)
            plan = claim_plan(db, args.limit)
        claim_times: list[float] = []
        tick_times: list[float] = []
        drains: list[float] = []
        ticks = 0
        for repeat in range(args.repeats + 1):  # the first is a warm-up
            arm(db, armed)
            drain, sent, ticks = 0.0, 0, 0
            while True:
                seconds, (claimed, claiming) = timed(lambda: tick(db, args.limit))
                ticks += 1
                sent += claimed
                drain += seconds
                if repeat:
                    tick_times.append(seconds)
                    claim_times.append(claiming)
                if claimed < args.limit or (due_count and sent == due_count):
                    break
            if sent != due_count:
                raise RuntimeError(f"sent {sent} reminders, {due_count} were due")
            if repeat:
                drains.append(drain)
        arm(db, armed)
        scans = []
        for _ in range(args.scan_repeats):
            seconds, found = timed(lambda: naive_scan(db))
            if found != due_count:
                raise RuntimeError(f"naive scan found {found} reminders, {due_count} were due")
            scans.append(seconds)
        arm(db, {rid: future[rid] for rid in ids})  # back in the future for the next D
        row = Row(
            database=label,
            requests=count,
            due=due_count,
            ticks=ticks,
            claim_ms=statistics.median(claim_times) * 1000,
            tick_ms=statistics.median(tick_times) * 1000,
            per_due_ms=statistics.median(drains) * 1000 / due_count if due_count else None,
            scan_ms=statistics.median(scans) * 1000,
        )
        print(
            f"  {due_count:>5} due: {row.ticks} tick(s), claim {row.claim_ms:.2f} ms, "
            f"tick {row.tick_ms:.1f} ms, naive scan {row.scan_ms:.0f} ms",
            flush=True,
        )
        rows.append(row)
    return rows, plan


@contextmanager
def sqlite_database(count: int) -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / f'sla_{count}.sqlite3'}")
        try:
            db.upgrade()
            yield db
        finally:
            db.dispose()


@contextmanager
def postgres_database(base: str, count: int) -> Iterator[Database]:
    """A schema of its own for this run, dropped afterwards."""
    schema = f"bench_sla_{count}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    db = Database(f"{base}{separator}options=-csearch_path%3D{schema}")
    try:
        db.upgrade()
        yield db
    finally:
        db.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as problem:
        return f"{type(problem).__name__}: {str(problem).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=ints, default=[10_000, 100_000], help="open requests")
    parser.add_argument("--due", type=ints, default=[0, 10, 1000], help="due reminders")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scan-repeats", type=int, default=1, help="the scan is slow")
    parser.add_argument("--limit", type=int, default=TICK_LIMIT, help="claimed per tick")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    databases: list[tuple[str, Callable[[int], Any]]] = [("SQLite", sqlite_database)]
    note = None
    if args.no_postgres:
        note = "PostgreSQL skipped (--no-postgres)"
    elif (why := postgres_reachable(args.postgres_url)) is not None:
        note = f"PostgreSQL skipped: {why}"
    else:
        url = args.postgres_url
        databases.append(("PostgreSQL", lambda count: postgres_database(url, count)))
    if note:
        print(note, flush=True)

    rows: list[Row] = []
    plans: list[tuple[str, list[str]]] = []
    for label, open_database in databases:
        for count in args.sizes:
            with open_database(count) as db:
                measured, plan = measure(db, label, count, args, rng)
            rows.extend(measured)
            plans.append((f"{label}, {count:,} open, {max(args.due):,} due", plan))

    table = Table(
        title=f"Reminder tick vs naive scan: at most {args.limit} claimed per tick, "
        f"medians of {args.repeats} runs (scan: {args.scan_repeats})"
    )
    table.add_column("database")
    for name in ("open requests", "due reminders", "ticks", "claim median ms", "tick median ms"):
        table.add_column(name, justify="right")
    for name in ("per due reminder ms", "naive scan median ms"):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(
            row.database,
            f"{row.requests:,}",
            f"{row.due:,}",
            str(row.ticks),
            f"{row.claim_ms:.2f}",
            f"{row.tick_ms:.2f}",
            "-" if row.per_due_ms is None else f"{row.per_due_ms:.3f}",
            f"{row.scan_ms:.0f}",
        )
    console = Console()
    if not console.is_terminal:
        console.width = 120
    console.print()
    console.print(table)
    for title, plan in plans:
        console.print(f"\nclaim_due's query plan ({title}):", highlight=False)
        for line in plan:
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    if note:
        console.print(note)


if __name__ == "__main__":
    main()
