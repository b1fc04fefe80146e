"""How fast deskbot answers Slack, next to a bare Bolt app that only acks, in the same run.

Both apps run on waitress on 127.0.0.1 against the project's Slack stand-in; a fixed number of
client threads send properly signed requests and the time until each HTTP answer is measured.

    python bench/ack_latency.py [--requests 400] [--concurrency 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_bolt import App
from slack_sdk import WebClient
from tests.support.answers import COMPLETE_BUG_REPORT

from deskbot.db import Database
from deskbot.flows.runner import FlowRunner
from deskbot.runtime import http_app
from deskbot.settings import Roles, Settings
from deskbot.slack.http import DeskbotWsgi, make_server
from deskbot.slack.ids import Action, View

SECRET = "bench-secret"
TOKEN = "xoxb-test"
USERS = [f"U0BENCH{i:04d}" for i in range(2000)]


class Client:
    """Signed POSTs over one keep-alive connection per thread."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.local = threading.local()

    def post(self, body: bytes, content_type: str) -> float:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(self.host, self.port)
        ts = str(int(time.time()))
        signature = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": "v0=" + signature.hexdigest(),
        }
        started = time.perf_counter()
        connection.request("POST", self.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status} for {body[:80]!r}")
        return elapsed


STANDIN = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from tests.support.slack_standin import SlackStandin
users = json.loads(sys.argv[2])
standin = SlackStandin(bot_token="xoxb-test", channels={"C0TRIAGE"}, trigger_ttl=3600,
                       users={u: {"locale": "en-US", "name": u.lower()} for u in users}).start()
# Slack would issue a trigger per slash command; the benchmark gets two per user up front.
triggers = {u: [standin.issue_trigger_id(u) for _ in range(2)] for u in users}
print(json.dumps({"api_url": standin.api_url, "triggers": triggers}), flush=True)
sys.stdin.read()
"""


def start_standin() -> tuple[subprocess.Popen[str], str, dict[str, list[str]]]:
    """The Slack stand-in in its own process: Slack is not in deskbot's process either."""
    process = subprocess.Popen(
        [sys.executable, "-c", STANDIN, str(ROOT), json.dumps(USERS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    return process, ready["api_url"], ready["triggers"]


def command(user: str, trigger_id: str) -> tuple[bytes, str]:
    body = urlencode(
        {
            "command": "/desk",
            "text": "bug",
            "user_id": user,
            "user_name": user.lower(),
            "team_id": "T0001",
            "channel_id": "C0TRIAGE",
            "trigger_id": trigger_id,
            "response_url": "http://127.0.0.1:9/hooks/x",
            "api_app_id": "A0001",
        }
    )
    return body.encode(), "application/x-www-form-urlencoded"


def interaction(payload: dict[str, Any]) -> tuple[bytes, str]:
    payload = {"team": {"id": "T0001"}, "api_app_id": "A0001", "token": "x", **payload}
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def click(user: str, draft_id: str) -> tuple[bytes, str]:
    return interaction(
        {
            "type": "block_actions",
            "user": {"id": user},
            "trigger_id": "t.1",
            "channel": {"id": "D" + user},
            "container": {"type": "message", "message_ts": "1.1"},
            "message": {"ts": "1.1", "blocks": []},
            "actions": [
                {
                    "type": "button",
                    "action_id": f"{Action.DM_CHOOSE}-1",
                    "block_id": "choices",
                    "value": f"{draft_id}:platform:https://demo.example-ehealth.org",
                    "action_ts": "1.1",
                }
            ],
        }
    )


def submission(user: str, draft_id: str) -> tuple[bytes, str]:
    return interaction(
        {
            "type": "view_submission",
            "user": {"id": user},
            "trigger_id": "t.1",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": View.FLOW_SUMMARY,
                "hash": "h",
                "private_metadata": json.dumps({"d": draft_id, "p": None}),
                "state": {"values": {}},
            },
        }
    )


def bare_app(api_url: str) -> App:
    app = App(
        token=TOKEN,
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=api_url),
        token_verification_enabled=False,
        request_verification_enabled=False,  # DeskbotWsgi checks the signature for both
        process_before_response=True,
    )
    app.command("/desk")(lambda ack: ack())
    app.action(f"{Action.DM_CHOOSE}-1")(lambda ack: ack())
    app.view(View.FLOW_SUMMARY)(lambda ack: ack())
    return app


def measure(
    client: Client, make: Callable[[int], tuple[bytes, str]], indices: range, concurrency: int
) -> dict[str, float]:
    bodies = [make(i) for i in indices]
    count = len(bodies)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(lambda b: client.post(*b), bodies))
    wall = time.perf_counter() - started
    cut = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "p50": cut[49] * 1000,
        "p95": cut[94] * 1000,
        "p99": cut[98] * 1000,
        "rps": count / wall,
    }


