"""Email addresses the way the account store keeps them: normalised, syntax-checked, and
folded into a near-miss key that finds similar addresses for hints."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_ADDRESS = 254  # the longest address SMTP can carry (RFC 5321 path minus the brackets)
MAX_LOCAL = 64
MAX_LABEL = 63

# The characters RFC 5322 allows unquoted before the @ (its "atext"), plus the dot, which
# is checked separately. Quoted local parts ("john doe"@…) are not accepted: platforms
# refuse them, so no account can have one.
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


class InvalidAddress(ValueError):
    """The input is not an email address; the message says why, in words for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"That is not an email address: {reason}.")
        self.reason = reason


def normalise(raw: str) -> str:
    """The address as stored: trimmed, Unicode NFC, lowercase, IDNA domain; InvalidAddress if
    its syntax is wrong. Platform addresses are case-insensitive, so the whole address is
    lowercased, not only the domain."""
    text = unicodedata.normalize("NFC", raw.strip().lower())
    if not text:
        raise InvalidAddress("it is empty")
    if "@" not in text:
        raise InvalidAddress("it has no @")
    if text.count("@") > 1:
        raise InvalidAddress("it has more than one @")
    local, domain = text.split("@")
    _check_local(local)
    address = f"{local}@{_domain(domain)}"
    if len(address.encode()) > MAX_ADDRESS:
        raise InvalidAddress(f"it is longer than {MAX_ADDRESS} characters")
    return address


def near_miss_key(address: str) -> str:
    """A normalised address folded the way many mail services fold it (+tag and dots in the
    local part ignored); equal keys mean "possibly the same mailbox", a hint, never a match."""
    local, _, domain = address.rpartition("@")
    local = local.partition("+")[0].replace(".", "")
    return f"{local}@{domain}"


def _check_local(local: str) -> None:
    if not local:
        raise InvalidAddress("there is nothing before the @")
    if len(local.encode()) > MAX_LOCAL:
        raise InvalidAddress(f"the part before the @ is longer than {MAX_LOCAL} characters")
    if local.startswith(".") or local.endswith("."):
        raise InvalidAddress("the part before the @ starts or ends with a dot")
    if ".." in local:
        raise InvalidAddress("the part before the @ has two dots in a row")
    for char in local:
        if char != "." and char not in _ATEXT and not _international(char):
            raise InvalidAddress(f"the part before the @ contains {_describe(char)}")


def _international(char: str) -> bool:
    # RFC 6531 allows non-ASCII in the local part; letters, marks and digits only, so no
    # invisible or look-alike punctuation gets in.
    return not char.isascii() and unicodedata.category(char)[0] in "LMN"


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    # Cached: an export has a few thousand distinct domains at most, and the IDNA codec is
    # the slowest step of an import.
    if not domain:
        raise InvalidAddress("there is nothing after the @")
    if domain.startswith("[") or domain.endswith("]"):
        raise InvalidAddress("the part after the @ is an IP address, not a domain name")
    if domain.startswith(".") or domain.endswith("."):
        raise InvalidAddress("the part after the @ starts or ends with a dot")
    if domain.isascii():
        encoded = domain
    else:
        try:
            encoded = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidAddress(
                "the part after the @ is not a valid international domain name"
            ) from None
    _check_domain(encoded)
    return encoded


def _check_domain(domain: str) -> None:
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidAddress("the part after the @ has no dot, so it is not a full domain name")
    for label in labels:
        if not label:
            raise InvalidAddress("the part after the @ has an empty part between dots")
        if len(label) > MAX_LABEL:
            raise InvalidAddress(f"a part of the domain name is longer than {MAX_LABEL} characters")
        if not _LABEL.fullmatch(label):
            raise InvalidAddress(
                "the domain name may only hold letters, digits and hyphens, and a part of it "
                "cannot start or end with a hyphen"
            )
    if labels[-1].isdigit():
        raise InvalidAddress("the domain name ends in a number, so it is not a domain name")


def _describe(char: str) -> str:
    if char.isspace():
        return "a space"
    if not char.isprintable():
        return f"an invisible character (U+{ord(char):04X})"
    return f"the character “{char}”, which is not allowed"
