"""Which language to write in for a Slack user: theirs (from their Slack locale) when deskbot
speaks it, otherwise the organisation's. The shared triage channel reads the organisation's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltContext

from deskbot import i18n
from deskbot.cache import Refreshing

LocaleOf = Callable[[str], str | None]


class Languages:
    def __init__(
        self, organisation: i18n.Language, locale_of: LocaleOf, *, ttl: float = 3600.0
    ) -> None:
        self.organisation = organisation
        self._locales = Refreshing(locale_of, ttl=ttl, name="deskbot-locales")

    def of(self, user_id: str | None) -> i18n.Language:
        """A reader's language. Only a user's very first message waits for Slack to tell."""
        if not user_id:
            return self.organisation
        return i18n.of_locale(self._locales.get(user_id), self.organisation)

    def reading(self, target: str | None) -> i18n.Language:
        """The language of a message's destination: a user's own; a channel's, the
        organisation's (everyone in it reads the same card)."""
        if target and target[:1] in ("U", "W"):
            return self.of(target)
        return self.organisation

    @contextmanager
    def speaking_to(self, target: str | None) -> Iterator[None]:
        """Write what is rendered inside the block for `target`."""
        with i18n.speaking(self.reading(target)):
            yield

    def middleware(self, context: BoltContext, next_: Callable[[], Any]) -> None:
        """Every request is answered in the language of the user who sent it. Lazy listeners
        inherit it: the listener executor runs them in a copy of this context."""
        i18n.use(self.of(context.user_id))
        next_()
