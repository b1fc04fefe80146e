"""The three languages deskbot speaks: choosing one for a reader, and translating into it.

Texts are written in English where they are used, marked with `_()` (or `N_()` where they
are declared before anyone reads them). The Dutch and German texts live in gettext catalogs,
`deskbot/locale/<language>/LC_MESSAGES/deskbot.po`, read once per process. The language in
force is a context variable, so a Slack request, a reminder to one person and a card in the
shared channel are each written in the language of whoever reads them.

Placeholders are named, in braces: `_("Due {day}", day=...)`. Values are put in after
translation, so a translator can move them and user text never passes through a catalog.
"""

from __future__ import annotations

import gettext as gnu
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Literal

from babel import dates as babel_dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Language = Literal["en", "nl", "de"]
LANGUAGES: tuple[Language, ...] = ("en", "nl", "de")
SOURCE: Language = "en"  # the language the texts are written in
DOMAIN = "deskbot"
NAMES: dict[str, str] = {"en": "English", "nl": "Nederlands", "de": "Deutsch"}

_current: ContextVar[Language] = ContextVar("deskbot_language", default=SOURCE)


def language() -> Language:
    """The language texts are written in right now."""
    return _current.get()


def use(chosen: Language) -> None:
    """Speak `chosen` for the rest of this context: one incoming Slack request."""
    _current.set(chosen)


@contextmanager
def speaking(chosen: Language) -> Iterator[None]:
    """Speak `chosen` inside the block: a message for one reader, then back."""
    token = _current.set(chosen)
    try:
        yield
    finally:
        _current.reset(token)


def of_locale(locale: str | None, fallback: Language) -> Language:
    """The language for a Slack locale such as `nl-NL` or `de-AT`; the fallback for any other."""
    code = (locale or "").replace("_", "-").split("-")[0].lower()
    for known in LANGUAGES:
        if code == known:
            return known
    return fallback


def N_(message: str) -> str:
    """Marks a text declared ahead of use; `_()` translates it where it is shown."""
    return message


def _(message: str, /, **values: object) -> str:
    """`message` in the current language, with its `{placeholders}` filled in."""
    text = _translations(language()).gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The singular or plural form for `n`, in the current language; `{n}` is filled in too."""
    text = _translations(language()).ngettext(singular, plural, n)
    return text.format(n=n, **values)


gettext = _


# How each language writes a day; English keeps the zero-padded form deskbot has always used.
_DAY = {"en": "EEE dd MMM", "nl": "EEE d MMM", "de": "EEE, d. MMM"}
_LONG_DAY = {"en": "EEEE dd MMMM", "nl": "EEEE d MMMM", "de": "EEEE, d. MMMM"}


def day(value: date | datetime | None, *, year: bool = True) -> str:
    """A day as people read it here: `Mon 13 Apr 2026`, `ma 13 apr 2026`, `Mo. 13 Apr. 2026`."""
    if value is None:
        return "—"
    pattern = _DAY[language()] + (" y" if year else "")
    return babel_dates.format_date(value, pattern, locale=language())


def long_day(value: date) -> str:
    """`Monday 13 April`, `maandag 13 april`, `Montag, 13. April`: a digest's heading."""
    return babel_dates.format_date(value, _LONG_DAY[language()], locale=language())


def month(value: date) -> str:
    """`April 2026`, `april 2026`, `April 2026`."""
    return babel_dates.format_date(value, "LLLL y", locale=language())


def weekday(number: int) -> str:
    """A weekday's name, Monday being 0."""
    return str(babel_dates.get_day_names("wide", locale=language())[number])


def catalog_path(chosen: Language) -> resources.abc.Traversable:
    return resources.files("deskbot") / "locale" / chosen / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def _translations(chosen: Language) -> gnu.NullTranslations:
    """A language's catalog, compiled in memory: fuzzy and untranslated entries fall back to
    English, so a missing text reads in English rather than not at all."""
    if chosen == SOURCE:
        return gnu.NullTranslations()
    with catalog_path(chosen).open("rb") as po:
        catalog = read_po(po, locale=chosen, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gnu.GNUTranslations(compiled)
