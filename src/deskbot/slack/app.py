"""Builds the Bolt app: the Slack client, the shared services and all listeners, in one place."""

from __future__ import annotations

import contextvars
import inspect
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.kwargs_injection.utils import build_required_kwargs
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from deskbot.db import Database
from deskbot.flows.runner import FlowRunner
from deskbot.roles import RoleDirectory
from deskbot.settings import Settings
from deskbot.slack import errors
from deskbot.slack.languages import Languages

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What every listener needs; built once per process."""

    settings: Settings
    db: Database
    runner: FlowRunner
    roles: RoleDirectory
    client: WebClient
    languages: Languages
    # The threads that run the work after each ack (Bolt's lazy listeners).
    work: ContextExecutor


def web_client(settings: Settings) -> WebClient:
    """A Web API client for the configured base URL that waits out 429s and retries hiccups."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_services(settings: Settings, db: Database) -> Services:
    client = web_client(settings)

    def members_via(slack: WebClient) -> Callable[[str], list[str]]:
        def group_members(group_id: str) -> list[str]:
            try:
                return list(slack.usergroups_users_list(usergroup=group_id)["users"] or [])
            except SlackApiError as problem:
                if problem.response.get("error") == "no_such_subteam":
                    log.warning("user group %s does not exist: nobody holds a role by it", group_id)
                    return []  # Slack's own answer: known to be nobody
                raise  # unknown: whoever asked is refused or retried later

        return group_members

    # A user's first request waits for their locale before its ack: one quick try, no retries;
    # when Slack is slow that request is answered in the organisation's language instead.
    quick = WebClient(
        token=client.token, base_url=settings.slack_api_url, timeout=1, retry_handlers=[]
    )

    def locale_of(user_id: str) -> str | None:
        try:
            user = quick.users_info(user=user_id, include_locale=True)["user"] or {}
        except SlackApiError as problem:
            if problem.response.get("error") in ("user_not_found", "account_inactive"):
                return None  # remembered: nobody to ask again
            raise  # not remembered: asked again next time
        return user.get("locale")

    # Before an ack a cold group lookup is the same one quick try (a refusal when it fails);
    # the ticker, the work after an ack and the background refresh ask patiently.
    roles = RoleDirectory(settings.roles, members_via(client), quick_members=members_via(quick))
    return Services(
        settings=settings,
        db=db,
        runner=FlowRunner(settings, db, roles_of=roles.roles_of),
        roles=roles,
        client=client,
        languages=Languages(settings.language, locale_of),
        work=ContextExecutor(
            max_workers=settings.listener_threads, thread_name_prefix="deskbot-listener"
        ),
    )


class ContextExecutor(ThreadPoolExecutor):
    """Runs each task in a copy of the submitting thread's context, so a lazy listener
    speaks the language its request was answered in. It knows when it has nothing left to
    do (`wait_idle`), for a shutdown that lets the work after an ack finish, and for tests."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        with self._idle:
            self._busy += 1
        try:
            future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: object) -> None:
        with self._idle:
            self._busy -= 1
            if self._busy == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every task submitted so far has finished; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


def acknowledge(ack: Ack) -> None:
    """Ack at once; the work follows in a lazy listener."""
    ack()


Register = Callable[[Callable[..., None]], Callable[..., None]]


def quiet(work: Callable[..., None]) -> Callable[..., None]:
    """A lazy listener whose failures go to the central error handler (slack/errors.py): one
    log line naming the failure's kind, and a word to the user where they acted. Bolt itself
    would log the exception's text, and a database error's text carries what the user typed.
    """
    wanted = inspect.getfullargspec(work).args

    def run(request: BoltRequest) -> None:
        kwargs = build_required_kwargs(
            logger=log,
            required_arg_names=list(wanted),
            request=request,
            response=None,
            next_keys_required=False,
        )
        try:
            work(**kwargs)
        except Exception as error:
            errors.after_ack(request.context.client, request.body, error, work.__name__)

    # Bolt tells lazy listeners apart by name.
    run.__name__, run.__qualname__ = work.__name__, work.__qualname__
    return run


def later(listener: Callable[..., Any]) -> Register:
    """`@later(app.action(X))`: ack at once, then run the function as a lazy listener."""

    def register(work: Callable[..., None]) -> Callable[..., None]:
        listener(ack=acknowledge, lazy=[quiet(work)])
        return work

    return register


def build_app(services: Services) -> App:
    """The Bolt app. It checks no signatures itself: the HTTP endpoint (slack/http.py) does,
    before anything is parsed, and Socket Mode requests are not signed."""
    from deskbot.slack import (
        commands,
        deletion_desk,
        desk_tools,
        email_check,
        events,
        flow_dm,
        flow_modal,
        home,
        triage_desk,
    )

    settings = services.settings
    app = App(
        client=services.client,
        token=services.client.token,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        request_verification_enabled=False,
        # Listeners ack in the request's own thread and hand slow work to lazy listeners, so
        # Slack's answer does not wait for Bolt's polling of a background thread.
        process_before_response=True,
        # Bolt's default of 5 threads makes acks wait behind the work of earlier requests.
        listener_executor=services.work,
        token_verification_enabled=False,
        # Bolt would log request bodies at debug level; they may hold personal data.
        logger=logging.getLogger("deskbot.bolt"),
    )
    app.use(services.languages.middleware)
    commands.register(app, services)
    flow_modal.register(app, services)
    flow_dm.register(app, services)
    events.register(app, services)
    email_check.register(app, services)
    deletion_desk.register(app, services)
    desk_tools.register(app, services)
    triage_desk.register(app, services)
    home.register(app, services)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        return errors.before_ack(services.client, body, error)

    return app
