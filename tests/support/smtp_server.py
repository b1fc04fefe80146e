"""A local SMTP server for tests: accepts mail on 127.0.0.1 and keeps every message it gets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes  # as it came over the wire, to search for what must not be in it


class _Recorder:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, raw)
            )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """Serves on a socket bound beforehand, so the port is known and nobody else can take it."""

    def __init__(self, handler: _Recorder, listener: socket.socket, **smtp: Any) -> None:
        host, port = listener.getsockname()
        super().__init__(handler, hostname=host, port=port, **smtp)
        self.listener = listener

    def _create_server(self) -> Awaitable[Any]:
        return self.loop.create_server(self._factory_invoker, sock=self.listener)


class SmtpServer:
    """`with SmtpServer() as server:` mail to 127.0.0.1:server.port lands in server.messages.

    Plain SMTP without TLS. With `credentials`, it offers AUTH LOGIN/PLAIN and accepts that
    user name and password only.
    """

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.host = "127.0.0.1"
        self.credentials = credentials
        self._recorder = _Recorder()
        self._controller: _Controller | None = None
        self.port = 0

    @property
    def messages(self) -> list[Received]:
        with self._recorder.lock:
            return list(self._recorder.received)

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((self.host, 0))
        self.port = listener.getsockname()[1]
        smtp: dict[str, Any] = {}
        if self.credentials is not None:
            smtp.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = _Controller(self._recorder, listener, **smtp)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.credentials is not None:
            user, password = self.credentials
            if data.login == user.encode() and data.password == password.encode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
