"""Tests of the Slack stand-in and the driver, through slack_sdk's and slack_bolt's real clients."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from tests.support.driver import PayloadBuilder, SlackDriver, SocketDriver
from tests.support.slack_standin import SlackStandin, check_blocks, check_message, check_view

SIGNING_SECRET = "test-signing-secret"


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def modal(title: str = "Report a bug", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "bug_report",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("Tell us what happened")],
    }
    view.update(extra)
    return view


def input_block(block_id: str, action_id: str, **element: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": block_id.title()},
        "element": {"type": "plain_text_input", "action_id": action_id, **element},
    }


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin(usergroups={"S0TRIAGE": ["U0ALICE", "U0BOB"]}) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandin) -> WebClient:
    return WebClient(base_url=standin.api_url, token="xoxb-test")


def api_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


# -- messages and auth ------------------------------------------------------------------------


def test_post_update_and_look_up(standin: SlackStandin, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0TRIAGE", text="new bug", blocks=[section("*Bug*")])
    assert posted["channel"] == "C0TRIAGE"
    assert posted["ts"] == "1700000000.000100"
    assert posted["message"]["blocks"][0]["block_id"]  # Slack fills in block ids

    client.chat_update(channel="C0TRIAGE", ts=posted["ts"], text="bug (triaged)")
    assert [m["text"] for m in standin.messages("C0TRIAGE")] == ["bug (triaged)"]

    second = client.chat_postMessage(channel="U0ALICE", text="hi")  # a user ID means the DM
    assert second["channel"] == "DU0ALICE"
    assert second["ts"] > posted["ts"]
    link = client.chat_getPermalink(channel="C0TRIAGE", message_ts=posted["ts"])
    assert link["permalink"].endswith("/archives/C0TRIAGE/p1700000000000100")

    assert client.users_info(user="U0BOB", include_locale=True)["user"]["locale"] == "nl-NL"
    assert "locale" not in client.users_info(user="U0BOB")["user"]  # as Slack: only when asked
    assert client.usergroups_users_list(usergroup="S0TRIAGE")["users"] == ["U0ALICE", "U0BOB"]
    assert client.conversations_open(users="U0BOB")["channel"]["id"] == "DU0BOB"

    with pytest.raises(SlackApiError) as unknown_channel:
        client.chat_postMessage(channel="C0NOWHERE", text="hi")
    assert api_error(unknown_channel) == "channel_not_found"
    with pytest.raises(SlackApiError) as unknown_ts:
        client.chat_update(channel="C0TRIAGE", ts="1600000000.000100", text="x")
    assert api_error(unknown_ts) == "message_not_found"
    failing: list[tuple[Callable[[], object], str]] = [
        (lambda: client.users_info(user="U0NOBODY"), "user_not_found"),
        (lambda: client.usergroups_users_list(usergroup="S0NONE"), "no_such_subteam"),
        (lambda: client.api_call("chat.doesNotExist"), "unknown_method"),
    ]
    for call, expected in failing:
        with pytest.raises(SlackApiError) as failed:
            call()
        assert api_error(failed) == expected

    assert [c.ok for c in standin.calls_to("chat.postMessage")] == [True, True, False]
    assert standin.calls_to("chat.postMessage")[0].params["blocks"][0]["type"] == "section"


def test_form_encoded_json_fields_are_decoded(standin: SlackStandin, client: WebClient) -> None:
    blocks = json.dumps([section("from a form")])
    client.api_call("chat.postMessage", data={"channel": "C0TRIAGE", "blocks": blocks})
    call = standin.successful("chat.postMessage")[0]
    assert call.params["blocks"][0]["text"]["text"] == "from a form"
    assert call.token == "xoxb-test"


def test_tokens_are_checked(standin: SlackStandin) -> None:
    wrong = WebClient(base_url=standin.api_url, token="xoxb-wrong")
    with pytest.raises(SlackApiError) as invalid:
        wrong.chat_postMessage(channel="C0TRIAGE", text="hi")
    assert api_error(invalid) == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=standin.api_url).auth_test()
    assert api_error(missing) == "not_authed"
    with pytest.raises(SlackApiError) as bot_token:
        WebClient(base_url=standin.api_url).apps_connections_open(app_token="xoxb-test")
    assert api_error(bot_token) == "not_allowed_token_type"
    assert standin.messages("C0TRIAGE") == []
    assert [c.error for c in standin.calls] == [
        "invalid_auth",
        "not_authed",
        "not_allowed_token_type",
    ]


# -- views ------------------------------------------------------------------------------------


def test_trigger_ids_are_single_use_and_expire(standin: SlackStandin, client: WebClient) -> None:
    trigger = standin.issue_trigger_id("U0ALICE")
    opened = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert opened["id"].startswith("V")
    assert standin.open_modal("U0ALICE") == opened
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=modal())
    assert api_error(reused) == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as unknown:
        client.views_open(trigger_id="123.456.abc", view=modal())
    assert api_error(unknown) == "invalid_trigger_id"

    standin.trigger_ttl = 0.05
    late = standin.issue_trigger_id("U0ALICE")
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as expired:
        client.views_open(trigger_id=late, view=modal())
    assert api_error(expired) == "expired_trigger_id"


def test_push_limit(standin: SlackStandin, client: WebClient) -> None:
    client.views_open(trigger_id=standin.issue_trigger_id("U0ALICE"), view=modal("One"))
    for title in ("Two", "Three"):
        client.views_push(trigger_id=standin.issue_trigger_id("U0ALICE"), view=modal(title))
    with pytest.raises(SlackApiError) as fourth:
        client.views_push(trigger_id=standin.issue_trigger_id("U0ALICE"), view=modal("Four"))
    assert api_error(fourth) == "push_limit_reached"
    stack = standin.modal_stack("U0ALICE")
    assert [v["title"]["text"] for v in stack] == ["One", "Two", "Three"]
    assert stack[2]["previous_view_id"] == stack[1]["id"]
    assert stack[2]["root_view_id"] == stack[0]["id"]


def test_views_update_hash_conflict(standin: SlackStandin, client: WebClient) -> None:
    trigger = standin.issue_trigger_id("U0ALICE")
    opened = client.views_open(trigger_id=trigger, view=modal(external_id="bug-1"))["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))
    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 3"))
    assert api_error(stale) == "hash_conflict"
    by_external = client.views_update(
        external_id="bug-1", view=modal("Step 3", external_id="bug-1")
    )
    assert (
        standin.views[opened["id"]]["title"]["text"]
        == "Step 3"
        == by_external["view"]["title"]["text"]
    )

    home = {"type": "home", "blocks": [section("Your open bugs")]}
    published = client.views_publish(user_id="U0BOB", view=home)["view"]
    assert standin.home("U0BOB") == published


def test_response_actions(standin: SlackStandin, client: WebClient) -> None:
    form = modal(
        blocks=[input_block("summary", "summary_input")],
        submit={"type": "plain_text", "text": "Next"},
    )
    first = client.views_open(trigger_id=standin.issue_trigger_id("U0ALICE"), view=form)["view"]
    errors = standin.apply_response_action(
        "U0ALICE", first["id"], {"response_action": "errors", "errors": {"summary": "Too short"}}
    )
    assert errors == {"summary": "Too short"}
    with pytest.raises(AssertionError, match="unknown input block_ids"):
        standin.apply_response_action(
            "U0ALICE", first["id"], {"response_action": "errors", "errors": {"nope": "x"}}
        )
    standin.apply_response_action(
        "U0ALICE", first["id"], {"response_action": "push", "view": modal("Two")}
    )
    second = standin.open_modal("U0ALICE")
    assert second is not None and second["previous_view_id"] == first["id"]
    standin.apply_response_action(
        "U0ALICE", second["id"], {"response_action": "update", "view": modal("Two b")}
    )
    assert standin.views[second["id"]]["title"]["text"] == "Two b"
    standin.apply_response_action("U0ALICE", second["id"], "")  # empty 200: pops the view
    assert standin.open_modal("U0ALICE")["id"] == first["id"]  # type: ignore[index]
    standin.apply_response_action("U0ALICE", first["id"], {"response_action": "clear"})
    assert standin.open_modal("U0ALICE") is None


# -- Slack's limits -----------------------------------------------------------------------------


def test_limits_are_enforced(standin: SlackStandin, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as too_many:
        client.chat_postMessage(channel="C0TRIAGE", text="x", blocks=[section("b")] * 51)
    assert api_error(too_many) == "invalid_blocks"
    assert "no more than 50 items" in too_many.value.response["response_metadata"]["messages"][0]

    with pytest.raises(SlackApiError) as input_in_message:
        client.chat_postMessage(channel="C0TRIAGE", text="x", blocks=[input_block("a", "b")])
    assert api_error(input_in_message) == "invalid_blocks"

    for view, pointer in (
        (modal("T" * 25), "/view/title/text"),
        (modal(private_metadata="x" * 3001), "/view/private_metadata"),
        (modal(blocks=[input_block("a", "b")]), "/view/submit"),
    ):
        with pytest.raises(SlackApiError) as rejected:
            client.views_open(trigger_id=standin.issue_trigger_id("U0ALICE"), view=view)
        assert api_error(rejected) == "invalid_arguments"
        messages = rejected.value.response["response_metadata"]["messages"]
        assert any(pointer in message for message in messages), messages

    with pytest.raises(SlackApiError) as too_long:
        client.chat_postMessage(channel="C0TRIAGE", text="x" * 40_001)
    assert api_error(too_long) == "msg_too_long"
    with pytest.raises(SlackApiError) as no_text, pytest.warns(UserWarning, match="`text`"):
        client.chat_postMessage(channel="C0TRIAGE", text="")
    assert api_error(no_text) == "no_text"
    assert standin.messages("C0TRIAGE") == []


def test_check_functions() -> None:
    select = {
        "type": "static_select",
        "action_id": "severity",
        "placeholder": {"type": "mrkdwn", "text": "Pick"},
        "options": [{"text": {"type": "plain_text", "text": "x" * 76}, "value": "v" * 151}],
        "initial_option": {"text": {"type": "plain_text", "text": "Other"}, "value": "other"},
    }
    problems = check_blocks([{"type": "actions", "elements": [select]}], "message")
    assert len(problems) == 4, problems  # placeholder type, option text, option value, initial
    assert check_blocks([input_block("a", "b"), input_block("a", "c")], "modal") == [
        "duplicate block_id: a [json-pointer:/blocks/1/block_id]"
    ]
    button = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go"}
    # action_id only has to be unique inside its block, as Slack documents.
    fine = [{"type": "actions", "elements": [button]}, {"type": "actions", "elements": [button]}]
    assert check_blocks(fine, "message") == []
    assert check_blocks([{"type": "actions", "elements": [button, button]}], "message")
    assert check_blocks([section("x" * 3001)], "modal")
    assert check_view(modal(blocks=[section("ok")] * 100)) == []
    assert check_view(modal(blocks=[section("ok")] * 101))
    assert check_message({"text": "hello"}) == []
    assert check_message({"blocks": [input_block("a", "b")]})[0].startswith("invalid_blocks")


# -- rate limits and files ------------------------------------------------------------------------


def test_rate_limit_then_retry(standin: SlackStandin) -> None:
    client = WebClient(
        base_url=standin.api_url,
        token="xoxb-test",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    standin.fail_next("chat.postMessage", retry_after=0)
    client.chat_postMessage(channel="C0TRIAGE", text="eventually")
    calls = standin.calls_to("chat.postMessage")
    assert [(c.ok, c.error) for c in calls] == [(False, "ratelimited"), (True, None)]
    assert len(standin.successful("chat.postMessage")) == 1
    assert [m["text"] for m in standin.messages("C0TRIAGE")] == ["eventually"]

    standin.fail_next("chat.postMessage", error="fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C0TRIAGE", text="no")
    client.chat_postMessage(channel="C0TRIAGE", text="yes")


def test_files_upload_v2(standin: SlackStandin, client: WebClient) -> None:
    response = client.files_upload_v2(
        channel="C0TRIAGE", content="line 1\nline 2\n", filename="report.txt", title="Report"
    )
    (uploaded,) = standin.uploaded_files
    assert response["file"]["id"] == uploaded.file_id
    assert (uploaded.filename, uploaded.title, uploaded.content) == (
        "report.txt",
        "Report",
        b"line 1\nline 2\n",
    )
    assert uploaded.channel_id == "C0TRIAGE"


# -- Socket Mode ----------------------------------------------------------------------------------


def stop_socket_client(standin: SlackStandin, client: SocketModeClient) -> None:
    """Closes a builtin client without waiting out its 3-second receive timeout."""
    client.auto_reconnect_enabled = False
    standin.close_sockets()
    # Let the client's receive loop finish its own disconnect first: slack_sdk's
    # Connection.disconnect() is not safe to run from two threads at once.
    deadline = time.monotonic() + 2
    while client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()


def test_socket_mode_with_slack_sdk_builtin_client(standin: SlackStandin) -> None:
    received: list[SocketModeRequest] = []

    def listener(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "got it"})
        )

    socket_client = SocketModeClient(
        app_token="xapp-test", web_client=WebClient(base_url=standin.api_url)
    )
    socket_client.socket_mode_request_listeners.append(listener)
    try:
        socket_client.connect()
        standin.wait_socket_connected(timeout=5)
        ack = standin.socket_send(
            "events_api", {"type": "event_callback", "event": {"type": "app_mention"}}
        )
    finally:
        stop_socket_client(standin, socket_client)
    assert ack["payload"] == {"text": "got it"}
    assert ack["envelope_id"] == received[0].envelope_id
    assert received[0].payload["event"]["type"] == "app_mention"
    assert standin.successful("apps.connections.open")[0].token == "xapp-test"


# -- payloads built by the driver ----------------------------------------------------------------


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


def test_payloads_follow_what_the_app_showed(standin: SlackStandin, client: WebClient) -> None:
    select = {
        "type": "static_select",
        "action_id": "team",
        "options": [option("web"), option("api")],
    }
    form = modal(
        blocks=[
            input_block("summary", "summary_input", initial_value="Crash"),
            {**input_block("team", "x"), "element": select},
            {
                "type": "input",
                "block_id": "when",
                "optional": True,
                "label": {"type": "plain_text", "text": "When"},
                "element": {"type": "datepicker", "action_id": "when_date"},
            },
            {"type": "actions", "block_id": "tools", "elements": [{**select, "action_id": "pick"}]},
        ],
        submit={"type": "plain_text", "text": "File"},
    )
    opened = client.views_open(trigger_id=standin.issue_trigger_id("U0ALICE"), view=form)["view"]
    builder = PayloadBuilder(standin)
    assert builder.fill(opened, {"team": "api"}) == {
        "summary": {"summary_input": {"type": "plain_text_input", "value": "Crash"}},
        "team": {"team": {"type": "static_select", "selected_option": option("api")}},
        "when": {"when_date": {"type": "datepicker", "selected_date": None}},
    }
    with pytest.raises(AssertionError, match="not an input"):
        builder.fill(opened, {"pick": "web"})

    action = builder.block_action("U0ALICE", "pick", "web", view=opened).payload
    assert action["container"] == {"type": "view", "view_id": opened["id"]}
    assert action["actions"][0]["selected_option"] == option("web")
    assert (
        action["trigger_id"]
        != builder.block_action("U0ALICE", "pick", "api", view=opened).payload["trigger_id"]
    )
    with pytest.raises(AssertionError, match="not in front of U0BOB"):
        builder.block_action("U0BOB", "pick", "web", view=opened)

    button = {
        "type": "button",
        "action_id": "retry",
        "text": {"type": "plain_text", "text": "Retry"},
    }
    client.chat_postEphemeral(
        channel="C0TRIAGE",
        user="U0ALICE",
        text="failed",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    (ephemeral,) = standin.ephemerals("U0ALICE")
    clicked = builder.block_action("U0ALICE", "retry", message=ephemeral).payload
    assert clicked["container"]["is_ephemeral"] is True and "message" not in clicked
    WebhookClient(clicked["response_url"]).send(replace_original=True, text="retrying")
    assert standin.ephemerals("U0ALICE")[0]["text"] == "retrying"
    assert standin.successful("response_url")[0].params["text"] == "retrying"

    dm = builder.dm_event("U0BOB", "hello")
    assert (dm["channel"], dm["channel_type"]) == ("DU0BOB", "im")
    assert standin.message("DU0BOB", dm["ts"])["text"] == "hello"
    retried = builder.event({"type": "app_mention"}, event_id="Ev1", retry_num=1)
    assert (retried.payload["event_id"], retried.retry_num, retried.retry_reason) == (
        "Ev1",
        1,
        "http_timeout",
    )


# -- the driver against a Bolt app ------------------------------------------------------------


def bolt_app(standin: SlackStandin) -> App:
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(base_url=standin.api_url, token="xoxb-test"),
    )
    report = modal(
        blocks=[
            input_block("summary", "summary_input", max_length=80),
            {
                "type": "input",
                "block_id": "severity",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": {
                    "type": "static_select",
                    "action_id": "severity_select",
                    "options": [
                        {"text": {"type": "plain_text", "text": s.title()}, "value": s}
                        for s in ("low", "high")
                    ],
                },
            },
        ],
        submit={"type": "plain_text", "text": "File"},
    )

    @app.command("/bug")
    def open_report(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=report)

    @app.view("bug_report")
    def file_report(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        if len(values["summary"]["summary_input"]["value"]) < 5:
            ack(response_action="errors", errors={"summary": "Say a bit more"})
            return
        ack()
        severity = values["severity"]["severity_select"]["selected_option"]["value"]
        client.chat_postMessage(
            channel="C0TRIAGE",
            text="bug",
            blocks=[
                section(f"New bug ({severity})"),
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "claim",
                            "text": {"type": "plain_text", "text": "Claim"},
                            "value": "bug-1",
                        }
                    ],
                },
            ],
        )

    @app.action("claim")
    def claim(ack: Ack, respond: Respond, action: dict[str, Any]) -> None:
        ack()
        respond(replace_original=True, text=f"claimed {action['value']}")

    @app.event("message")
    def on_dm(event: dict[str, Any], say: Any) -> None:
        say(f"you said {event['text']}")

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@contextmanager
def serving_wsgi(app: WsgiApp) -> Iterator[str]:
    """Serves a WSGI app on a free local port; yields its Slack request URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_app(standin: SlackStandin) -> Iterator[str]:
    with serving_wsgi(SlackRequestHandler(bolt_app(standin))) as url:
        yield url


