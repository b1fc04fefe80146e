"""Checks and normalisations for answers: URLs, account IDs, versions, free text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from deskbot import privacy
from deskbot.flows.engine import Invalid
from deskbot.i18n import _

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_VERSION = re.compile(r"\d+(?:[._]\d+){0,4}[a-z]?")
_NAME_AND_VERSION = re.compile(
    r"(?P<name>[^\d]*[A-Za-z][^\d]*?)\s*v?(?P<version>\d+(?:[._]\d+){0,4})\b"
)


def platform_origin(raw: str) -> str:
    """The origin (scheme://host[:port]) of a platform URL typed by a person."""
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise Invalid(_not_an_address()) from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host or " " in host:
        raise Invalid(_not_an_address())
    if "." not in host and host != "localhost":
        raise Invalid(_("Please give the full address of the platform, including its domain."))
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Invalid(_("The domain of that address is not valid.")) from None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{ascii_host}{suffix}"


_EXAMPLE_URL = "https://ehealth.example.org"


def _not_an_address() -> str:
    return _("That is not a web address. Try something like {example}", example=_EXAMPLE_URL)


def account_id(raw: str, _answers: Mapping[str, Any] | None = None) -> str:
    """A platform account ID: an opaque token, never a name, email address or phone number."""
    text = raw.strip()
    if privacy.looks_like_email(text):
        raise Invalid(
            _(
                "That looks like an email address. Please give the platform account ID "
                "instead: deskbot never asks for a name or an email address."
            )
        )
    if privacy.looks_like_phone(text) or privacy.looks_like_bsn(text):
        raise Invalid(
            _(
                "That looks like a phone number or a BSN. Please give the platform account ID "
                "instead."
            )
        )
    if privacy.looks_like_person_name(text):
        raise Invalid(
            _(
                "That looks like a person's name. Please give the platform account ID instead "
                "(you find it in the account's details on the platform)."
            )
        )
    if not _ID.fullmatch(text):
        raise Invalid(
            _(
                "An account ID is one word of letters, digits, dots, dashes or underscores "
                "(at most {limit} characters).",
                limit=64,
            )
        )
    return text


def optional_id(raw: str, answers: Mapping[str, Any]) -> str:
    return account_id(raw, answers)


def name_and_version(problem: Callable[[], str]) -> Any:
    """A parser for "<name> <version>" answers such as "iOS 17.4" or "Firefox 128"; `problem`
    writes the whole message for an answer without a version, when it is given."""

    def parse(raw: str, _answers: Mapping[str, Any]) -> str:
        text = " ".join(raw.split())
        if not _NAME_AND_VERSION.search(text):
            raise Invalid(problem())
        return text

    return parse


def version(raw: str, _answers: Mapping[str, Any]) -> str:
    text = raw.strip().removeprefix("v").removeprefix("V").strip()
    if not _VERSION.fullmatch(text):
        raise Invalid(
            _(
                "Please give the version number as shown in the app, for example {example}.",
                example="4.12.1",
            )
        )
    return text


def free_text(minimum: int = 3) -> Any:
    def parse(raw: str, _answers: Mapping[str, Any]) -> str:
        if len(raw.strip()) < minimum:
            raise Invalid(_("Please write a little more, so someone else can follow it."))
        return raw

    return parse


def short_text(raw: str, _answers: Mapping[str, Any]) -> str:
    return " ".join(raw.split())
