"""A local stand-in for Slack's Web API and Socket Mode that enforces Slack's rules, for tests.

The app under test talks to it through an ordinary
``slack_sdk.WebClient(base_url=standin.api_url)``.
Everything the app sends is recorded (``standin.calls``) and checked against the limits Slack
enforces, so a test fails here the way the app would fail in a real workspace.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.sync.server import Server as WsServer
from websockets.sync.server import ServerConnection, serve

__all__ = [
    "Call",
    "SlackStandin",
    "UploadedFile",
    "block_elements",
    "check_blocks",
    "check_message",
    "check_view",
]

JsonDict = dict[str, Any]
Surface = Literal["message", "modal", "home"]

# ---------------------------------------------------------------------------------------------
# Block Kit validation
#
# Limits come from Slack's Block Kit reference (docs.slack.dev/reference/block-kit). Problems are
# phrased like the `response_metadata.messages` Slack returns, including the JSON pointer, so a
# failing test points at the offending field of the app's template.
# ---------------------------------------------------------------------------------------------

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000

_SINGLE_SELECTS = frozenset(
    {"static_select", "external_select", "users_select", "conversations_select", "channels_select"}
)
_MULTI_SELECTS = frozenset(f"multi_{name}" for name in _SINGLE_SELECTS)
_SELECTS = _SINGLE_SELECTS | _MULTI_SELECTS
_TEXT_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
# Elements that carry an action_id and produce interaction payloads or view state.
INTERACTIVE_ELEMENTS = (
    frozenset(
        {
            "button",
            "checkboxes",
            "radio_buttons",
            "overflow",
            "datepicker",
            "timepicker",
            "datetimepicker",
            "file_input",
            "workflow_button",
        }
    )
    | _SELECTS
    | _TEXT_INPUTS
)
_ACCESSORY_ELEMENTS = _SELECTS | {
    "button",
    "checkboxes",
    "datepicker",
    "image",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
}
_ACTIONS_ELEMENTS = _SELECTS | {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "overflow",
    "radio_buttons",
    "rich_text_input",
    "timepicker",
    "workflow_button",
}
_INPUT_ELEMENTS = (
    _SELECTS
    | _TEXT_INPUTS
    | {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "file_input",
        "radio_buttons",
        "timepicker",
    }
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Checker:
    """Collects problems while walking a Block Kit structure."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, pointer: str, message: str) -> None:
        self.problems.append(f"{message} [json-pointer:{pointer}]")

    def string(
        self,
        value: object,
        pointer: str,
        maximum: int,
        *,
        minimum: int = 0,
        required: bool = False,
    ) -> None:
        if value is None:
            if required:
                self.add(pointer, "missing required field")
            return
        if not isinstance(value, str):
            self.add(pointer, "must be a string")
            return
        if len(value) > maximum:
            self.add(pointer, f"must be less than {maximum + 1} characters (has {len(value)})")
        if len(value) < minimum:
            self.add(pointer, f"must be more than {minimum - 1} characters")

    def text(
        self,
        obj: object,
        pointer: str,
        maximum: int,
        *,
        plain_only: bool,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.add(pointer, "missing required field")
            return
        if not isinstance(obj, dict):
            self.add(pointer, "must be a text object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.add(f"{pointer}/type", "must be one of plain_text, mrkdwn")
        elif plain_only and kind != "plain_text":
            self.add(f"{pointer}/type", "must be plain_text")
        elif kind == "mrkdwn" and "emoji" in obj:
            self.add(f"{pointer}/emoji", "emoji is only allowed on plain_text")
        self.string(obj.get("text"), f"{pointer}/text", maximum, minimum=1, required=True)

    def items(self, value: object, pointer: str, *, minimum: int, maximum: int) -> list[Any]:
        """Checks an array's size and returns its items (empty when it is not an array)."""
        if not isinstance(value, list):
            self.add(pointer, "must be an array")
            return []
        if len(value) > maximum:
            self.add(pointer, f"no more than {maximum} items allowed (has {len(value)})")
        if len(value) < minimum:
            self.add(pointer, f"must provide at least {minimum} items")
        return value

    def confirm(self, obj: object, pointer: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.add(pointer, "must be a confirmation dialog object")
            return
        self.text(obj.get("title"), f"{pointer}/title", 100, plain_only=True)
        self.text(obj.get("text"), f"{pointer}/text", 300, plain_only=False)
        self.text(obj.get("confirm"), f"{pointer}/confirm", 30, plain_only=True)
        self.text(obj.get("deny"), f"{pointer}/deny", 30, plain_only=True)

    def option(self, obj: object, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(obj, dict):
            self.add(pointer, "must be an option object")
            return
        self.text(obj.get("text"), f"{pointer}/text", 75, plain_only=plain_only)
        self.string(obj.get("value"), f"{pointer}/value", 150, minimum=1, required=True)
        self.text(
            obj.get("description"),
            f"{pointer}/description",
            75,
            plain_only=plain_only,
            required=False,
        )
        self.string(obj.get("url"), f"{pointer}/url", 3000)

    def options(
        self,
        element: JsonDict,
        pointer: str,
        *,
        maximum: int,
        plain_only: bool,
        minimum: int = 1,
    ) -> list[Any]:
        options = self.items(
            element.get("options"), f"{pointer}/options", minimum=minimum, maximum=maximum
        )
        for index, option in enumerate(options):
            self.option(option, f"{pointer}/options/{index}", plain_only=plain_only)
        return options

    def initial_options(self, element: JsonDict, pointer: str, offered: list[Any]) -> None:
        # Slack rejects initial options that are not exactly one of the offered options.
        keys = {_option_key(option) for option in offered if isinstance(option, dict)}
        initial = element.get("initial_option")
        if initial is not None and _option_key(initial) not in keys:
            self.add(f"{pointer}/initial_option", "must match one of the provided options")
        for index, option in enumerate(element.get("initial_options") or []):
            if _option_key(option) not in keys:
                self.add(
                    f"{pointer}/initial_options/{index}", "must match one of the provided options"
                )

    def element(
        self,
        element: object,
        pointer: str,
        allowed: frozenset[str] | set[str],
        action_ids: set[str],
    ) -> None:
        if not isinstance(element, dict):
            self.add(pointer, "must be an element object")
            return
        kind = element.get("type")
        if kind not in allowed:
            self.add(f"{pointer}/type", f"unsupported type: {kind}")
            return
        if kind in INTERACTIVE_ELEMENTS and "action_id" in element:
            action_id = element["action_id"]
            self.string(action_id, f"{pointer}/action_id", 255, minimum=1)
            # Slack's rule: action_id is unique among the action_ids of its containing block.
            if action_id in action_ids:
                self.add(f"{pointer}/action_id", f"duplicate action_id: {action_id}")
            action_ids.add(action_id)
        match kind:
            case "button" | "workflow_button":
                self.text(element.get("text"), f"{pointer}/text", 75, plain_only=True)
                self.string(element.get("value"), f"{pointer}/value", 2000)
                self.string(element.get("url"), f"{pointer}/url", 3000)
                self.string(
                    element.get("accessibility_label"), f"{pointer}/accessibility_label", 75
                )
                if element.get("style") not in (None, "primary", "danger"):
                    self.add(f"{pointer}/style", "must be one of primary, danger")
            case "overflow":
                self.options(element, pointer, maximum=5, plain_only=True)
            case "checkboxes" | "radio_buttons":
                offered = self.options(element, pointer, maximum=10, plain_only=False)
                self.initial_options(element, pointer, offered)
            case "static_select" | "multi_static_select":
                self.static_select(element, pointer)
            case "datepicker":
                initial = element.get("initial_date")
                if initial is not None and not (isinstance(initial, str) and _DATE.match(initial)):
                    self.add(f"{pointer}/initial_date", "must be in the format YYYY-MM-DD")
            case "timepicker":
                initial = element.get("initial_time")
                if initial is not None and not (isinstance(initial, str) and _TIME.match(initial)):
                    self.add(f"{pointer}/initial_time", "must be in the format HH:mm")
            case "plain_text_input":
                self.string(element.get("initial_value"), f"{pointer}/initial_value", 3000)
                self.bounded_int(element, "min_length", pointer, 0, 3000)
                self.bounded_int(element, "max_length", pointer, 1, 3000)
                low, high = element.get("min_length"), element.get("max_length")
                if isinstance(low, int) and isinstance(high, int) and low > high:
                    self.add(f"{pointer}/min_length", "must be less than or equal to max_length")
            case "number_input":
                if not isinstance(element.get("is_decimal_allowed"), bool):
                    self.add(f"{pointer}/is_decimal_allowed", "missing required field")
            case "file_input":
                self.bounded_int(element, "max_files", pointer, 1, 10)
            case "image":
                self.image(element, pointer)
            case _:
                pass
        self.text(
            element.get("placeholder"),
            f"{pointer}/placeholder",
            150,
            plain_only=True,
            required=False,
        )
        self.confirm(element.get("confirm"), f"{pointer}/confirm")

    def static_select(self, element: JsonDict, pointer: str) -> None:
        has_options, has_groups = "options" in element, "option_groups" in element
        if has_options == has_groups:
            self.add(pointer, "must provide exactly one of options, option_groups")
            return
        offered: list[Any] = []
        if has_options:
            offered = self.options(element, pointer, maximum=100, plain_only=True)
        else:
            groups = self.items(
                element["option_groups"], f"{pointer}/option_groups", minimum=1, maximum=100
            )
            for index, group in enumerate(groups):
                group_pointer = f"{pointer}/option_groups/{index}"
                if not isinstance(group, dict):
                    self.add(group_pointer, "must be an option group object")
                    continue
                self.text(group.get("label"), f"{group_pointer}/label", 75, plain_only=True)
                offered += self.options(group, group_pointer, maximum=100, plain_only=True)
        self.initial_options(element, pointer, offered)
        if element["type"].startswith("multi_"):
            self.bounded_int(element, "max_selected_items", pointer, 1, 100)

    def bounded_int(self, element: JsonDict, key: str, pointer: str, low: int, high: int) -> None:
        value = element.get(key)
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.add(f"{pointer}/{key}", f"must be an integer between {low} and {high}")

    def image(self, obj: JsonDict, pointer: str) -> None:
        if "image_url" not in obj and "slack_file" not in obj:
            self.add(pointer, "must provide one of image_url, slack_file")
        self.string(obj.get("image_url"), f"{pointer}/image_url", 3000)
        self.string(obj.get("alt_text"), f"{pointer}/alt_text", 2000, minimum=1, required=True)

    def blocks(self, blocks: object, surface: str, pointer: str) -> None:
        if surface not in MAX_BLOCKS:
            raise ValueError(f"unknown surface {surface!r}; expected one of {sorted(MAX_BLOCKS)}")
        items = self.items(blocks, pointer, minimum=0, maximum=MAX_BLOCKS[surface])
        block_ids: set[str] = set()
        for index, block in enumerate(items):
            self.block(block, surface, f"{pointer}/{index}", block_ids)

    def block(self, block: object, surface: str, pointer: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.add(pointer, "must be a block object")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, f"{pointer}/block_id", 255, minimum=1)
            # block_id is unique within the whole message or view.
            if block_id in block_ids:
                self.add(f"{pointer}/block_id", f"duplicate block_id: {block_id}")
            block_ids.add(block_id)
        action_ids: set[str] = set()
        match block.get("type"):
            case "section":
                if "text" not in block and "fields" not in block:
                    self.add(pointer, "must provide text or fields")
                self.text(
                    block.get("text"), f"{pointer}/text", 3000, plain_only=False, required=False
                )
                if "fields" in block:
                    fields = self.items(block["fields"], f"{pointer}/fields", minimum=1, maximum=10)
                    for index, text in enumerate(fields):
                        self.text(text, f"{pointer}/fields/{index}", 2000, plain_only=False)
                if "accessory" in block:
                    self.element(
                        block["accessory"], f"{pointer}/accessory", _ACCESSORY_ELEMENTS, action_ids
                    )
            case "divider":
                pass
            case "header":
                self.text(block.get("text"), f"{pointer}/text", 150, plain_only=True)
            case "context":
                elements = self.items(
                    block.get("elements"), f"{pointer}/elements", minimum=1, maximum=10
                )
                for index, element in enumerate(elements):
                    element_pointer = f"{pointer}/elements/{index}"
                    if isinstance(element, dict) and element.get("type") == "image":
                        self.image(element, element_pointer)
                    else:
                        self.text(element, element_pointer, 3000, plain_only=False)
            case "actions":
                elements = self.items(
                    block.get("elements"), f"{pointer}/elements", minimum=1, maximum=25
                )
                for index, element in enumerate(elements):
                    self.element(
                        element, f"{pointer}/elements/{index}", _ACTIONS_ELEMENTS, action_ids
                    )
            case "input":
                if surface == "message":
                    self.add(
                        f"{pointer}/type",
                        "unsupported type: input (input blocks are only allowed in views)",
                    )
                self.text(block.get("label"), f"{pointer}/label", 2000, plain_only=True)
                self.text(
                    block.get("hint"), f"{pointer}/hint", 2000, plain_only=True, required=False
                )
                if "element" not in block:
                    self.add(f"{pointer}/element", "missing required field")
                else:
                    self.element(
                        block["element"], f"{pointer}/element", _INPUT_ELEMENTS, action_ids
                    )
                for flag in ("optional", "dispatch_action"):
                    if flag in block and not isinstance(block[flag], bool):
                        self.add(f"{pointer}/{flag}", "must be a boolean")
            case "image":
                self.image(block, pointer)
                self.text(
                    block.get("title"), f"{pointer}/title", 2000, plain_only=True, required=False
                )
            case "rich_text":
                self.items(block.get("elements"), f"{pointer}/elements", minimum=1, maximum=10_000)
            case "markdown":
                if surface != "message":
                    self.add(
                        f"{pointer}/type", "unsupported type: markdown (only allowed in messages)"
                    )
                self.string(block.get("text"), f"{pointer}/text", 12_000, minimum=1, required=True)
            case "video":
                for key in ("alt_text", "video_url", "thumbnail_url"):
                    self.string(block.get(key), f"{pointer}/{key}", 3000, minimum=1, required=True)
                self.text(block.get("title"), f"{pointer}/title", 200, plain_only=True)
            case "file" | "context_actions" | "table":
                pass
            case other:
                self.add(f"{pointer}/type", f"unsupported type: {other}")


def _option_key(option: object) -> tuple[object, object]:
    if not isinstance(option, dict):
        return (None, None)
    text = option.get("text")
    return (option.get("value"), text.get("text") if isinstance(text, dict) else None)


def check_blocks(blocks: object, surface: Surface | str, pointer: str = "/blocks") -> list[str]:
    """Problems Slack would report for blocks on a surface: "message", "modal" or "home"."""
    checker = _Checker()
    checker.blocks(blocks, surface, pointer)
    return checker.problems


def check_view(view: object, pointer: str = "/view") -> list[str]:
    """Problems Slack would report for a modal or home tab view (views.open/push/update/publish)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.add(pointer, "must be a view object")
        return checker.problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.add(f"{pointer}/type", "must be one of modal, home")
        return checker.problems
    if kind == "modal":
        checker.text(view.get("title"), f"{pointer}/title", 24, plain_only=True)
    else:
        checker.text(view.get("title"), f"{pointer}/title", 24, plain_only=True, required=False)
    checker.text(view.get("submit"), f"{pointer}/submit", 24, plain_only=True, required=False)
    checker.text(view.get("close"), f"{pointer}/close", 24, plain_only=True, required=False)
    if "blocks" not in view:
        checker.add(f"{pointer}/blocks", "missing required field")
    else:
        checker.blocks(view["blocks"], kind, f"{pointer}/blocks")
    checker.string(view.get("private_metadata"), f"{pointer}/private_metadata", 3000)
    checker.string(view.get("callback_id"), f"{pointer}/callback_id", 255)
    checker.string(view.get("external_id"), f"{pointer}/external_id", 255)
    has_inputs = any(
        isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
    )
    if kind == "modal" and has_inputs and "submit" not in view:
        checker.add(f"{pointer}/submit", "must provide submit when using input blocks")
    return checker.problems


def _message_error(params: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """Slack's error code and problems for a chat.* message; None when Slack would accept it."""
    blocks = params.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        return "invalid_blocks_format", ["blocks must be a JSON array [json-pointer:/blocks]"]
    text = params.get("text")
    if (
        not text
        and not blocks
        and not params.get("attachments")
        and not params.get("markdown_text")
    ):
        return "no_text", ["message needs text or blocks [json-pointer:/text]"]
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long", [
            f"text must be less than {MAX_MESSAGE_TEXT + 1} characters [json-pointer:/text]"
        ]
    if blocks:
        problems = check_blocks(blocks, "message")
        if problems:
            return "invalid_blocks", problems
    return None


def check_message(params: Mapping[str, Any]) -> list[str]:
    """Problems Slack would report for chat.postMessage/chat.update/chat.postEphemeral arguments."""
    error = _message_error(params)
    return [] if error is None else [f"{error[0]}: {problem}" for problem in error[1]]


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One Web API request the app made, as the stand-in saw and answered it."""

    method: str
    params: JsonDict
    token: str | None
    at: float
    ok: bool
    error: str | None
    response: JsonDict = field(default_factory=dict)


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal and files.completeUploadExternal."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False


@dataclass
class _Failure:
    status: int
    retry_after: int
    error: str | None


@dataclass
class _Trigger:
    user_id: str | None
    issued: float
    used: bool = False


@dataclass
class _ResponseUrl:
    channel_id: str
    user_id: str | None
    message_ts: str | None
    uses: int = 0


class _ApiError(Exception):
    def __init__(self, error: str, messages: Iterable[str] = (), **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.extra = extra


_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "user_auth_blocks")
_RESPONSE_URL_USES = 5  # Slack accepts 5 posts to a response_url.


def _truthy(value: object) -> bool:
    return value is True or value in ("1", "true", "True", 1)


# ---------------------------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------------------------


class SlackStandin:
    """Slack's Web API (HTTP) and Socket Mode (WebSocket) on 127.0.0.1: one workspace, one app."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0001",
        channels: set[str] | None = None,
        users: dict[str, JsonDict] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        trigger_ttl: float = 3.0,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = "deskbot-test"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.channels: set[str] = set(channels) if channels is not None else {"C0TRIAGE"}
        self.users: dict[str, JsonDict] = (
            copy.deepcopy(users)
            if users is not None
            else {
                "U0ALICE": {"name": "alice", "locale": "en-US", "tz": "Europe/Amsterdam"},
                "U0BOB": {"name": "bob", "locale": "nl-NL", "tz": "Europe/Amsterdam"},
            }
        )
        self.usergroups: dict[str, list[str]] = copy.deepcopy(usergroups) if usergroups else {}
        self.trigger_ttl = trigger_ttl

        # One re-entrant lock guards all state; the condition wakes wait_for()/socket waiters.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._ts_counter = itertools.count(1)
        self._ids = itertools.count(1)
        self._messages: dict[str, dict[str, JsonDict]] = {}
        self._ephemerals: list[JsonDict] = []
        self._dms: set[str] = set()
        self._views: dict[str, JsonDict] = {}
        self._stacks: dict[str | None, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._files: dict[str, UploadedFile] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._tickets: set[str] = set()
        self._sockets: list[ServerConnection] = []
        self._sockets_opened = 0
        self._acks: dict[str, tuple[JsonDict, float]] = {}  # envelope id: ack, when it came
        self.socket_acks: list[JsonDict] = []

        self._http: _HttpServer | None = None
        self._ws: WsServer | None = None
        self._threads: list[threading.Thread] = []
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Starts the HTTP and WebSocket servers on free ports of 127.0.0.1."""
        if self._http is not None:
            return self
        self._http = _HttpServer(self)
        # close_timeout is short because slack_sdk's builtin client does not answer close frames.
        self._ws = serve(
            self._socket_handler,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            compression=None,
            close_timeout=0.5,
        )
        http = self._http
        # A short poll interval keeps stop() (run once per test) fast.
        for target, name in (
            (lambda: http.serve_forever(poll_interval=0.05), "slack-standin-http"),
            (self._ws.serve_forever, "slack-standin-ws"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Closes Socket Mode connections, then stops both servers."""
        if self._ws is not None:
            self._ws.shutdown()
            self._ws = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the stand-in is not started")
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        if self._ws is None:
            raise RuntimeError("the stand-in is not started")
        host, port = self._ws.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/"

    # -- recorded calls ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every recorded Web API call, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def successful(self, method: str) -> list[Call]:
        return [call for call in self.calls_to(method) if call.ok]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Waits until ``count`` calls to ``method`` (matching ``predicate``) arrived; returns them.

        The app makes Slack calls on background threads (after ack), so tests wait instead of
        asserting right after the request returned.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [
                    call
                    for call in self._calls
                    if call.method == method and (predicate is None or predicate(call))
                ]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = ", ".join(
                        f"{c.method}({'ok' if c.ok else c.error})" for c in self._calls
                    )
                    raise TimeoutError(
                        f"expected {count} call(s) to {method}, got {len(matching)} "
                        f"within {timeout}s; "
                        f"recorded: [{seen}]"
                    )
                self._changed.wait(remaining)

    def reset(self) -> None:
        """Forgets recorded calls and Socket Mode acks (workspace state such as messages stays)."""
        with self._lock:
            self._calls.clear()
            self.socket_acks.clear()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Makes the next ``times`` calls to ``method`` fail: HTTP 429 + Retry-After, or error."""
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            for _ in range(times):
                queue.append(_Failure(status=status, retry_after=retry_after, error=error))

    # -- workspace state --------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message timestamp later than every one handed out before (shared with the driver)."""
        n = next(self._ts_counter) * 100
        return f"{1_700_000_000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def issue_trigger_id(self, user_id: str | None = None) -> str:
        """A trigger id like Slack's: usable once, within ``trigger_ttl`` seconds."""
        trigger_id = f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger_id] = _Trigger(user_id=user_id, issued=time.monotonic())
        return trigger_id

    def issue_response_url(
        self, channel_id: str, user_id: str | None = None, message_ts: str | None = None
    ) -> str:
        """A response_url served by the stand-in; posts to it are recorded as "response_url"."""
        token = secrets.token_hex(12)
        with self._lock:
            self._response_urls[token] = _ResponseUrl(channel_id, user_id, message_ts)
        return f"{self.base_url}/respond/{self.team_id}/{token}"

    def open_dm(self, user_id: str) -> str:
        """Opens (or finds) the bot's DM with a user, as when the user writes to the app."""
        channel = f"D{user_id}"
        with self._lock:
            self._dms.add(channel)
        return channel

    def add_message(self, channel: str, message: JsonDict) -> JsonDict:
        """Puts a message (e.g. a user's) into a channel's history; fills in a missing ts."""
        stored = copy.deepcopy(message)
        stored.setdefault("type", "message")
        stored.setdefault("ts", self.next_ts())
        stored["channel"] = channel
        with self._lock:
            self._messages.setdefault(channel, {})[stored["ts"]] = stored
        return copy.deepcopy(stored)

    def messages(self, channel: str) -> list[JsonDict]:
        """Messages currently in a channel (as updated/deleted by the app), oldest first."""
        with self._lock:
            stored = self._messages.get(channel, {})
            return [copy.deepcopy(stored[ts]) for ts in sorted(stored)]

    def message(self, channel: str, ts: str) -> JsonDict:
        found = self.find_message(channel, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}")
        return found

    def find_message(self, channel: str, ts: str) -> JsonDict | None:
        """A channel or ephemeral message by ts (ephemeral copies have is_ephemeral=True)."""
        with self._lock:
            stored = self._stored(channel, ts)
            return copy.deepcopy(stored) if stored is not None else None

    def last_message(self, channel: str | None = None) -> JsonDict:
        """The most recent message (in ``channel``, or anywhere); raises AssertionError if none."""
        with self._lock:
            candidates = [
                message
                for name, stored in self._messages.items()
                if channel is None or name == channel
                for message in stored.values()
            ]
        if not candidates:
            raise AssertionError(f"no messages in {channel or 'any channel'}")
        return copy.deepcopy(max(candidates, key=lambda message: message["ts"]))

    def ephemerals(self, user_id: str | None = None) -> list[JsonDict]:
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if user_id is None or e["user"] == user_id
            ]

    @property
    def views(self) -> dict[str, JsonDict]:
        """Every view the app created, by id, in its latest version (closed ones included)."""
        with self._lock:
            return copy.deepcopy(self._views)

    def open_modal(self, user_id: str | None) -> JsonDict | None:
        """The modal the user is looking at (top of their stack), or None."""
        with self._lock:
            stack = self._stacks.get(user_id) or []
            return copy.deepcopy(self._views[stack[-1]]) if stack else None

    def modal_stack(self, user_id: str | None) -> list[JsonDict]:
        with self._lock:
            return [
                copy.deepcopy(self._views[view_id]) for view_id in self._stacks.get(user_id) or []
            ]

    def home(self, user_id: str) -> JsonDict | None:
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def close_modal(
        self, user_id: str | None, view_id: str | None = None, *, clear: bool = False
    ) -> None:
        """The user closes a modal: pops ``view_id`` (default: the top one) or, with clear, all."""
        with self._lock:
            stack = self._stacks.get(user_id) or []
            if clear:
                stack.clear()
            elif stack:
                target = view_id or stack[-1]
                if target in stack:
                    del stack[stack.index(target) :]
            self._changed.notify_all()

    @property
    def uploaded_files(self) -> list[UploadedFile]:
        """Files whose upload was completed with files.completeUploadExternal, oldest first."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values() if f.completed]

    def apply_response_action(
        self,
        user_id: str | None,
        view_id: str,
        response: JsonDict | str | bytes | None,
    ) -> dict[str, str] | None:
        """Applies the app's answer to a view_submission as Slack does; returns the errors, if any.

        Slack cannot show a broken response_action to the user (it shows a generic error), so
        anything Slack would reject raises AssertionError here.
        """
        body = _decode_response(response)
        with self._lock:
            stack = self._stacks.get(user_id) or []
            if view_id not in stack:
                raise AssertionError(f"view {view_id} is not open for user {user_id}")
            if body is None:
                del stack[stack.index(view_id) :]
                self._changed.notify_all()
                return None
            action = body.get("response_action")
            if action == "errors":
                return self._response_errors(view_id, body.get("errors"))
            if action == "clear":
                stack.clear()
            elif action in ("update", "push"):
                spec = body.get("view")
                problems = check_view(spec)
                if problems or not isinstance(spec, dict) or spec.get("type") != "modal":
                    raise AssertionError(
                        f"response_action {action} with an invalid view: {problems or spec}"
                    )
                if action == "update":
                    old = self._views[view_id]
                    self._build_view(
                        spec,
                        view_id=view_id,
                        root=old["root_view_id"],
                        previous=old["previous_view_id"],
                    )
                else:
                    if len(stack) >= 3:
                        raise AssertionError("response_action push: push_limit_reached (3 views)")
                    pushed = self._build_view(spec, root=stack[0], previous=stack[-1])
                    stack.append(pushed["id"])
            else:
                raise AssertionError(f"unknown response_action {action!r} in {body}")
            self._changed.notify_all()
        return None

    def _response_errors(self, view_id: str, errors: object) -> dict[str, str]:
        if not isinstance(errors, dict) or not errors:
            raise AssertionError(
                f"response_action errors needs a non-empty errors object, got {errors!r}"
            )
        input_blocks = {
            block.get("block_id")
            for block in self._views[view_id]["blocks"]
            if block.get("type") == "input"
        }
        unknown = sorted(set(errors) - input_blocks)
        if unknown:
            # Slack can only attach an error to an input block of the submitted view.
            raise AssertionError(f"response_action errors for unknown input block_ids {unknown}")
        return {str(key): str(value) for key, value in errors.items()}

    # -- Socket Mode ------------------------------------------------------------------------------

    @property
    def socket_connections_opened(self) -> int:
        """How many Socket Mode connections were opened so far (a reconnection adds one)."""
        with self._lock:
            return self._sockets_opened

    def wait_socket_connected(self, timeout: float = 5.0, *, opened: int = 1) -> None:
        """Waits until a Socket Mode client is connected (and was sent its hello), on at least
        the ``opened``-th connection so far: ``opened=2`` waits for a reconnection."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._sockets or self._sockets_opened < opened:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no Socket Mode connection #{opened} within {timeout}s "
                        f"({self._sockets_opened} opened, {len(self._sockets)} open)"
                    )
                self._changed.wait(remaining)

    def socket_send(
        self,
        type_: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> JsonDict:
        """Sends an envelope to the newest connection and returns the client's ack message."""
        ack, _ = self.socket_exchange(
            type_,
            payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            timeout=timeout,
        )
        return ack

    def socket_exchange(
        self,
        type_: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> tuple[JsonDict, float]:
        """Like socket_send; also the seconds from sending the envelope to receiving its ack
        (taken when the ack arrived, not when this thread woke up to read it)."""
        _, envelope_id, sent_at = self._send_envelope(
            type_, payload, accepts_response_payload, retry_attempt, retry_reason
        )
        deadline = sent_at + timeout
        with self._changed:
            while envelope_id not in self._acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no ack for {type_} envelope {envelope_id} within {timeout}s"
                    )
                self._changed.wait(remaining)
            ack, acked_at = self._acks.pop(envelope_id)
        return ack, acked_at - sent_at

    def socket_send_and_drop(
        self,
        type_: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> None:
        """Sends an envelope to the newest connection and closes that connection at once, as
        when a WebSocket dies before the ack reaches Slack. The client may or may not have
        handled the envelope; Slack would deliver it again on the next connection."""
        connection, _, _ = self._send_envelope(
            type_, payload, accepts_response_payload, retry_attempt, retry_reason
        )
        connection.close()

    def _send_envelope(
        self,
        type_: str,
        payload: JsonDict,
        accepts_response_payload: bool,
        retry_attempt: int,
        retry_reason: str,
    ) -> tuple[ServerConnection, str, float]:
        """Sends one envelope to the newest connection: that connection, its id, when sent."""
        envelope_id = str(uuid.uuid4())
        envelope = json.dumps(
            {
                "envelope_id": envelope_id,
                "type": type_,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        with self._lock:
            if not self._sockets:
                raise ConnectionError("no Socket Mode client is connected")
            connection = self._sockets[-1]
        sent_at = time.monotonic()
        connection.send(envelope)
        return connection, envelope_id, sent_at

    def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Asks connected clients to reconnect, as Slack does every few hours."""
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}}
        )
        with self._lock:
            connections = list(self._sockets)
        for connection in connections:
            connection.send(message)

    def close_sockets(self) -> None:
        """Closes every Socket Mode connection from Slack's side.

        slack_sdk's builtin client only notices its own close() after a 3-second receive
        timeout; closing from this side first ends its receive loop at once. Clients with
        auto-reconnect still enabled will connect again. Wait for the client's
        ``is_connected()`` to turn False before calling its ``close()``: slack_sdk's
        ``Connection.disconnect()`` is not safe to run from two threads at once.
        """
        with self._lock:
            connections = list(self._sockets)
        for connection in connections:
            connection.close()

    def _check_ticket(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        url = urlsplit(request.path)
        ticket = parse_qs(url.query).get("ticket", [""])[0]
        with self._lock:
            known = ticket in self._tickets
        if url.path != "/link/" or not known:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        return None

    def _socket_handler(self, connection: ServerConnection) -> None:
        with self._lock:
            count = len(self._sockets) + 1
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": count,
                    "debug_info": {
                        "host": "applink-standin",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        with self._changed:
            self._sockets.append(connection)
            self._sockets_opened += 1
            self._changed.notify_all()
        try:
            for raw in connection:
                acked_at = time.monotonic()
                try:
                    message = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                if isinstance(message, dict) and "envelope_id" in message:
                    with self._changed:
                        self._acks[message["envelope_id"]] = (message, acked_at)
                        self.socket_acks.append(message)
                        self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if connection in self._sockets:
                    self._sockets.remove(connection)
                self._changed.notify_all()

    # -- HTTP plumbing ----------------------------------------------------------------------------

    def _handle_http(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if url.path.startswith("/api/"):
            return self._api(url.path[len("/api/") :], url.query, body, request)
        if url.path.startswith("/upload/v1/"):
            return self._upload(url.path[len("/upload/v1/") :], body)
        if url.path.startswith("/respond/"):
            return self._respond(url.path.rsplit("/", 1)[-1], body)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _api(
        self, method: str, query: str, body: bytes, request: BaseHTTPRequestHandler
    ) -> tuple[int, dict[str, str], bytes]:
        at = time.monotonic()
        status, headers = 200, {"Content-Type": "application/json; charset=utf-8"}
        params: JsonDict = {}
        token: str | None = None
        try:
            params = _parse_params(query, body, request.headers.get("Content-Type", ""))
            token = _token(request.headers.get("Authorization"), params)
            with self._lock:
                queue = self._failures.get(method)
                failure = queue.popleft() if queue else None
            if failure is not None:
                if failure.error is not None:
                    raise _ApiError(failure.error)
                status = failure.status
                if status == 429:
                    headers["Retry-After"] = str(failure.retry_after)
                raise _ApiError("ratelimited" if status == 429 else "fatal_error")
            handler = self._methods.get(method)
            if handler is None:
                raise _ApiError("unknown_method")
            self._authenticate(method, token)
            with self._lock:
                result = {"ok": True, **handler(params)}
        except _ApiError as error:
            result = {"ok": False, "error": error.error, **error.extra}
            if error.messages:
                result["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in error.messages]}
        self._record(Call(method, params, token, at, result["ok"], result.get("error"), result))
        return status, headers, json.dumps(result).encode()

    def _record(self, call: Call) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def _authenticate(self, method: str, token: str | None) -> None:
        expected, other = (
            (self.app_token, self.bot_token)
            if method == "apps.connections.open"
            else (self.bot_token, self.app_token)
        )
        if not token:
            raise _ApiError("not_authed")
        if token == other:
            raise _ApiError("not_allowed_token_type")
        if token != expected:
            raise _ApiError("invalid_auth")

    def _upload(self, file_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            upload = self._files.get(file_id)
            if upload is None or upload.completed:
                return 404, {"Content-Type": "text/plain"}, b"unknown upload"
            upload.content = body
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()

    def _respond(self, token: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        at = time.monotonic()
        params: JsonDict = {}
        try:
            try:
                decoded = json.loads(body or b"{}")
            except ValueError as exc:
                raise _ApiError("invalid_payload") from exc
            params = decoded if isinstance(decoded, dict) else {}
            with self._lock:
                target = self._response_urls.get(token)
                if target is None or target.uses >= _RESPONSE_URL_USES:
                    raise _ApiError("expired_url")
                target.uses += 1
                self._apply_response_url(target, params)
            result: JsonDict = {"ok": True}
            status = 200
        except _ApiError as error:
            result = {"ok": False, "error": error.error}
            if error.messages:
                result["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in error.messages]}
            status = 404 if error.error == "expired_url" else 400
        self._record(
            Call("response_url", params, None, at, result["ok"], result.get("error"), result)
        )
        return status, {"Content-Type": "application/json"}, json.dumps(result).encode()

    def _apply_response_url(self, target: _ResponseUrl, params: JsonDict) -> None:
        original = self._stored(target.channel_id, target.message_ts) if target.message_ts else None
        if _truthy(params.get("delete_original")):
            if original is None:
                raise _ApiError("message_not_found")
            self._remove(target.channel_id, original["ts"])
            return
        self._check_message(params)
        if _truthy(params.get("replace_original")):
            if original is None:
                raise _ApiError("message_not_found")
            original["text"] = params.get("text", "")
            original["blocks"] = self._with_ids(params.get("blocks") or [])
            return
        if params.get("response_type") == "in_channel":
            self._store_message(target.channel_id, params)
        else:
            self._store_ephemeral(target.channel_id, target.user_id or "", params)

    def _stored(self, channel: str, ts: str) -> JsonDict | None:
        """The stored (mutable) channel or ephemeral message; callers hold the lock."""
        stored = self._messages.get(channel, {}).get(ts)
        if stored is not None:
            return stored
        return next(
            (e for e in self._ephemerals if e["channel"] == channel and e["ts"] == ts), None
        )

    def _remove(self, channel: str, ts: str) -> None:
        if self._messages.get(channel, {}).pop(ts, None) is None:
            self._ephemerals[:] = [
                e for e in self._ephemerals if not (e["channel"] == channel and e["ts"] == ts)
            ]

    # -- helpers for method handlers ------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _with_ids(self, blocks: list[Any]) -> list[Any]:
        """Slack fills in block_id/action_id the app left out; state and payloads use them."""
        blocks = copy.deepcopy(blocks)
        for block in blocks:
            if not isinstance(block, dict):
                continue
            block.setdefault("block_id", secrets.token_urlsafe(4)[:5])
            for element in block_elements(block):
                if element.get("type") in INTERACTIVE_ELEMENTS:
                    element.setdefault("action_id", secrets.token_urlsafe(3)[:4])
        return blocks

    def _channel(self, channel: object, *, allow_user: bool) -> str:
        if not isinstance(channel, str) or not channel:
            raise _ApiError("channel_not_found")
        if channel in self.channels or channel in self._dms:
            return channel
        if allow_user and channel in self.users:
            # Slack turns a user ID into the bot's DM with that user.
            dm = f"D{channel}"
            self._dms.add(dm)
            return dm
        raise _ApiError("channel_not_found")

    def _check_message(self, params: JsonDict) -> None:
        error = _message_error(params)
        if error is not None:
            raise _ApiError(error[0], error[1])

    def _bot_message(self, params: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "blocks": self._with_ids(params.get("blocks") or []),
        }
        for key in ("thread_ts", "metadata", "attachments"):
            if key in params:
                message[key] = params[key]
        return message

    def _store_message(self, channel: str, params: JsonDict) -> JsonDict:
        ts = self.next_ts()
        message = self._bot_message(params, ts)
        self._messages.setdefault(channel, {})[ts] = {**message, "channel": channel}
        return message

    def _store_ephemeral(self, channel: str, user: str, params: JsonDict) -> str:
        ts = self.next_ts()
        message = self._bot_message(params, ts)
        self._ephemerals.append({**message, "channel": channel, "user": user, "is_ephemeral": True})
        return ts

    def _trigger(self, params: JsonDict) -> _Trigger:
        """The trigger a views.open/push call presents, if Slack would still accept it."""
        trigger_id = params.get("trigger_id") or params.get("interactivity_pointer")
        trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise _ApiError("invalid_trigger_id")
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > self.trigger_ttl:
            raise _ApiError("expired_trigger_id")
        return trigger

    def _view_spec(
        self, params: JsonDict, expected_type: str, *, own_id: str | None = None
    ) -> JsonDict:
        spec = params.get("view")
        if not isinstance(spec, dict):
            raise _ApiError(
                "invalid_arguments", ["missing required field: view [json-pointer:/view]"]
            )
        problems = check_view(spec)
        if not problems and spec.get("type") != expected_type:
            problems = [f"must be {expected_type} for this method [json-pointer:/view/type]"]
        if problems:
            raise _ApiError("invalid_arguments", problems)
        external_id = spec.get("external_id")
        if external_id and any(
            view["external_id"] == external_id and view["id"] != own_id
            for view in self._views.values()
        ):
            raise _ApiError("duplicate_external_id")
        return spec

    def _build_view(
        self,
        spec: JsonDict,
        *,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
    ) -> JsonDict:
        view_id = view_id or self._new_id("V")
        view: JsonDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": spec["type"],
            "blocks": self._with_ids(spec.get("blocks") or []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root or view_id,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._views[view_id] = view
        return view

    # -- Web API methods --------------------------------------------------------------------------
    # Each returns the response fields after "ok": true, or raises _ApiError. They run under _lock.

    def _auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Deskbot Test",
            "user": "deskbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: JsonDict) -> JsonDict:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return {"url": f"{self.socket_url}?ticket={ticket}&app_id={self.app_id}"}

    def _chat_post_message(self, params: JsonDict) -> JsonDict:
        channel = self._channel(params.get("channel"), allow_user=True)
        self._check_message(params)
        message = self._store_message(channel, params)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: JsonDict) -> JsonDict:
        channel = self._channel(params.get("channel"), allow_user=False)
        stored = self._messages.get(channel, {}).get(str(params.get("ts")))
        if stored is None:
            raise _ApiError("message_not_found")
        if stored.get("user") != self.bot_user_id:
            raise _ApiError("cant_update_message")
        self._check_message(params)
        stored["text"] = params.get("text", "")
        stored["blocks"] = self._with_ids(params.get("blocks") or [])
        stored["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        message = {k: v for k, v in stored.items() if k != "channel"}
        return {
            "channel": channel,
            "ts": stored["ts"],
            "text": stored["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, params: JsonDict) -> JsonDict:
        channel = self._channel(params.get("channel"), allow_user=False)
        ts = str(params.get("ts"))
        if self._messages.get(channel, {}).pop(ts, None) is None:
            raise _ApiError("message_not_found")
        return {"channel": channel, "ts": ts}

    def _chat_post_ephemeral(self, params: JsonDict) -> JsonDict:
        channel = self._channel(params.get("channel"), allow_user=False)
        user = params.get("user")
        if user not in self.users:
            raise _ApiError("user_not_in_channel")
        self._check_message(params)
        return {"message_ts": self._store_ephemeral(channel, str(user), params)}

    def _chat_get_permalink(self, params: JsonDict) -> JsonDict:
        channel = self._channel(params.get("channel"), allow_user=False)
        ts = str(params.get("message_ts"))
        if ts not in self._messages.get(channel, {}):
            raise _ApiError("message_not_found")
        return {
            "channel": channel,
            "permalink": (
                f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            ),
        }

    def _conversations_open(self, params: JsonDict) -> JsonDict:
        if params.get("channel"):
            return {"channel": {"id": self._channel(params["channel"], allow_user=False)}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        for user in users:
            if user not in self.users:
                raise _ApiError("user_not_found")
        if len(users) == 1:
            channel = f"D{users[0]}"
        else:
            channel = "G" + "".join(sorted(u.removeprefix("U") for u in users))[:20]
        already = channel in self._dms
        self._dms.add(channel)
        result: JsonDict = {"channel": {"id": channel}}
        if already:
            result.update({"no_op": True, "already_open": True})
        return result

    def _users_info(self, params: JsonDict) -> JsonDict:
        user_id = params.get("user")
        if user_id == self.bot_user_id:
            return {
                "user": {
                    "id": user_id,
                    "team_id": self.team_id,
                    "name": "deskbot",
                    "is_bot": True,
                    "deleted": False,
                    "profile": {"real_name": "deskbot", "bot_id": self.bot_id},
                }
            }
        if user_id not in self.users:
            raise _ApiError("user_not_found")
        known = self.users[user_id]
        name = known.get("name", user_id.lower())
        tz = known.get("tz", "Europe/Amsterdam")
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": known.get("real_name", name.title()),
            "tz": tz,
            "tz_label": _tz_label(tz),
            "tz_offset": _tz_offset(tz),
            "is_admin": False,
            "is_bot": False,
            "profile": {
                "real_name": known.get("real_name", name.title()),
                "display_name": name,
                "email": known.get("email", f"{name}@example.org"),
            },
        }
        # Like Slack, locale is only part of the answer when include_locale is set.
        if _truthy(params.get("include_locale")):
            user["locale"] = known.get("locale", "en-US")
        return {"user": user}

    def _usergroups_users_list(self, params: JsonDict) -> JsonDict:
        group = params.get("usergroup")
        if group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _views_open(self, params: JsonDict) -> JsonDict:
        trigger = self._trigger(params)
        spec = self._view_spec(params, "modal")
        trigger.used = True
        view = self._build_view(spec)
        # A new modal replaces whatever stack the user had open.
        self._stacks[trigger.user_id] = [view["id"]]
        return {"view": copy.deepcopy(view)}

    def _views_push(self, params: JsonDict) -> JsonDict:
        trigger = self._trigger(params)
        spec = self._view_spec(params, "modal")
        # Simplification: the trigger's user's current stack stands for the stack it came from.
        stack = self._stacks.get(trigger.user_id) or []
        if not stack:
            raise _ApiError("invalid_arguments", ["views.push needs an open modal to push onto"])
        if len(stack) >= 3:
            raise _ApiError("push_limit_reached")
        trigger.used = True
        view = self._build_view(spec, root=stack[0], previous=stack[-1])
        stack.append(view["id"])
        return {"view": copy.deepcopy(view)}

    def _views_update(self, params: JsonDict) -> JsonDict:
        if params.get("view_id"):
            old = self._views.get(params["view_id"])
        elif params.get("external_id"):
            old = next(
                (v for v in self._views.values() if v["external_id"] == params["external_id"]), None
            )
        else:
            raise _ApiError("invalid_arguments", ["must provide view_id or external_id"])
        if old is None or not self._is_visible(old):
            raise _ApiError("not_found")
        if params.get("hash") and params["hash"] != old["hash"]:
            raise _ApiError("hash_conflict")
        spec = self._view_spec(params, old["type"], own_id=old["id"])
        if "external_id" not in spec:
            # Keep the view addressable by the external_id it was opened with.
            spec = {**spec, "external_id": old["external_id"]}
        view = self._build_view(
            spec, view_id=old["id"], root=old["root_view_id"], previous=old["previous_view_id"]
        )
        return {"view": copy.deepcopy(view)}

    def _views_publish(self, params: JsonDict) -> JsonDict:
        user_id = params.get("user_id")
        if user_id not in self.users:
            raise _ApiError("user_not_found")
        current = self._homes.get(user_id)
        spec = self._view_spec(params, "home", own_id=current)
        if current and params.get("hash") and params["hash"] != self._views[current]["hash"]:
            raise _ApiError("hash_conflict")
        view = self._build_view(spec, view_id=current)
        self._homes[user_id] = view["id"]
        return {"view": copy.deepcopy(view)}

    def _is_visible(self, view: JsonDict) -> bool:
        if view["type"] == "home":
            return True
        return any(view["id"] in stack for stack in self._stacks.values())

    def _files_get_upload_url(self, params: JsonDict) -> JsonDict:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length is None or not str(length).isdigit():
            raise _ApiError("invalid_arguments", ["filename and length are required"])
        file_id = self._new_id("F")
        self._files[file_id] = UploadedFile(
            file_id=file_id, filename=str(filename), length=int(length)
        )
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: JsonDict) -> JsonDict:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments", ["files must be a non-empty JSON array"])
        channel_id = params.get("channel_id")
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        for channel in [channel_id, *channels] if channel_id else channels:
            self._channel(channel, allow_user=False)
        completed: list[JsonDict] = []
        for item in files:
            upload = self._files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.content is None:
                raise _ApiError("file_not_found")
            upload.title = item.get("title") or upload.filename
            upload.channel_id = channel_id
            upload.channels = channels
            upload.initial_comment = params.get("initial_comment")
            upload.thread_ts = params.get("thread_ts")
            upload.completed = True
            completed.append(
                {
                    "id": upload.file_id,
                    "name": upload.filename,
                    "title": upload.title,
                    "size": len(upload.content),
                    "user": self.bot_user_id,
                    "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{upload.file_id}",
                }
            )
        for channel in [channel_id, *channels] if channel_id else channels:
            shared = self._store_message(channel, {"text": params.get("initial_comment", "")})
            self._messages[channel][shared["ts"]]["files"] = copy.deepcopy(completed)
        return {"files": completed}


# ---------------------------------------------------------------------------------------------
# Module helpers
# ---------------------------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    """The stand-in's HTTP server; request handlers reach the stand-in through it."""

    daemon_threads = True

    def __init__(self, standin: SlackStandin) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.standin = standin


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_POST(self) -> None:
        status, headers, body = self.server.standin._handle_http(self)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        # Request logs would drown pytest's output; calls are recorded on the stand-in instead.
        pass


def _parse_params(query: str, body: bytes, content_type: str) -> JsonDict:
    params: JsonDict = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if body:
        if kind == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _ApiError("invalid_json") from exc
            if not isinstance(decoded, dict):
                raise _ApiError("invalid_json")
            params.update(decoded)
        elif kind in ("application/x-www-form-urlencoded", ""):
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            raise _ApiError("invalid_form_data")
    # Form-encoded requests carry nested structures as JSON strings; Slack decodes them.
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            # Undecodable JSON stays a string, so the method reports e.g. invalid_blocks_format.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _token(authorization: str | None, params: JsonDict) -> str | None:
    token = params.pop("token", None)
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[len("bearer ") :].strip()
    return str(token) if token else None


def _decode_response(response: JsonDict | str | bytes | None) -> JsonDict | None:
    if response is None:
        return None
    if isinstance(response, dict):
        return response or None
    text = response.decode("utf-8") if isinstance(response, bytes) else response
    if not text.strip():
        return None
    try:
        decoded = json.loads(text)
    except ValueError as exc:
        raise AssertionError(
            f"Slack cannot use a non-JSON view_submission response: {text[:200]!r}"
        ) from exc
    if not isinstance(decoded, dict):
        raise AssertionError(f"view_submission response must be a JSON object, got {text[:200]!r}")
    return decoded or None


def block_elements(block: JsonDict) -> list[JsonDict]:
    """The elements a block holds: actions elements, a section accessory, an input element."""
    found: list[Any] = []
    if block.get("type") == "actions":
        found = list(block.get("elements") or [])
    elif block.get("type") == "section" and "accessory" in block:
        found = [block["accessory"]]
    elif block.get("type") == "input" and "element" in block:
        found = [block["element"]]
    return [element for element in found if isinstance(element, dict)]


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset else 0


def _tz_label(tz: str) -> str:
    try:
        return datetime.now(ZoneInfo(tz)).tzname() or tz
    except (ZoneInfoNotFoundError, ValueError):
        return tz
