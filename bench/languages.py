"""What speaking Dutch or German costs, next to English (the texts as written, no catalog) in
the same run: one text, whole messages, declaring a flow, and finding a user's language.

1. `_()` on one text, the `/desk help` text, a triage card for a bug report and a deletion
   request's card, each rendered N times in each language; English is the baseline, since
   its texts need no catalog lookup;
2. the bug-report flow declared (what FlowRunner caches once per language);
3. a user's language: the first lookup asks Slack (`users.info` against the project's Slack
   stand-in, on 127.0.0.1), every later one is answered from the cache.

    python bench/languages.py [--renders 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient
from tests.support.answers import COMPLETE_BUG_REPORT, filed_report
from tests.support.slack_standin import SlackStandin

from deskbot import i18n
from deskbot.flows import bug_report
from deskbot.flows.engine import Flow
from deskbot.models import DeletionRequest
from deskbot.settings import Settings
from deskbot.slack import deletion_views, views
from deskbot.slack.ids import COMMAND
from deskbot.slack.languages import Languages
from deskbot.templating import render_text


def per_call_us(work: Callable[[], object], repeat: int) -> float:
    """Median of 5 runs of `repeat` calls, in microseconds per call."""
    work()  # warm: templates compiled, catalogs read
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            work()
        runs.append((time.perf_counter() - started) / repeat * 1e6)
    return statistics.median(runs)


def sample_request() -> DeletionRequest:
    return DeletionRequest(
        id=1,
        number=3,
        organisation_id="bench",
        draft_id="d" * 32,
        requester_id="U0AM",
        submitted_by="U0AM",
        platform="production",
        client_id="c-48213",
        asked_on=date(2026, 4, 1),
        statutory_date=date(2026, 5, 1),
        status="awaiting_confirmation",
        paused_days=0,
        created_at=datetime(2026, 4, 3, 14, tzinfo=UTC),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=2000)
    args = parser.parse_args()
    settings = Settings(triage_channel="C0TRIAGE")
    report, request = filed_report(dict(COMPLETE_BUG_REPORT)), sample_request()
    n = args.renders

    def flow() -> Flow:
        return bug_report.build(settings.platforms)

    cases: list[tuple[str, Callable[[], object], int]] = [
        ("`_()`, one text", lambda: i18n._("Please write something."), n * 50),
        ("`/desk help` text", lambda: render_text("text/help.txt.j2", command=COMMAND), n),
        ("triage card (bug report)", lambda: views.triage_card(flow_for(), report), n),
        ("deletion request card", lambda: deletion_views.card(request, "desk", settings), n),
        ("bug-report flow declared", flow, max(1, n // 10)),
    ]
    flows: dict[str, Flow] = {}

    def flow_for() -> Flow:
        """Declared once per language, as FlowRunner does."""
        if i18n.language() not in flows:
            flows[i18n.language()] = flow()
        return flows[i18n.language()]

    print(f"\n{n} renders per row; microseconds per call (median of 5 runs)\n")
    print(f"{'what':30} {'en (baseline)':>14} {'nl':>10} {'de':>10}")
    for name, work, repeat in cases:
        row = []
        for language in i18n.LANGUAGES:
            with i18n.speaking(language):
                row.append(per_call_us(work, repeat))
        print(f"{name:30} {row[0]:14.1f} {row[1]:10.1f} {row[2]:10.1f}")

    with SlackStandin(
        bot_token="xoxb-bench",
        users={f"U0B{i:05d}": {"locale": "nl-NL"} for i in range(500)},
    ) as standin:
        client = WebClient(token="xoxb-bench", base_url=standin.api_url)

        def locale_of(user_id: str) -> str | None:
            return (client.users_info(user=user_id, include_locale=True)["user"] or {}).get(
                "locale"
            )

        languages = Languages("en", locale_of)
        users = list(standin.users)
        first = []
        for user in users:
            started = time.perf_counter()
            assert languages.of(user) == "nl"
            first.append((time.perf_counter() - started) * 1e3)
        cached = per_call_us(lambda: languages.of(users[7]), n * 50)
    print(f"\n{'a user language':30} {'p50':>10} {'p99':>10}")
    first.sort()
    p50, p99 = statistics.median(first), first[int(len(first) * 0.99) - 1]
    print(f"{'first lookup (users.info), ms':30} {p50:10.2f} {p99:10.2f}")
    print(f"{'from the cache, µs':30} {cached:10.2f}")


if __name__ == "__main__":
    main()
