"""Start-up checks and the operator's one-line errors: is the bot token good, can Slack be
reached, are roles set, and which mistakes deskbot explains in a sentence instead of a traceback."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from deskbot.settings import ConfigFileError, Settings, get_settings

if TYPE_CHECKING:
    from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
# slack_sdk logs each failed request as an error; while Slack is away that would be one line
# per attempt, and check_slack says it once.
_silent = logging.getLogger("deskbot.startup.slack_sdk")
_silent.addHandler(logging.NullHandler())
_silent.propagate = False

# Exit codes: a setting or option the operator must change, or a service that did not answer.
CONFIGURATION = 2
UNREACHABLE = 1
# Slack's answers that mean "not now" rather than "not this token".
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
SECRET_WORDS = ("token", "secret", "password", "key", "url")


class OperatorError(Exception):
    """A mistake or an outage the operator can fix: shown as one line per problem, no traceback."""

    def __init__(self, *lines: str, code: int = CONFIGURATION) -> None:
        super().__init__(" ".join(lines))
        self.lines = lines
        self.code = code


class SlackUnreachable(Exception):
    """Slack could not be asked (refused connection, timeout, 5xx, rate limit)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- Slack ---------------------------------------------------------------------------------------


def ask_slack(settings: Settings, method: str, token: str, setting: str) -> dict[str, Any]:
    """One call to Slack without retries: its answer, OperatorError when Slack refuses the
    token (named by setting), SlackUnreachable when Slack cannot be asked."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=5,
        retry_handlers=[],
        logger=_silent,
    )
    try:
        data = client.api_call(method).data
    except SlackApiError as problem:
        raise _refusal(problem, setting, settings.slack_api_url) from None
    except OSError as problem:  # urllib's URLError, timeouts, refused connections
        reason = getattr(problem, "reason", None) or problem
        raise SlackUnreachable(str(getattr(reason, "strerror", None) or reason).lower()) from None
    except ValueError:  # urllib: "unknown url type"
        raise OperatorError(
            f"DESKBOT_SLACK_API_URL ({settings.slack_api_url}) is not an http(s) URL; "
            "leave it unset for Slack itself (https://slack.com/api/)."
        ) from None
    return data if isinstance(data, dict) else {}


def _refusal(problem: SlackApiError, setting: str, api_url: str) -> Exception:
    status, data = problem.response.status_code, problem.response.data
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    if status == 429 or status >= 500:
        return SlackUnreachable(f"HTTP {status}")
    if error in TRANSIENT_ERRORS:
        return SlackUnreachable(error)
    if status != 200 or not error:
        return OperatorError(
            f"Slack's Web API at {api_url} answered HTTP {status}, not Slack's JSON: "
            "check DESKBOT_SLACK_API_URL (leave it unset for https://slack.com/api/)."
        )
    return OperatorError(
        f"Slack refused {setting} ({error}): copy the token again from your Slack app's page "
        f"at https://api.slack.com/apps ({_WHERE[setting]}) and restart deskbot."
    )


_WHERE = {
    "SLACK_BOT_TOKEN": "OAuth & Permissions → Bot User OAuth Token, xoxb-…",
    "SLACK_APP_TOKEN": "Basic Information → App-Level Tokens, xapp-… with connections:write",
}


def _bot_token(settings: Settings) -> str:
    token = settings.slack_bot_token
    return token.get_secret_value() if token else ""


def _identity(answer: dict[str, Any]) -> str:
    # IDs only: names are not for the log.
    return f"workspace {answer.get('team_id')}, bot user {answer.get('user_id')}"


def check_slack(
    settings: Settings, *, first_delay: float = 5.0, max_delay: float = 300.0
) -> threading.Thread | None:
    """Slack's auth.test with the bot token, before deskbot starts. A token Slack refuses stops
    the start (OperatorError). When Slack cannot be reached, one warning, and a daemon thread
    keeps asking, the pause doubling from first_delay to max_delay; it is returned."""
    try:
        answer = ask_slack(settings, "auth.test", _bot_token(settings), "SLACK_BOT_TOKEN")
    except SlackUnreachable as problem:
        log.warning(
            "Slack could not be reached at %s (%s); deskbot starts anyway and keeps trying.",
            settings.slack_api_url,
            problem.reason,
        )
        thread = threading.Thread(
            target=_keep_trying,
            args=(settings, first_delay, max_delay),
            name="deskbot-slack-check",
            daemon=True,
        )
        thread.start()
        return thread
    log.info("Slack accepted SLACK_BOT_TOKEN (%s).", _identity(answer))
    return None


def _backoff(first_delay: float, max_delay: float) -> Iterator[float]:
    delay = first_delay
    while True:
        yield delay
        delay = min(delay * 2, max_delay)


def _keep_trying(settings: Settings, first_delay: float, max_delay: float) -> None:
    for delay in _backoff(first_delay, max_delay):
        time.sleep(delay)
        try:
            answer = ask_slack(settings, "auth.test", _bot_token(settings), "SLACK_BOT_TOKEN")
        except SlackUnreachable:
            continue
        except OperatorError as refused:
            log.error("Slack answers now, but: %s", refused)
            return
        # A warning, like the line it answers, so whoever saw that one sees this one.
        log.warning("Slack answered: deskbot is connected (%s).", _identity(answer))
        return


def check_app_token(settings: Settings) -> None:
    """Socket Mode: refuse an app token Slack refuses, before connecting (an unreachable Slack
    is left to connect_socket_mode, which keeps trying)."""
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    try:
        ask_slack(settings, "apps.connections.open", token, "SLACK_APP_TOKEN")
    except SlackUnreachable:
        return


def connect_socket_mode(
    connect: Callable[[], None],
    settings: Settings,
    *,
    first_delay: float = 5.0,
    max_delay: float = 300.0,
) -> None:
    """Opens the Socket Mode connection, trying again (quietly: check_slack has said that Slack
    cannot be reached) until Slack answers; an app token Slack refuses ends the start."""
    from slack_sdk.errors import SlackApiError

    for delay in _backoff(first_delay, max_delay):
        try:
            connect()
            return
        except SlackApiError as problem:
            refusal = _refusal(problem, "SLACK_APP_TOKEN", settings.slack_api_url)
            if isinstance(refusal, OperatorError):
                raise refusal from None
        except OSError as problem:
            log.debug("Socket Mode connection failed: %s", type(problem).__name__)
        time.sleep(delay)


# -- roles and the database at start ----------------------------------------------------------


def warn_if_no_roles(settings: Settings) -> None:
    if not any(members for members in settings.roles.model_dump().values()):
        log.warning(
            "No roles are configured, so nobody can use deskbot until they are: set [roles] in "
            "the DESKBOT_CONFIG file or DESKBOT_ROLES__APPLICATION_MANAGERS and the like in the "
            "environment (see the README, Configuration)."
        )


def masked(url: str) -> str:
    """A database URL fit to show: scheme, host, port and database; no user, password or query."""
    try:
        parts = make_url(url)
    except ArgumentError:
        return "(not a URL)"
    if parts.drivername.startswith("sqlite"):
        return f"{parts.drivername}:///{parts.database or ''}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.drivername}://{parts.host or ''}{port}/{parts.database or ''}"


def database_problem(error: OperationalError | InterfaceError, url: str) -> OperatorError:
    reason = str(getattr(error, "orig", None) or type(error).__name__).strip().splitlines()[0]
    password = _password(url)
    if password:
        reason = reason.replace(password, "***")
    check = (
        "that its folder exists and deskbot may write there"
        if url.startswith("sqlite")
        else "that the database server is running and reachable"
    )
    return OperatorError(
        f"The database at {masked(url)} could not be used ({reason}). Check "
        f"DESKBOT_DATABASE_URL and {check}.",
        code=UNREACHABLE,
    )


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None


# -- output files --------------------------------------------------------------------------------


def check_output(path: Path, option: str = "--output") -> None:
    """Refuses an output file that cannot be written, before any work is done."""
    if path.is_dir():
        raise OperatorError(f"{option} {path} is a folder: give the name of a file to write.")
    folder = path.parent
    if not folder.is_dir():
        raise OperatorError(
            f"{option} {path}: the folder {folder} does not exist. Create it or give another path."
        )
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OperatorError(
            f"{option} {path}: deskbot may not write there. Give a path it may write to."
        )


def open_output(path: Path, option: str = "--output") -> TextIO:
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as problem:
        raise output_problem(path, problem, option) from None


def output_problem(path: Path, problem: OSError, option: str = "--output") -> OperatorError:
    reason = (problem.strerror or type(problem).__name__).lower()
    return OperatorError(f"{option} {path} cannot be written ({reason}). Give another path.")


# -- turning exceptions into lines ------------------------------------------------------------


def explain(error: BaseException) -> OperatorError | None:
    """The one-line explanation of an error the operator can fix, or None for a real bug."""
    if isinstance(error, OperatorError):
        return error
    if isinstance(error, ConfigFileError):
        return OperatorError(str(error))
    if isinstance(error, ValidationError) and error.title == "Settings":
        return OperatorError(*settings_problems(error))
    if isinstance(error, SettingsError):
        return OperatorError(
            f"A setting could not be read: {error}. In the environment, lists and nested "
            """values are JSON, e.g. DESKBOT_ROLES__AGENTS='["U0123"]'."""
        )
    if isinstance(error, OperationalError | InterfaceError):
        try:
            url = get_settings().database_url
        except Exception:  # the settings worked once, or this error could not have happened
            url = ""
        return database_problem(error, url)
    if isinstance(error, ArgumentError | NoSuchModuleError):
        return OperatorError(
            "DESKBOT_DATABASE_URL is not a database URL deskbot supports: give "
            "sqlite:///path/to/deskbot.sqlite3 or postgresql+psycopg://user@host:5432/db."
        )
    return None


def settings_problems(error: ValidationError) -> list[str]:
    """One line per problem, naming the setting as the environment spells it (and its key in
    the config file, if one is used); a value is shown only if it cannot be a secret."""
    config = os.environ.get("DESKBOT_CONFIG")
    lines = []
    for problem in error.errors(include_url=False):
        where = list(problem["loc"])
        name, key = _setting_name(where), _file_key(where)
        if config and not name.startswith("SLACK_"):
            name = f"{name} ({key} in {config})"
        text = _predicate(problem["type"], problem["msg"], problem.get("ctx") or {})
        value = problem.get("input")
        if (
            isinstance(value, str | int | float)
            and len(str(value)) <= 40
            and problem["type"] != "value_error"
            and not any(word in key.lower() for word in SECRET_WORDS)
        ):
            text += f", not {value!r}"
        fix = "in the environment or in the file" if config else "in the environment"
        lines.append(f"{name} {text}. Change it {fix}.")
    return lines


def _setting_name(loc: list[int | str]) -> str:
    if not loc:
        return "A setting"
    if isinstance(loc[0], str) and loc[0].isupper():  # an alias such as SLACK_BOT_TOKEN
        return loc[0]
    name = "DESKBOT_"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            name += f"[{part}]"
        elif index == 0:
            name += part.upper()
        elif isinstance(loc[index - 1], int):
            name += f".{part}"  # inside a list item, spelled as in the file
        else:
            name += "__" + part.upper()
    return name


def _file_key(loc: list[int | str]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _predicate(kind: str, message: str, ctx: dict[str, Any]) -> str:
    if kind == "literal_error" and "expected" in ctx:
        return "must be one of " + str(ctx["expected"]).replace("'", "").replace(" or ", ", ")
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ").rstrip(".")
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ").rstrip(".")
    return "is not valid: " + message.rstrip(".")