def test_driver_is_accepted_by_bolt_over_http(standin: SlackStandin, http_app: str) -> None:
    driver = SlackDriver(http_app, SIGNING_SECRET, standin)
    assert driver.url_verification("abc").json() == {"challenge": "abc"}

    assert driver.command("U0ALICE", "/bug").status == 200
    standin.wait_for("views.open", predicate=lambda call: call.ok)
    form = standin.open_modal("U0ALICE")
    assert form is not None
    with pytest.raises(AssertionError, match="not offered"):
        driver.fill(form, {"severity_select": "critical"})
    with pytest.raises(AssertionError, match="is required"):
        driver.submit_view("U0ALICE", form, {"summary_input": "crash"})

    response, errors = driver.submit_view(
        "U0ALICE", form, {"summary_input": "bad", "severity_select": "high"}
    )
    assert (response.status, errors) == (200, {"summary": "Say a bit more"})
    _, errors = driver.submit_view(
        "U0ALICE", form, {"summary_input": "App crashes", "severity_select": "high"}
    )
    assert errors is None and standin.open_modal("U0ALICE") is None

    (posted,) = standin.wait_for("chat.postMessage")
    card = standin.last_message("C0TRIAGE")
    assert card["ts"] == posted.response["ts"]
    with pytest.raises(AssertionError, match="no element 'unclaim'"):
        driver.click("U0BOB", card, "unclaim")
    assert driver.click("U0BOB", card, "claim").status == 200
    standin.wait_for("response_url")
    assert standin.message("C0TRIAGE", card["ts"])["text"] == "claimed bug-1"

    assert driver.dm("U0BOB", "hello").status == 200
    standin.wait_for("chat.postMessage", count=2)
    assert standin.last_message("DU0BOB")["text"] == "you said hello"


