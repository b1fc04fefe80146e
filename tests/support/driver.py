"""Plays Slack towards the app under test: Slack's payloads, over signed HTTP or Socket Mode.

``PayloadBuilder`` builds every payload once; ``SlackDriver`` (HTTP, signed like Slack) and
``SocketDriver`` (envelopes through the stand-in's Socket Mode server) only transport them.
Payloads are built from what the app actually showed (views and messages held by the
``SlackStandin``), so a test cannot press a button or fill a field the app never rendered.

Both drivers hold the app to Slack's ack deadline: an answer that takes longer than 3 seconds
fails the test, as Slack would have shown the user an error (and retried an event) by then.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import ProxyHandler, Request, build_opener

from .slack_standin import JsonDict, SlackStandin, block_elements

__all__ = [
    "ACK_DEADLINE",
    "Delivery",
    "PayloadBuilder",
    "Response",
    "SlackDriver",
    "SocketDriver",
    "SocketReply",
]

Kind = Literal["events_api", "slash_commands", "interactive"]
SocketReply = JsonDict | None
R = TypeVar("R")

VERIFICATION_TOKEN = "deprecated-verification-token"
ACK_DEADLINE = 3.0  # seconds: Slack's rule for every request and envelope, not a tuning knob
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class Response:
    """The app's HTTP answer to one request."""

    status: int
    headers: dict[str, str]
    body: str
    elapsed: float  # seconds; Slack gives up after 3

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


@dataclass(frozen=True)
class Delivery:
    """One payload as Slack would deliver it, independent of the transport."""

    kind: Kind
    payload: JsonDict
    accepts_response_payload: bool = False
    retry_num: int | None = None
    retry_reason: str = ""

    def retried(self, reason: str) -> Delivery:
        """The same payload as Slack delivers it again when it got no ack in time."""
        return dataclasses.replace(self, retry_num=(self.retry_num or 0) + 1, retry_reason=reason)

    def describe(self) -> str:
        """What this is, for a failure message: the command, callback or event it carries."""
        payload = self.payload
        if self.kind == "slash_commands":
            words = str(payload.get("text") or "").split()
            return f"the command {payload.get('command')} {' '.join(words[:1])}".rstrip()
        if self.kind == "events_api":
            event = payload.get("event") or {}
            return f"the {event.get('type')} event {payload.get('event_id')}"
        actions = payload.get("actions") or [{}]
        name = (
            actions[0].get("action_id")
            or payload.get("callback_id")
            or (payload.get("view") or {}).get("callback_id")
            or payload.get("action_id")  # block_suggestion: the options of an external select
        )
        return f"the {payload.get('type')} {name!r}"


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value)


def _is_empty(entry: Mapping[str, Any]) -> bool:
    return all(not value for key, value in entry.items() if key != "type")


