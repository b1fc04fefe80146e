"""Every Block Kit template, fed hostile and oversized input, stays valid, literal and in limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from deskbot import i18n
from deskbot.flows import bug_report
from deskbot.flows.engine import Flow, Kind
from deskbot.settings import Platform
from deskbot.slack import views
from deskbot.templating import render_text
from tests.support.answers import filed_report
from tests.support.chat import text_objects
from tests.support.slack_standin import check_message, check_view

HOSTILE = [
    'quote " and \\ backslash\nnew line\ttab',
    "emoji 🎉👩‍⚕️ and ünïcödé",
    "<!channel> <!here> <@U0ADMIN> <#C0GENERAL>",
    "<https://evil.example|click me> &amp; &lt;",
    "*bold* _italic_ ~strike~ `code` ```block```",
    "{{ jinja }} {% raw %} ${x}",
    "x" * 3000,
]
PLATFORMS = [
    Platform(name="production <!channel>", url="https://care.example.org"),
    Platform(name="training", url="https://training.care.example.org"),
]


@pytest.fixture(autouse=True, params=i18n.LANGUAGES)
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every template in every language: German runs longest against Slack's limits."""
    with i18n.speaking(request.param):
        yield request.param


def flow() -> Flow:
    """The bug-report flow as declared in the language in force."""
    return bug_report.build(PLATFORMS)


