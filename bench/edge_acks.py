"""bench/edge.py's second section: how long the email-check and bug-report summary submissions
take to be answered with a cold cache and 429s from Slack, next to a warm baseline."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_support import (
    ADDRESS,
    AGENT,
    AM,
    BUDGET,
    DO,
    LEAD,
    SECRET,
    TALLY,
    THERAPIST,
    TOKEN,
    TRIAGE,
    bench_settings,
    bench_standin,
    columns,
    complete_draft,
    database,
    percentile,
    post,
    posted,
    reference_in,
    served,
    settle,
    submission,
    summary_submission,
    wait_until,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from tests.support.driver import Response, SlackDriver
from tests.support.slack_standin import SlackStandin

from deskbot.flows.runner import FlowRunner
from deskbot.runtime import http_app
from deskbot.settings import Roles
from deskbot.slack.ids import View

TAGS = ("email-cold429", "email-cold", "email-warm", "bug-cold429", "bug-cold", "bug-warm")
KINDS = {"email": "email-check submission", "bug": "bug-report summary submission"}


class Switch:
    """A WSGI app that hands each request to the current deskbot: a fresh one has cold caches."""

    def __init__(self) -> None:
        self.current: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current(environ, start_response)


def email_submission(user: str) -> tuple[bytes, str]:
    values = {"address": {"address": {"type": "plain_text_input", "value": ADDRESS}}}
    return submission(user, View.EMAIL_CHECK, values, "")


def use_up_failures(api_url: str) -> None:
    """Answers the 429s a measured request left queued, so they do not hit the next one."""
    client = WebClient(token=TOKEN, base_url=api_url, timeout=2, retry_handlers=[])
    for method, params in (
        ("usergroups.users.list", {"usergroup": "S0AMS"}),
        ("users.info", {"user": AM}),
    ):
        for _ in range(5):
            try:
                client.api_call(method, params=params)
                break
            except SlackApiError:
                continue


def outcome(answer: Response | None, standin: SlackStandin, user: str) -> str:
    """What the user got from a submission, and for a filed report whether its receipt and card
    followed within 20 s."""
    if answer is None:
        return "no answer"
    if answer.status != 200:
        return f"HTTP {answer.status}"
    reply = answer.json() if answer.body.strip().startswith("{") else None
    action = (reply or {}).get("response_action")
    if action == "errors":
        return "refused on the form"
    view = (reply or {}).get("view") or {}
    reference = reference_in(json.dumps(view))
    if reference is None and action == "push":  # a message in front of the form: what it says
        said = next((b["text"]["text"] for b in view.get("blocks", []) if "text" in b), "")
        return f"answered with a message: {said if len(said) <= 48 else said[:48] + '…'}"
    if reference is None:
        return "answered with the result" if action == "update" else f"answered {action}"
    if wait_until(
        lambda: posted(standin, reference, TRIAGE) and posted(standin, reference, user), 20
    ):
        return "filed, receipt and card posted"
    return "filed, receipt or card missing after 20 s"


def acks(args: argparse.Namespace, workdir: Path) -> list[str]:
    rounds = 4 if args.quick else 20
    failures = args.failures
    users = {
        (tag, r): f"U0{tag.upper().replace('-', '')}{r:03d}" for tag in TAGS for r in range(rounds)
    }
    # Roles through user groups only: a cold cache has to ask Slack for each of them.
    roles = Roles(
        application_managers=["S0AMS"],
        agents=["S0AGENTS"],
        data_officers=["S0DOS"],
        leads=["S0LEADS"],
        therapists=[THERAPIST],
    )
    groups = {
        "S0AMS": sorted(users.values()),
        "S0AGENTS": [AGENT],
        "S0DOS": [DO],
        "S0LEADS": [LEAD],
    }
    standin = bench_standin(sorted(users.values()), trigger_ttl=3600, usergroups=groups)
    rows: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    started = time.monotonic()
    deadline = started + BUDGET[args.quick]
    with standin, database(args.database_url, workdir, "acks") as db:
        settings = bench_settings(db.url, standin.api_url, roles=roles, log_level="WARNING")
        runner = FlowRunner(settings, db)
        switch = Switch()
        warm, _ = http_app(settings, db)
        with served(switch) as url:
            driver = SlackDriver(url, SECRET, standin)
            TALLY.reset("acks")
            for r in range(rounds):
                if time.monotonic() > deadline:
                    break
                for tag in TAGS:
                    what, cache = tag.split("-")
                    user = users[(tag, r)]
                    drafts = [complete_draft(runner, user)] if what == "bug" else []
                    if cache == "warm":
                        switch.current = warm
                        post(driver, *email_submission(user))  # unmeasured: learns the user
                        settle(standin, quiet_for=0.3)
                    else:
                        switch.current, _ = http_app(settings, db)  # nothing cached
                    if cache == "cold429":
                        standin.fail_next("usergroups.users.list", retry_after=1, times=failures)
                        standin.fail_next("users.info", retry_after=1, times=failures)
                    body = (
                        email_submission(user)
                        if what == "email"
                        else summary_submission(user, drafts[0])
                    )
                    answer = post(driver, *body)
                    use_up_failures(standin.api_url)
                    rows[(what, cache)].append(
                        (answer.elapsed if answer else float("nan"), outcome(answer, standin, user))
                    )
                    settle(standin, quiet_for=0.3)
    conditions = {
        "cold429": f"cold, {failures}x 429 (Retry-After 1) on groups and users.info",
        "cold": "cold, Slack answers at once",
        "warm": "warm (baseline), Slack answers at once",
    }
    table: list[list[object]] = [
        ["submission", "cache and Slack", "n", "p50 ms", "p99 ms", "max ms", ">3 s", "  work done"]
    ]
    for (what, cache), measured in rows.items():
        times = [t for t, _ in measured]
        done = Counter(o for _, o in measured)
        table.append(
            [
                KINDS[what],
                conditions[cache],
                len(times),
                *(f"{ms * 1000:.0f}" for ms in (percentile(times, 50), percentile(times, 99))),
                f"{max(times) * 1000:.0f}",
                sum(t > 3 for t in times),
                "  " + ", ".join(f"{n} {o}" for o, n in done.most_common()),
            ]
        )
    return [
        f"== 2. Acks of view submissions: {rounds} rounds, conditions interleaved, "
        f"{time.monotonic() - started:.0f} s",
        "roles only through user groups (4 groups); cold = a fresh deskbot, a new user",
        "",
        *columns((-31, -55, 3, 8, 8, 8, 5, 0), table),
        "",
        TALLY.summary(),
    ]