def _offered_options(element: JsonDict) -> list[JsonDict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _pick(element: JsonDict, chosen: object) -> JsonDict:
    """The offered option matching ``chosen`` (a value or an option dict), as Slack reports it."""
    wanted = chosen.get("value") if isinstance(chosen, dict) else chosen
    if element["type"] in ("external_select", "multi_external_select"):
        # External selects have no options in the view; the app's options listener supplied them.
        if isinstance(chosen, dict):
            return copy.deepcopy(chosen)
        return {"text": {"type": "plain_text", "text": str(wanted)}, "value": str(wanted)}
    offered = _offered_options(element)
    for option in offered:
        if option.get("value") == wanted:
            return copy.deepcopy(option)
    values = [option.get("value") for option in offered]
    raise AssertionError(
        f"{element.get('action_id')}: option {wanted!r} is not offered; offered: {values}"
    )


def _as_list(value: object) -> list[Any]:
    """One value or an iterable of them (strings and dicts count as one value)."""
    if value is None:
        return []
    if isinstance(value, str | dict) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _picks(element: JsonDict, chosen: object) -> list[JsonDict]:
    return [_pick(element, item) for item in _as_list(chosen)]


def _element_state(element: JsonDict, value: object, given: bool) -> JsonDict:
    """What Slack reports for an element: the given value, else the element's initial value."""
    kind = element["type"]
    entry: JsonDict = {"type": kind}
    match kind:
        case "plain_text_input" | "email_text_input" | "url_text_input" | "number_input":
            entry["value"] = (
                (None if value is None else str(value)) if given else element.get("initial_value")
            )
        case "static_select" | "radio_buttons" | "external_select" | "overflow":
            entry["selected_option"] = (
                (None if value is None else _pick(element, value))
                if given
                else element.get("initial_option")
            )
        case "multi_static_select" | "checkboxes" | "multi_external_select":
            entry["selected_options"] = (
                _picks(element, value) if given else list(element.get("initial_options") or [])
            )
        case "datepicker":
            entry["selected_date"] = (
                (None if value is None else _iso(value)) if given else element.get("initial_date")
            )
        case "timepicker":
            entry["selected_time"] = value if given else element.get("initial_time")
        case "datetimepicker":
            entry["selected_date_time"] = value if given else element.get("initial_date_time")
        case "users_select" | "conversations_select" | "channels_select":
            noun = kind.removesuffix("s_select")
            entry[f"selected_{noun}"] = value if given else element.get(f"initial_{noun}")
        case "multi_users_select" | "multi_conversations_select" | "multi_channels_select":
            noun = kind.removeprefix("multi_").removesuffix("_select")
            initial = element.get(f"initial_{noun}")
            entry[f"selected_{noun}"] = _as_list(value) if given else _as_list(initial)
        case "file_input":
            files = _as_list(value) if given else []
            entry["files"] = [f if isinstance(f, dict) else {"id": str(f)} for f in files]
        case "rich_text_input":
            entry["rich_text_value"] = (
                _rich_text(str(value)) if given and value else element.get("initial_value")
            )
        case _:
            raise AssertionError(f"the driver does not know how Slack reports {kind!r} elements")
    return entry


def _rich_text(text: str) -> JsonDict:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


class PayloadBuilder:
    """Builds the payloads Slack sends for commands, shortcuts, actions, submissions and events."""

    def __init__(self, standin: SlackStandin, team_id: str = "T0001") -> None:
        self.standin = standin
        self.team_id = team_id

    # -- shared pieces ----------------------------------------------------------------------------

    def _name(self, user_id: str) -> str:
        return str(self.standin.users.get(user_id, {}).get("name", user_id.lower()))

    def _team(self) -> JsonDict:
        return {"id": self.team_id, "domain": self.standin.team_domain}

    def _user(self, user_id: str) -> JsonDict:
        name = self._name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    @staticmethod
    def _channel(channel_id: str) -> JsonDict:
        name = "directmessage" if channel_id.startswith("D") else channel_id.lower()
        return {"id": channel_id, "name": name}

    def _interaction(self, kind: str, user_id: str) -> JsonDict:
        return {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "api_app_id": self.standin.app_id,
            "team": self._team(),
            "user": self._user(user_id),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def current_view(self, user_id: str, view: JsonDict) -> JsonDict:
        """The stand-in's latest version of ``view``, which must be in front of the user."""
        view_id = view.get("id")
        modal, home = self.standin.open_modal(user_id), self.standin.home(user_id)
        for shown in (modal, home):
            if shown is not None and shown["id"] == view_id:
                return shown
        raise AssertionError(
            f"view {view_id} ({view.get('callback_id')!r}) is not in front of {user_id}; "
            f"open modal: {modal and modal['id']}, home: {home and home['id']}"
        )

    def current_message(self, message: JsonDict, channel_id: str | None) -> JsonDict:
        """The stand-in's latest version of a message the app posted (or a seeded user message)."""
        channel = channel_id or message.get("channel")
        ts = message.get("ts") or message.get("message_ts")
        if not channel or not ts:
            raise AssertionError("a message needs its channel (channel_id=...) and ts")
        stored = self.standin.find_message(str(channel), str(ts))
        if stored is None:
            raise AssertionError(f"no message {ts} in {channel}: the app never posted it")
        return stored

    # -- state ------------------------------------------------------------------------------------

    def fill(self, view: JsonDict, values: Mapping[str, object]) -> JsonDict:
        """``view.state.values`` for the inputs of ``view``, with ``values`` keyed by action_id."""
        inputs: list[tuple[str, JsonDict]] = [
            (str(block.get("block_id") or f"b{index}"), block["element"])
            for index, block in enumerate(view.get("blocks") or [])
            if block.get("type") == "input" and isinstance(block.get("element"), dict)
        ]
        where: dict[str, list[str]] = {}
        for block_id, element in inputs:
            where.setdefault(str(element.get("action_id")), []).append(block_id)
        for key in values:
            if key not in where:
                raise AssertionError(
                    f"{key!r} is not an input of view {view.get('callback_id')!r}; "
                    f"inputs: {sorted(where)}"
                )
            if len(where[key]) > 1:
                raise AssertionError(f"{key!r} is the action_id of several inputs: {where[key]}")
        state: JsonDict = {}
        for block_id, element in inputs:
            action_id = str(element.get("action_id"))
            state.setdefault(block_id, {})[action_id] = _element_state(
                element, values.get(action_id), action_id in values
            )
        return state

    @staticmethod
    def client_side_problems(view: JsonDict, state: JsonDict) -> list[str]:
        """What Slack's client checks before it lets the user submit (required fields, lengths)."""
        problems: list[str] = []
        for block in view.get("blocks") or []:
            if block.get("type") != "input" or not isinstance(block.get("element"), dict):
                continue
            element = block["element"]
            entry = state.get(block.get("block_id"), {}).get(element.get("action_id"), {})
            label = f"{block.get('block_id')}/{element.get('action_id')}"
            if _is_empty(entry):
                if not block.get("optional"):
                    problems.append(f"{label} is required")
                continue
            text = entry.get("value")
            if isinstance(text, str):
                if len(text) < int(element.get("min_length", 0)):
                    problems.append(f"{label} is shorter than {element['min_length']}")
                if len(text) > int(element.get("max_length", 3000)):
                    problems.append(f"{label} is longer than {element.get('max_length', 3000)}")
                problems += _typed_input_problems(element, text, label)
        return problems

    # -- payloads ---------------------------------------------------------------------------------

    def command(
        self, user_id: str, command: str, text: str = "", channel_id: str = "C0TRIAGE"
    ) -> Delivery:
        if not command.startswith("/"):
            raise AssertionError(f"slash commands start with '/': {command!r}")
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.standin.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel(channel_id)["name"],
            "user_id": user_id,
            "user_name": self._name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.standin.app_id,
            "is_enterprise_install": "false",
            "response_url": self.standin.issue_response_url(channel_id, user_id),
            "trigger_id": self.standin.issue_trigger_id(user_id),
        }
        return Delivery("slash_commands", payload, accepts_response_payload=True)

    def global_shortcut(self, user_id: str, callback_id: str) -> Delivery:
        payload = self._interaction("shortcut", user_id)
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.standin.issue_trigger_id(user_id),
                "action_ts": f"{time.time():.6f}",
            }
        )
        return Delivery("interactive", payload)

    def message_shortcut(
        self, user_id: str, callback_id: str, message: JsonDict, channel_id: str
    ) -> Delivery:
        shown = self.current_message(message, channel_id)
        payload = self._interaction("message_action", user_id)
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.standin.issue_trigger_id(user_id),
                "action_ts": f"{time.time():.6f}",
                "channel": self._channel(channel_id),
                "message_ts": shown["ts"],
                "message": {k: v for k, v in shown.items() if k != "channel"},
                "response_url": self.standin.issue_response_url(channel_id, user_id),
            }
        )
        return Delivery("interactive", payload)

    def block_action(
        self,
        user_id: str,
        action_id: str,
        value: object = None,
        *,
        block_id: str | None = None,
        view: JsonDict | None = None,
        message: JsonDict | None = None,
        channel_id: str | None = None,
        selected_options: Iterable[object] | None = None,
        selected_option: object = None,
        values: Mapping[str, object] | None = None,
    ) -> Delivery:
        """A block_actions payload for the element ``action_id`` of a view or a message.

        ``values`` fills the view's inputs (the state Slack sends along with the action).
        """
        if (view is None) == (message is None):
            raise AssertionError("block_action needs exactly one of view= or message=")
        payload = self._interaction("block_actions", user_id)
        payload["trigger_id"] = self.standin.issue_trigger_id(user_id)
        if view is not None:
            shown = self.current_view(user_id, view)
            shown["state"] = {"values": self.fill(shown, values or {})}
            blocks = shown["blocks"]
            payload.update(
                {
                    "container": {"type": "view", "view_id": shown["id"]},
                    "view": shown,
                    "state": shown["state"],
                }
            )
        else:
            assert message is not None
            shown = self.current_message(message, channel_id)
            channel = str(channel_id or shown["channel"])
            blocks = shown.get("blocks") or []
            ephemeral = bool(shown.get("is_ephemeral"))
            payload.update(
                {
                    "container": {
                        "type": "message",
                        "message_ts": shown["ts"],
                        "channel_id": channel,
                        "is_ephemeral": ephemeral,
                    },
                    "channel": self._channel(channel),
                    "state": {"values": {}},
                    "response_url": self.standin.issue_response_url(channel, user_id, shown["ts"]),
                }
            )
            # Slack does not send the content of ephemeral messages back.
            if not ephemeral:
                payload["message"] = {
                    k: v for k, v in shown.items() if k not in ("channel", "is_ephemeral")
                }
        found_block, element = _find_element(blocks, action_id, block_id, value)
        payload["actions"] = [
            _action(element, found_block, value, selected_option, selected_options)
        ]
        return Delivery("interactive", payload)

    def view_submission(
        self, user_id: str, view: JsonDict, values: Mapping[str, object]
    ) -> tuple[JsonDict, Delivery]:
        """The submitted view (as Slack stores it) and the view_submission payload for it."""
        shown = self.current_view(user_id, view)
        if shown["type"] != "modal" or not shown.get("submit"):
            raise AssertionError(f"view {shown['id']} has no submit button")
        state = self.fill(shown, values)
        problems = self.client_side_problems(shown, state)
        if problems:
            raise AssertionError(f"Slack would not let {user_id} submit: {problems}")
        shown["state"] = {"values": state}
        payload = self._interaction("view_submission", user_id)
        payload.update(
            {
                "trigger_id": self.standin.issue_trigger_id(user_id),
                "view": shown,
                "response_urls": [],
            }
        )
        return shown, Delivery("interactive", payload, accepts_response_payload=True)

    def view_closed(self, user_id: str, view: JsonDict, *, is_cleared: bool) -> Delivery:
        payload = self._interaction("view_closed", user_id)
        payload.update({"view": view, "is_cleared": is_cleared})
        return Delivery("interactive", payload)

    def event(
        self,
        event: JsonDict,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Delivery:
        event = copy.deepcopy(event)
        event.setdefault("event_ts", event.get("ts") or f"{time.time():.6f}")
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.standin.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.standin.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        return Delivery(
            "events_api",
            payload,
            retry_num=retry_num,
            retry_reason=retry_reason if retry_num is not None else "",
        )

    def dm_event(self, user_id: str, text: str, channel_id: str | None = None) -> JsonDict:
        """A user's direct message to the app; also stored in the stand-in's channel history."""
        channel = channel_id or self.standin.open_dm(user_id)
        message = self.standin.add_message(
            channel,
            {
                "type": "message",
                "client_msg_id": str(uuid.uuid4()),
                "text": text,
                "user": user_id,
                "team": self.team_id,
                "blocks": [_rich_text(text)],
            },
        )
        message.pop("channel")
        return {**message, "channel": channel, "event_ts": message["ts"], "channel_type": "im"}


def _typed_input_problems(element: JsonDict, text: str, label: str) -> list[str]:
    kind = element["type"]
    if kind == "email_text_input" and not _EMAIL.match(text):
        return [f"{label} is not an email address"]
    if kind == "url_text_input" and not _URL.match(text):
        return [f"{label} is not a URL"]
    if kind == "number_input":
        try:
            number = float(text) if element.get("is_decimal_allowed") else int(text)
        except ValueError:
            return [f"{label} is not a number Slack accepts"]
        low, high = element.get("min_value"), element.get("max_value")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            return [f"{label} is outside [{low}, {high}]"]
    return []


def _find_element(
    blocks: list[JsonDict], action_id: str, block_id: str | None, value: object
) -> tuple[str, JsonDict]:
    """The one element with ``action_id`` (in ``block_id``; a button with ``value``)."""
    matches = [
        (str(block.get("block_id")), element)
        for block in blocks
        if block_id is None or block.get("block_id") == block_id
        for element in block_elements(block)
        if element.get("action_id") == action_id
    ]
    if not matches:
        shown = sorted(
            str(element.get("action_id")) for block in blocks for element in block_elements(block)
        )
        raise AssertionError(f"no element {action_id!r} is shown; shown: {shown}")
    if len(matches) > 1 and isinstance(value, str):
        # Several blocks may reuse an action_id (e.g. one button per list item); the value decides.
        matches = [m for m in matches if m[1].get("value") == value] or matches
    if len(matches) > 1:
        raise AssertionError(
            f"{action_id!r} appears in blocks {[m[0] for m in matches]}; pass block_id= or value="
        )
    return matches[0]


def _action(
    element: JsonDict,
    block_id: str,
    value: object,
    selected_option: object,
    selected_options: Iterable[object] | None,
) -> JsonDict:
    """The entry of ``actions`` Slack sends for an interaction with ``element``."""
    kind = element["type"]
    action: JsonDict = {
        "type": kind,
        "action_id": element["action_id"],
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if kind in ("button", "workflow_button"):
        own = element.get("value")
        if value is not None and value != own:
            raise AssertionError(f"button {element['action_id']!r} carries {own!r}, not {value!r}")
        action["text"] = element["text"]
        if own is not None:
            action["value"] = own
        if "style" in element:
            action["style"] = element["style"]
        return action
    if kind in ("static_select", "radio_buttons", "external_select", "overflow"):
        chosen = selected_option if selected_option is not None else value
        if chosen is None:
            raise AssertionError(f"{element['action_id']!r}: say which option is selected")
        action["selected_option"] = _pick(element, chosen)
    elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        action["selected_options"] = _picks(
            element, selected_options if selected_options is not None else value
        )
    else:
        state = _element_state(element, value, True)
        action.update({k: v for k, v in state.items() if k != "type"})
    for key in ("placeholder", "initial_option", "initial_date", "initial_user"):
        if key in element:
            action[key] = element[key]
    return action


class _Driver(ABC, Generic[R]):
    """The interactions of one user with the app; subclasses say how a Delivery travels.

    ``deadline`` is how long the app may take to answer (Slack's 3 seconds); None turns the
    check off, for a test that probes a deliberately slow path (see ``without_deadline``).
    """

    def __init__(
        self, standin: SlackStandin, team_id: str = "T0001", *, deadline: float | None
    ) -> None:
        self.standin = standin
        self.payloads = PayloadBuilder(standin, team_id)
        self.deadline = deadline

    @abstractmethod
    def _exchange(self, delivery: Delivery) -> tuple[R, float]:
        """Sends the payload; the app's answer and the seconds it took to come."""

    def _deliver(self, delivery: Delivery) -> R:
        reply, seconds = self._exchange(delivery)
        self._check_deadline(delivery.describe(), seconds)
        return reply

    def _check_deadline(self, what: str, seconds: float) -> None:
        if self.deadline is not None and seconds > self.deadline:
            raise AssertionError(
                f"the app answered {what} after {seconds:.2f} s; Slack gives up after "
                f"{self.deadline:g} s and shows the user an error (an event is delivered again)"
            )

    @contextmanager
    def without_deadline(self) -> Iterator[None]:
        """For a test that makes the app slow on purpose: its answers may come late."""
        kept, self.deadline = self.deadline, None
        try:
            yield
        finally:
            self.deadline = kept

    def deliver(self, delivery: Delivery) -> R:
        """Sends a payload built beforehand (e.g. two clicks built while a button was shown)."""
        return self._deliver(delivery)

    @abstractmethod
    def _submission_answer(self, reply: R) -> tuple[bool, JsonDict | str | None]:
        """Whether Slack got a usable answer to a view_submission, and that answer's body."""

    def command(
        self, user_id: str, command: str, text: str = "", channel_id: str = "C0TRIAGE"
    ) -> R:
        return self._deliver(self.payloads.command(user_id, command, text, channel_id))

    def global_shortcut(self, user_id: str, callback_id: str) -> R:
        return self._deliver(self.payloads.global_shortcut(user_id, callback_id))

    def message_shortcut(
        self, user_id: str, callback_id: str, message: JsonDict, channel_id: str
    ) -> R:
        return self._deliver(
            self.payloads.message_shortcut(user_id, callback_id, message, channel_id)
        )

    def block_action(
        self,
        user_id: str,
        action_id: str,
        value: object = None,
        *,
        block_id: str | None = None,
        view: JsonDict | None = None,
        message: JsonDict | None = None,
        channel_id: str | None = None,
        selected_options: Iterable[object] | None = None,
        selected_option: object = None,
        values: Mapping[str, object] | None = None,
    ) -> R:
        return self._deliver(
            self.payloads.block_action(
                user_id,
                action_id,
                value,
                block_id=block_id,
                view=view,
                message=message,
                channel_id=channel_id,
                selected_options=selected_options,
                selected_option=selected_option,
                values=values,
            )
        )

    def click(
        self, user_id: str, message_or_view: JsonDict, action_id: str, value: str | None = None
    ) -> R:
        """Presses the button ``action_id`` (``value`` picks among same-named buttons)."""
        is_view = "hash" in message_or_view or message_or_view.get("type") in ("modal", "home")
        if is_view:
            return self.block_action(user_id, action_id, value, view=message_or_view)
        return self.block_action(user_id, action_id, value, message=message_or_view)

    def fill(self, view: JsonDict, values: Mapping[str, object]) -> JsonDict:
        return self.payloads.fill(view, values)

    def submit_view(
        self, user_id: str, view: JsonDict, values: Mapping[str, object] | None = None
    ) -> tuple[R, dict[str, str] | None]:
        """Submits the modal in front of the user; the app's answer is applied to the stand-in."""
        shown, delivery = self.payloads.view_submission(user_id, view, values or {})
        reply = self._deliver(delivery)
        usable, body = self._submission_answer(reply)
        errors = self.standin.apply_response_action(user_id, shown["id"], body) if usable else None
        return reply, errors

    def close_view(self, user_id: str, view: JsonDict) -> R | None:
        """The user closes the modal; Slack tells the app only when notify_on_close is set."""
        shown = self.payloads.current_view(user_id, view)
        cleared = bool(shown.get("clear_on_close"))
        self.standin.close_modal(user_id, shown["id"], clear=cleared)
        if not shown.get("notify_on_close"):
            return None
        return self._deliver(self.payloads.view_closed(user_id, shown, is_cleared=cleared))

    def event(
        self,
        event: JsonDict,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> R:
        return self._deliver(
            self.payloads.event(
                event, event_id=event_id, retry_num=retry_num, retry_reason=retry_reason
            )
        )

    def dm(self, user_id: str, text: str, channel_id: str | None = None) -> R:
        return self.event(self.payloads.dm_event(user_id, text, channel_id))


class SlackDriver(_Driver[Response]):
    """Delivers payloads as Slack's signed HTTP requests to the app's request URL."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        standin: SlackStandin,
        team_id: str = "T0001",
        *,
        timeout: float = 10.0,
        deadline: float | None = ACK_DEADLINE,
    ) -> None:
        super().__init__(standin, team_id, deadline=deadline)
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.timeout = timeout
        # No proxies: the app listens on 127.0.0.1 whatever the environment says.
        self._opener = build_opener(ProxyHandler({}))

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The X-Slack-Request-Timestamp and X-Slack-Signature headers for ``body``."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        base = b"v0:" + ts.encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    def raw(self, body: bytes, headers: Mapping[str, str]) -> Response:
        """Posts exactly ``body`` and ``headers`` (for tests of bad or missing signatures).

        No deadline is checked here; ``Response.elapsed`` says how long the answer took.
        """
        request = Request(self.app_url, data=body, headers=dict(headers), method="POST")
        # Timed around the request alone, as Slack times it: building and signing the payload
        # on a busy test machine is not the app's time.
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                status, answer_headers, text = (
                    answer.status,
                    dict(answer.headers.items()),
                    answer.read().decode("utf-8"),
                )
        except HTTPError as error:
            status, answer_headers = error.code, dict(error.headers.items())
            text = error.read().decode("utf-8")
        return Response(status, answer_headers, text, time.monotonic() - started)

    def url_verification(self, challenge: str) -> Response:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        response = self._post(json.dumps(body).encode(), "application/json")
        self._check_deadline("the url_verification challenge", response.elapsed)
        return response

    def _post(
        self, body: bytes, content_type: str, extra: Mapping[str, str] | None = None
    ) -> Response:
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **self.sign(body),
            **(extra or {}),
        }
        return self.raw(body, headers)

    def _exchange(self, delivery: Delivery) -> tuple[Response, float]:
        try:
            response = self._post(*self._encode(delivery))
        except TimeoutError:
            raise AssertionError(
                f"the app sent no answer to {delivery.describe()} within {self.timeout:g} s "
                f"(Slack gives up after {ACK_DEADLINE:g} s)"
            ) from None
        return response, response.elapsed

    @staticmethod
    def _encode(delivery: Delivery) -> tuple[bytes, str, dict[str, str]]:
        """The body, content type and retry headers Slack sends for ``delivery``."""
        form = "application/x-www-form-urlencoded"
        if delivery.kind == "slash_commands":
            return urlencode(delivery.payload).encode(), form, {}
        if delivery.kind == "interactive":
            return urlencode({"payload": json.dumps(delivery.payload)}).encode(), form, {}
        retry: dict[str, str] = {}
        if delivery.retry_num is not None:
            retry = {
                "X-Slack-Retry-Num": str(delivery.retry_num),
                "X-Slack-Retry-Reason": delivery.retry_reason,
            }
        return json.dumps(delivery.payload).encode(), "application/json", retry

    def _submission_answer(self, reply: Response) -> tuple[bool, JsonDict | str | None]:
        return reply.status == 200, reply.body


class SocketDriver(_Driver[SocketReply]):
    """Delivers payloads as Socket Mode envelopes; each call returns the ack's payload (or None).

    The ack is timed from sending the envelope to receiving the ack, as Slack times it.
    """

    def __init__(
        self,
        standin: SlackStandin,
        team_id: str = "T0001",
        *,
        timeout: float = 5.0,
        deadline: float | None = ACK_DEADLINE,
    ) -> None:
        super().__init__(standin, team_id, deadline=deadline)
        self.timeout = timeout

    def _exchange(self, delivery: Delivery) -> tuple[SocketReply, float]:
        try:
            ack, seconds = self.standin.socket_exchange(
                delivery.kind,
                delivery.payload,
                accepts_response_payload=delivery.accepts_response_payload,
                retry_attempt=delivery.retry_num or 0,
                retry_reason=delivery.retry_reason,
                timeout=self.timeout,
            )
        except TimeoutError:
            raise AssertionError(
                f"the app sent no ack for {delivery.describe()} within {self.timeout:g} s "
                f"(Slack gives up after {ACK_DEADLINE:g} s)"
            ) from None
        payload = ack.get("payload")
        return (payload if isinstance(payload, dict) else None), seconds

    def deliver_as_connection_drops(self, delivery: Delivery) -> None:
        """Sends the envelope and at once drops the connection it went out on, as when Slack's
        WebSocket dies before the ack comes back: Slack then delivers it again (``retried``)."""
        self.standin.socket_send_and_drop(
            delivery.kind,
            delivery.payload,
            accepts_response_payload=delivery.accepts_response_payload,
            retry_attempt=delivery.retry_num or 0,
            retry_reason=delivery.retry_reason,
        )

    def _submission_answer(self, reply: SocketReply) -> tuple[bool, JsonDict | str | None]:
        return True, reply