def hostile_answers(text: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for step in flow().steps:
        if step.kind == Kind.CHOICE:
            answers[step.key] = step.options[-1].value if step.options else text
        elif step.kind == Kind.MULTI:
            answers[step.key] = [o.value for o in step.options]
        elif step.kind == Kind.FILES:
            answers[step.key] = [{"id": f"F{i}", "name": text[:200]} for i in range(5)]
        elif step.kind == Kind.TICK:
            answers[step.key] = True
        else:
            answers[step.key] = text[: step.max_length]
    answers.update(access="browser", device_type="phone", user_kind="professional")
    return answers


def assert_safe(payload: Any) -> None:
    """No user text can ping, link or format in mrkdwn; it is shown literally as plain text."""
    for obj in text_objects(payload):
        if obj["type"] == "mrkdwn":
            assert "<!channel>" not in obj["text"] and "<https://evil" not in obj["text"], obj
            assert "<@U0ADMIN>" not in obj["text"]


@pytest.mark.parametrize("text", HOSTILE)
def test_modal_views(text: str) -> None:
    answers = hostile_answers(text)
    for page in range(flow().page_count):
        for resumed in (False, True):
            view = views.modal_page(flow(), "d" * 32, answers, page, resumed=resumed)
            assert check_view(view) == [], page
            assert_safe(view)
    summary = views.modal_summary(flow(), "d" * 32, answers)
    assert check_view(summary) == []
    assert_safe(summary)
    if text.startswith("<!channel>"):
        shown = [o["text"] for o in text_objects(summary) if o["type"] == "plain_text"]
        assert any(text in s for s in shown), "user text is shown literally"


@pytest.mark.parametrize("text", HOSTILE)
def test_dm_messages(text: str) -> None:
    answers = hostile_answers(text)
    declared = flow()
    for step in declared.steps:
        state = {"answers": answers, "path": ["platform"], "current": step.key}
        blocks = views.dm_question(
            declared, "d" * 32, state, error=text, notices=declared.notices(answers)
        )
        assert check_message({"channel": "D1", "text": "q", "blocks": blocks}) == [], step.key
        assert_safe(blocks)
        answered = views.dm_answered(step, answers.get(step.key))
        assert check_message({"channel": "D1", "text": "q", "blocks": answered}) == []
    for filed in (None, "BUG-12345"):
        summary = views.dm_summary(flow(), "d" * 32, answers, filed_reference=filed)
        assert check_message({"channel": "D1", "text": "s", "blocks": summary}) == []
        assert_safe(summary)


@pytest.mark.parametrize("text", HOSTILE)
def test_receipt_card_and_vendor_text(text: str) -> None:
    answers = flow().final_answers(hostile_answers(text))
    for blocks in (
        views.filed_receipt(flow(), filed_report(answers, number=12345)),
        views.triage_card(flow(), filed_report(answers, number=12345)),
    ):
        assert check_message({"channel": "C1", "text": "t", "blocks": blocks}) == []
        assert_safe(blocks)
    vendor = render_text(
        "text/bug_report.txt.j2",
        reference="BUG-1",
        organisation="Org",
        filed_at="now",
        lines=[],
    )
    assert vendor.startswith("BUG-1")


def test_private_metadata_stays_small() -> None:
    view = views.modal_page(flow(), "d" * 32, {}, 0)
    assert len(view["private_metadata"]) < 100


@pytest.mark.parametrize("text", HOSTILE)
def test_email_answers(text: str) -> None:
    from deskbot.accounts import advice
    from deskbot.accounts.lookup import Found, Lookup
    from deskbot.slack.email_check import answer_blocks
    from deskbot.templating import render_blocks, render_view

    def found(kind: str, number: int) -> Found:
        return Found(
            platform=text[:64],
            kind=kind,
            account_id=f"{text[:50]}{number}",
            email=f"x{number}@example.org",
            display_name=text[:200],
            active=number % 2 == 0,
            externally_managed=True,
            groups=[text[:40]] * 12,
        )

    lookup = Lookup(
        address="a@example.org",
        matches=[found("professional", n) for n in range(14)] + [found("client", 99)],
        near_misses=[found("client", n) for n in range(8)],
        last_import=datetime(2026, 11, 20, tzinfo=UTC),
    )
    for sees_clients in (False, True):
        answer = advice.answer(lookup, sees_clients=sees_clients, professional_details={})
        blocks = answer_blocks(answer)
        assert check_message({"channel": "C1", "text": "t", "blocks": blocks}) == []
        assert_safe(blocks)
        view = render_view("slack/email_result.json.j2", blocks=blocks)
        assert check_view(view) == []
        routed = render_blocks(
            "slack/email_for_data_officer.json.j2",
            asker="U0AM",
            answer_blocks=blocks,
            reply_action="r",
            reply_value="{}",
        )
        assert check_message({"channel": "D1", "text": "t", "blocks": routed}) == []
    reply = render_blocks("slack/email_reply.json.j2", officer="U0DO", reply=text)
    assert check_message({"channel": "D1", "text": "t", "blocks": reply}) == []
    assert_safe(reply)


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("status", ["requested", "awaiting_confirmation", "confirmed", "rejected"])
def test_deletion_cards_dialogs_and_reminders(text: str, status: str) -> None:
    from datetime import date

    from deskbot.models import DeletionRequest
    from deskbot.settings import Settings
    from deskbot.slack import deletion_views

    settings = Settings(platforms=[Platform(name=text[:64], url="https://care.example.org")])
    request = DeletionRequest(
        id=7,
        organisation_id="t",
        number=99999,
        requester_id="U0AM",
        platform=text[:64],
        client_id=text[:64],
        asked_on=date(2026, 11, 2),
        statutory_date=date(2026, 12, 2),
        note=text[:1000],
        status=status,
        confirmed_by="U0AM2" if status == "confirmed" else None,
        confirmed_at=datetime(2026, 11, 3, 10, tzinfo=UTC) if status == "confirmed" else None,
        due_date=date(2026, 11, 10) if status == "confirmed" else None,
        due_at=datetime(2026, 11, 10, 22, 59, tzinfo=UTC) if status == "confirmed" else None,
        assignee_id="U0AGENT",
        paused_at=datetime(2026, 11, 4, tzinfo=UTC) if status == "confirmed" else None,
        pause_reason=text[:500],
        close_reason=text[:500],
        closed_at=datetime(2026, 11, 5, tzinfo=UTC) if status == "rejected" else None,
        paused_days=0,
        messages=[],
    )
    for audience in (deletion_views.REQUESTER, deletion_views.CONFIRMER, deletion_views.DESK):
        blocks = deletion_views.card(request, audience, settings)
        assert check_message({"channel": "C1", "text": "t", "blocks": blocks}) == []
        assert_safe(blocks)
    for view in (
        deletion_views.confirm_modal(request, settings),
        deletion_views.reason_modal(request, "pause"),
        deletion_views.reason_modal(request, "reject"),
    ):
        assert check_view(view) == []
        assert_safe(view)
    rows = deletion_views.tracker([request] * 10, 25, settings, title="t", page=1, pager="p")
    assert check_message({"channel": "C1", "text": "t", "blocks": rows}) == []
    assert_safe(rows)
