"""Email addresses the way the account store keeps them: normalised, syntax-checked, and
folded into a near-miss key that finds similar addresses for hints."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from deskbot.i18n import N_, _

MAX_ADDRESS = 254  # the longest address SMTP can carry (RFC 5321 path minus the brackets)
MAX_LOCAL = 64
MAX_LABEL = 63

# The characters RFC 5322 allows unquoted before the @ (its "atext"), plus the dot, which
# is checked separately. Quoted local parts ("john doe"@…) are not accepted: platforms
# refuse them, so no account can have one.
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


class InvalidAddress(ValueError):
    """The input is not an email address; the message says why, in words for the user and in
    the language in force when it is raised. `reason` is an `N_()` text with its placeholders
    filled in by keyword; `.reason` keeps it in English for the operator's import report."""

    def __init__(self, reason: str, /, **values: object) -> None:
        super().__init__(
            # Translators: {reason} is one of the reasons below, e.g. "it has no @".
            _("That is not an email address: {reason}.", reason=_(reason, **values))
        )
        self.reason = reason.format(**values) if values else reason


def normalise(raw: str) -> str:
    """The address as stored: trimmed, Unicode NFC, lowercase, IDNA domain; InvalidAddress if
    its syntax is wrong. Platform addresses are case-insensitive, so the whole address is
    lowercased, not only the domain."""
    text = unicodedata.normalize("NFC", raw.strip().lower())
    if not text:
        raise InvalidAddress(N_("it is empty"))
    if "@" not in text:
        raise InvalidAddress(N_("it has no @"))
    if text.count("@") > 1:
        raise InvalidAddress(N_("it has more than one @"))
    local, domain = text.split("@")
    _check_local(local)
    address = f"{local}@{_domain(domain)}"
    if len(address.encode()) > MAX_ADDRESS:
        raise InvalidAddress(N_("it is longer than {limit} characters"), limit=MAX_ADDRESS)
    return address


def near_miss_key(address: str) -> str:
    """A normalised address folded the way many mail services fold it (+tag and dots in the
    local part ignored); equal keys mean "possibly the same mailbox", a hint, never a match."""
    local, _at, domain = address.rpartition("@")
    local = local.partition("+")[0].replace(".", "")
    return f"{local}@{domain}"


def _check_local(local: str) -> None:
    if not local:
        raise InvalidAddress(N_("there is nothing before the @"))
    if len(local.encode()) > MAX_LOCAL:
        raise InvalidAddress(
            N_("the part before the @ is longer than {limit} characters"), limit=MAX_LOCAL
        )
    if local.startswith(".") or local.endswith("."):
        raise InvalidAddress(N_("the part before the @ starts or ends with a dot"))
    if ".." in local:
        raise InvalidAddress(N_("the part before the @ has two dots in a row"))
    for char in local:
        if char != "." and char not in _ATEXT and not _international(char):
            _refuse_char(char)


def _international(char: str) -> bool:
    # RFC 6531 allows non-ASCII in the local part; letters, marks and digits only, so no
    # invisible or look-alike punctuation gets in.
    return not char.isascii() and unicodedata.category(char)[0] in "LMN"


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    # Cached: an export has a few thousand distinct domains at most, and the IDNA codec is
    # the slowest step of an import.
    if not domain:
        raise InvalidAddress(N_("there is nothing after the @"))
    if domain.startswith("[") or domain.endswith("]"):
        raise InvalidAddress(N_("the part after the @ is an IP address, not a domain name"))
    if domain.startswith(".") or domain.endswith("."):
        raise InvalidAddress(N_("the part after the @ starts or ends with a dot"))
    if domain.isascii():
        encoded = domain
    else:
        try:
            encoded = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidAddress(
                N_("the part after the @ is not a valid international domain name")
            ) from None
    _check_domain(encoded)
    return encoded


def _check_domain(domain: str) -> None:
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidAddress(N_("the part after the @ has no dot, so it is not a full domain name"))
    for label in labels:
        if not label:
            raise InvalidAddress(N_("the part after the @ has an empty part between dots"))
        if len(label) > MAX_LABEL:
            raise InvalidAddress(
                N_("a part of the domain name is longer than {limit} characters"), limit=MAX_LABEL
            )
        if not _LABEL.fullmatch(label):
            raise InvalidAddress(
                N_(
                    "the domain name may only hold letters, digits and hyphens, and a part of "
                    "it cannot start or end with a hyphen"
                )
            )
    if labels[-1].isdigit():
        raise InvalidAddress(N_("the domain name ends in a number, so it is not a domain name"))


def _refuse_char(char: str) -> None:
    # One whole reason per kind of character, so a translation can order it as it needs.
    if char.isspace():
        raise InvalidAddress(N_("the part before the @ contains a space"))
    if not char.isprintable():
        raise InvalidAddress(
            N_("the part before the @ contains an invisible character (U+{code})"),
            code=f"{ord(char):04X}",
        )
    raise InvalidAddress(
        N_("the part before the @ contains the character “{char}”, which is not allowed"),
        char=char,
    )