def test_wrong_signature_is_rejected(standin: SlackStandin, http_app: str) -> None:
    assert SlackDriver(http_app, "not-the-secret", standin).command("U0ALICE", "/bug").status == 401
    driver = SlackDriver(http_app, SIGNING_SECRET, standin)
    body = b"command=%2Fbug"
    stale = driver.sign(body, timestamp=int(time.time()) - 600)
    assert driver.raw(body, stale).status == 401
    assert driver.raw(body, {}).status == 401
    assert standin.calls_to("views.open") == []


def test_socket_driver_with_bolt_socket_mode_handler(standin: SlackStandin) -> None:
    handler = SocketModeHandler(bolt_app(standin), app_token="xapp-test")
    handler.connect()
    try:
        standin.wait_socket_connected(timeout=5)
        driver = SocketDriver(standin)
        assert driver.command("U0ALICE", "/bug") is None  # a bare ack
        standin.wait_for("views.open", predicate=lambda call: call.ok)
        form = standin.open_modal("U0ALICE")
        assert form is not None
        reply, errors = driver.submit_view(
            "U0ALICE", form, {"summary_input": "no", "severity_select": "low"}
        )
        assert reply == {"response_action": "errors", "errors": {"summary": "Say a bit more"}}
        assert errors == {"summary": "Say a bit more"}
        _, errors = driver.submit_view(
            "U0ALICE", form, {"summary_input": "Login fails", "severity_select": "low"}
        )
        assert errors is None and standin.open_modal("U0ALICE") is None
        standin.wait_for("chat.postMessage")
        assert "New bug (low)" in json.dumps(standin.last_message("C0TRIAGE")["blocks"])
    finally:
        stop_socket_client(standin, handler.client)


