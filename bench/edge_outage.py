"""bench/edge.py's third section: reports filed while Slack's chat.postMessage fails for 30 s,
and how long after the outage each receipt and triage card arrives, with the ticker as
configured by default.

Recovery waits for the ticker's next run, so it depends on where in the tick the outage ends:
the outage is timed to end halfway between two runs (the average case; the worst is one tick
more).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from edge_support import (
    AGENT,
    AM,
    LEAD,
    SECRET,
    TALLY,
    TRIAGE,
    bench_settings,
    bench_standin,
    columns,
    complete_draft,
    database,
    post,
    posted,
    reference_in,
    served,
    summary_submission,
    wait_until,
)
from sqlalchemy import func, select
from tests.support.driver import SlackDriver

from deskbot.flows.runner import FlowRunner
from deskbot.models import BugReport
from deskbot.runtime import http_app, start_ticker
from deskbot.settings import Roles


def outage(args: argparse.Namespace, workdir: Path) -> list[str]:
    count = 2 if args.quick else 5
    length = 10.0 if args.quick else 30.0
    patience = 100.0 if args.quick else 420.0  # deskbot before issue 10 waited out a 5-min lease
    reporters = [f"U0REPORTER{i}" for i in range(count)]
    standin = bench_standin(reporters, trigger_ttl=3600)
    with standin, database(args.database_url, workdir, "outage") as db:
        roles = Roles(application_managers=[AM, *reporters], agents=[AGENT], leads=[LEAD])
        settings = bench_settings(db.url, standin.api_url, roles=roles, log_level="WARNING")
        tick = settings.tick_seconds  # deskbot's default
        runner = FlowRunner(settings, db)
        drafts = [complete_draft(runner, user) for user in reporters]
        wsgi, services = http_app(settings, db)
        ticked = time.monotonic()  # the ticker runs first one tick after it starts
        ticker = start_ticker(services)
        TALLY.reset("outage")
        try:
            with served(wsgi) as url:
                driver = SlackDriver(url, SECRET, standin)
                # The outage starts so that it ends halfway between the ticker's runs `runs` and
                # `runs + 1`: the first such moment at least `length` from now.
                runs = max(1, math.ceil((time.monotonic() + length - ticked) / tick - 0.5))
                time.sleep(max(0.0, ticked + (runs + 0.5) * tick - length - time.monotonic()))
                began = time.monotonic()
                ended = standin.outage("chat.postMessage", length, status=503)
                filed: list[tuple[str, str, float, str]] = []
                for index, (user, draft) in enumerate(zip(reporters, drafts, strict=True)):
                    time.sleep(max(0.0, began + index * length * 0.66 / count - time.monotonic()))
                    answer = post(driver, *summary_submission(user, draft))
                    reference = reference_in(answer.body if answer is not None else "") or "?"
                    ack = f"HTTP {answer.status}" if answer else "no answer"
                    filed.append((user, reference, time.monotonic() - began, ack))
                time.sleep(max(0.0, ended - time.monotonic()))
                failed = sum(not c.ok for c in standin.calls_to("chat.postMessage"))

                def arrived() -> bool:
                    return all(
                        posted(standin, ref, user) and posted(standin, ref, TRIAGE)
                        for user, ref, _, _ in filed
                    )

                wait_until(arrived, max(0.0, ended + patience - time.monotonic()), every=0.5)
                time.sleep(2 * tick + 2)  # a second post would come within two ticks
        finally:
            ticker.shutdown(wait=False)
        with db.transaction() as session:
            open_rows = session.scalar(
                select(func.count()).select_from(BugReport).where(BugReport.announced_at.is_(None))
            )
    table: list[list[object]] = [
        ["report", "filed at", "ack", "receipt after end", "card after end", "receipts", "cards"]
    ]
    last: dict[str, float] = {}
    for user, reference, at, ack in filed:
        row: list[object] = [reference, f"{at:.1f} s", ack]
        counts = []
        for target, what in ((user, "receipt"), (TRIAGE, "card")):
            times = posted(standin, reference, target)
            first = min(times) - ended if times else math.inf
            last[what] = max(last.get(what, -math.inf), first)
            row.append(f"{first:.1f} s" if times else "never")
            counts.append(len(times))
        table.append(row + counts)

    def after_end(what: str) -> str:
        seconds = last.get(what, math.inf)
        return f"{seconds:.1f} s" if seconds < math.inf else f"not within {patience:.0f} s"

    return [
        f"== 3. A {length:.0f} s outage of chat.postMessage (HTTP 503) while {count} reports are "
        f"filed; ticker every {tick} s (the default), the outage ending halfway between two "
        f"runs; waited up to {patience:.0f} s after the outage",
        f"failed chat.postMessage calls during the outage: {failed}",
        "",
        *columns((-8, 10, 10, 19, 16, 10, 7), table),
        "",
        f"end of outage -> last receipt: {after_end('receipt')}; -> last triage card: "
        f"{after_end('card')}; reports not marked announced: {open_rows}",
        TALLY.summary(),
    ]