def drain(app: App) -> None:
    """Wait until the work that followed the acks is done, so one run does not slow the next:
    every worker of the app's listener pool has to reach the same barrier."""
    executor = app.listener_runner.listener_executor
    workers = executor._max_workers
    barrier = threading.Barrier(workers + 1)
    for _ in range(workers):
        executor.submit(barrier.wait)
    barrier.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--only", default=None, help="run only the scenarios containing this text")
    args = parser.parse_args()
    warm = 20
    count = min(args.requests, len(USERS) // 2 - warm)

    standin, api_url, triggers = start_standin()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        settings = Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=api_url,
            database_url=url,
            triage_channel="C0TRIAGE",
            roles=Roles(application_managers=USERS),
            log_level="WARNING",
        )
        db = Database(url)
        db.upgrade()
        wsgi, _ = http_app(settings, db)
        apps = {"deskbot": wsgi, "bare Bolt": DeskbotWsgi(bare_app(api_url), db, SECRET)}
        servers = {
            label: make_server(app, host="127.0.0.1", port=0, threads=16)
            for label, app in apps.items()
        }
        for server in servers.values():
            threading.Thread(target=server.run, daemon=True).start()

        # Made before the clock starts: a conversation at its first question for each user
        # (to click), and a complete modal draft (to file).
        runner = FlowRunner(settings, db)
        asking, complete = [], []
        for user in USERS:
            draft, _ = runner.open(flow="bug_report", user_id=user, surface="dm", fresh=True)
            asking.append(draft.id)
            draft, _ = runner.open(flow="bug_report", user_id=user, surface="modal", fresh=True)
            runner.update_state(
                draft.id, user, {"answers": dict(COMPLETE_BUG_REPORT), "current": None}
            )
            complete.append(draft.id)

        scenarios: dict[str, Callable[[int], tuple[bytes, str]]] = {
            "slash command /desk bug": lambda i: command(USERS[i], triggers[USERS[i]].pop()),
            "button click (DM choice)": lambda i: click(USERS[i], asking[i]),
            "final view submission (files BUG-n)": lambda i: submission(USERS[i], complete[i]),
        }
        rows = []
        for name, make in scenarios.items():
            if args.only and args.only not in name:
                continue
            for label, server in servers.items():
                client = Client(f"http://127.0.0.1:{server.effective_port}/slack/events")
                # Each app gets its own users, so both file fresh drafts.
                first = 0 if label == "deskbot" else len(USERS) // 2
                measure(client, make, range(first, first + warm), args.concurrency)  # warm up
                measured = range(first + warm, first + warm + count)
                rows.append((name, label, measure(client, make, measured, args.concurrency)))
                drain(apps[label].slack.app)

        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"\n{count} requests per row, {args.concurrency} concurrent clients, {kind}\n")
        print(f"{'request':<38}{'app':<11}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}")
        for name, label, result in rows:
            print(
                f"{name:<38}{label:<11}{result['p50']:>9.1f}{result['p95']:>9.1f}"
                f"{result['p99']:>9.1f}{result['rps']:>9.0f}"
            )
        for server in servers.values():
            server.close()
    standin.terminate()


if __name__ == "__main__":
    main()