# -- Slack's 3-second ack deadline ----------------------------------------------------------------

SLOW = 3.2  # seconds: just past Slack's deadline


def slow_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """An app that answers every request correctly, but only after SLOW seconds."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    time.sleep(SLOW)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]


def test_a_late_answer_over_http_fails_the_test(standin: SlackStandin) -> None:
    with serving_wsgi(slow_wsgi_app) as url:
        driver = SlackDriver(url, SIGNING_SECRET, standin)
        late = r"answered the command /bug after \d+\.\d\d s; Slack gives up after 3 s"
        with pytest.raises(AssertionError, match=late):
            driver.command("U0ALICE", "/bug")
        # A test that makes its app slow on purpose says so, for those requests only.
        with driver.without_deadline():
            assert driver.command("U0ALICE", "/bug").status == 200
        assert driver.deadline == 3.0


def test_a_late_ack_over_socket_mode_fails_the_test(standin: SlackStandin) -> None:
    def slow_listener(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        time.sleep(SLOW)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    socket_client = SocketModeClient(
        app_token="xapp-test", web_client=WebClient(base_url=standin.api_url)
    )
    socket_client.socket_mode_request_listeners.append(slow_listener)
    try:
        socket_client.connect()
        standin.wait_socket_connected(timeout=5)
        late = r"answered the app_mention event Ev\w+ after \d+\.\d\d s; Slack gives up"
        with pytest.raises(AssertionError, match=late):
            SocketDriver(standin).event({"type": "app_mention", "text": "hi"}, event_id="Ev1")
    finally:
        stop_socket_client(standin, socket_client)
