"""bench/edge.py's first section: thousands of fuzzed requests at the HTTP endpoint, counted by
HTTP status, then a normal bug report to show that deskbot still works."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from edge_mutations import MALFORMED, REFUSED, Probe, probes
from edge_seeds import PAGE_1, PAGE_2, PAGE_3, live_seeds, made_seeds, wait_modal
from edge_support import (
    BUDGET,
    FRESH,
    GROUPED,
    SECRET,
    TALLY,
    TRIAGE,
    bench_settings,
    bench_standin,
    columns,
    database,
    exchange,
    posted,
    reference_in,
    served,
    settle,
    statuses,
    wait_until,
)
from tests.support.driver import SlackDriver
from tests.support.slack_standin import SlackStandin

from deskbot.runtime import http_app
from deskbot.slack.ids import COMMAND


@dataclass
class Answer:
    probe: Probe
    status: int | None  # None: no HTTP answer
    elapsed: float


def send(driver: SlackDriver, probe: Probe) -> Answer:
    started = time.monotonic()
    answer = exchange(driver, probe.body, probe.headers)
    if answer is None:
        return Answer(probe, None, time.monotonic() - started)
    return Answer(probe, answer.status, answer.elapsed)


def status_class(status: int | None) -> str:
    return "none" if status is None else f"{status // 100}xx"


def fuzz_tables(answers: list[Answer]) -> list[str]:
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    by_body: dict[tuple[str, str], Counter[int | None]] = defaultdict(Counter)
    by_way: dict[str, Counter[int | None]] = defaultdict(Counter)
    failing: Counter[str] = Counter()
    for answer in answers:
        probe = answer.probe
        rows[probe.kind][status_class(answer.status)] += 1
        rows[probe.kind]["401"] += answer.status == 401
        slowest[probe.kind] = max(slowest[probe.kind], answer.elapsed)
        if probe.kind in (REFUSED, MALFORMED):
            by_body[(probe.label, probe.kind)][answer.status] += 1
        if probe.kind == REFUSED:
            by_way[probe.way][answer.status] += 1
        if "mutated" in probe.kind and (answer.status is None or answer.status >= 500):
            failing[f"{probe.kind.split()[1]}: {probe.label}"] += 1
    shown = ("2xx", "4xx", "401", "5xx", "none")
    table: list[list[object]] = [
        ["request kind", "sent", "2xx", "4xx", "(401)", "5xx", "none", "max ms"]
    ]
    total: Counter[str] = Counter()
    for kind, counts in rows.items():
        sent = sum(counts[c] for c in ("2xx", "3xx", "4xx", "5xx", "none"))
        total.update(counts)
        total["sent"] += sent
        table.append([kind, sent, *(counts[c] for c in shown), f"{slowest[kind] * 1000:.0f}"])
    table.append(["all", total["sent"], *(total[c] for c in shown), ""])
    lines = columns((-36, 6, 6, 6, 7, 6, 6, 9), table)
    lines += ["", "malformed and refused bodies, by body: HTTP status x count"]
    bodies = [["body", REFUSED, "signed"]]
    for label in sorted({label for label, _ in by_body}):
        bodies.append([label, *(statuses(by_body[(label, k)]) for k in (REFUSED, MALFORMED))])
    lines += columns((-22, -34, 0), bodies)
    lines += ["", f"{REFUSED}, by signature: HTTP status x count"]
    lines += columns((-24, 0), [[way, statuses(seen)] for way, seen in sorted(by_way.items())])
    if failing:
        lines += ["", "mutated payloads answered 5xx or not at all, by kind and mutations (top 12)"]
        lines += [f"  {n:>5}  {what}" for what, n in failing.most_common(12)]
    return lines


def file_normal_report(driver: SlackDriver, standin: SlackStandin, user: str) -> str:
    """Files a bug report through the modal as a user would; says what was (not) done."""
    try:
        opened = len(standin.calls_to("views.open"))
        answer = driver.command(user, COMMAND, "bug")
        if answer.status != 200:
            return f"no: /desk bug answered HTTP {answer.status}"
        standin.wait_for("views.open", count=opened + 1, timeout=10)
        view = wait_modal(standin, user)
        for page in (PAGE_1, PAGE_2, PAGE_3):
            reply, errors = driver.submit_view(user, view, page)
            if reply.status != 200 or errors:
                return f"no: a page answered HTTP {reply.status} {errors or ''}".strip()
            view = standin.open_modal(user) or view
        reply, errors = driver.submit_view(user, view, {})
        reference = reference_in(json.dumps(standin.open_modal(user) or {}))
        if reply.status != 200 or errors or reference is None:
            return f"no: the summary answered HTTP {reply.status} {errors or ''}".strip()
        for channel, what in ((user, "receipt"), (TRIAGE, "triage card")):
            if not wait_until(partial(posted, standin, reference, channel), 15.0):
                return f"filed {reference}, but no {what} within 15 s"
        return f"yes: {reference} filed, receipt and triage card posted"
    except (AssertionError, TimeoutError) as problem:
        return f"no: {str(problem)[:160]}"


def fuzz(args: argparse.Namespace, workdir: Path) -> list[str]:
    scale = 0.1 if args.quick else 1.0
    standin = bench_standin(usergroups={"S0AMS": [GROUPED]})
    with standin, database(args.database_url, workdir, "fuzz") as db:
        wsgi, _services = http_app(bench_settings(db.url, standin.api_url), db)
        with served(wsgi) as url:
            driver = SlackDriver(url, SECRET, standin)
            forged = SlackDriver(url, "not-the-secret", standin)
            live, ids = live_seeds(driver, standin, db)
            seeds = made_seeds(driver.payloads, ids)
            for kind, found in live.by_kind.items():
                seeds.setdefault(kind, []).extend(found)
            settle(standin)
            TALLY.reset("fuzz")
            made = probes(seeds, driver, forged, args.seed, scale)
            started = time.monotonic()
            deadline = started + BUDGET[args.quick]
            answers: list[Answer] = []
            with ThreadPoolExecutor(4) as pool:
                for start in range(0, len(made), 200):
                    if time.monotonic() > deadline:
                        break
                    answers += pool.map(lambda p: send(driver, p), made[start : start + 200])
            wall = time.monotonic() - started
            settle(standin, limit=60)
            after = file_normal_report(driver, standin, FRESH)
    counts = ", ".join(f"{kind} {len(found)}" for kind, found in sorted(seeds.items()))
    missing = f"; live seeds missing: {'; '.join(live.notes)}" if live.notes else ""
    return [
        f"== 1. Fuzzing the HTTP endpoint: {len(answers)} of {len(made)} requests sent in "
        f"{wall:.0f} s, 4 clients, seed {args.seed}",
        f"seed payloads: {counts}{missing}",
        "",
        *fuzz_tables(answers),
        "",
        TALLY.summary(),
        f"a normal bug report files afterwards: {after}",
    ]
