"""Finding personal data in free text so users can be warned and outgoing copies redacted."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from deskbot import clock
from deskbot.i18n import N_, _


class Kind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    BSN = "bsn"
    IBAN = "iban"
    DATE_OF_BIRTH = "date_of_birth"


@dataclass(frozen=True)
class Finding:
    # Only the span is kept, so a Finding can be logged or shown without leaking the value.
    kind: Kind
    start: int
    end: int


# What takes the place of removed data in the copies people read (service desk, vendor).
# Redaction happens where a copy is shown, so these read in the language in force then.
_PLACEHOLDERS: dict[Kind, str] = {
    Kind.EMAIL: N_("[email removed]"),
    Kind.PHONE: N_("[phone number removed]"),
    Kind.BSN: N_("[BSN removed]"),
    Kind.IBAN: N_("[IBAN removed]"),
    Kind.DATE_OF_BIRTH: N_("[date removed]"),
}


def default_placeholder(kind: Kind) -> str:
    return _(_PLACEHOLDERS[kind])


# --------------------------------------------------------------------------- BSN

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_DIGITS_8_OR_9 = re.compile(r"[0-9]{8,9}")

# The separator must be the same twice (123.456.782 or 123 456 782). The boundaries keep
# the digits out of version strings, ticket numbers, paths and emails.
_BSN_CANDIDATE = re.compile(
    r"(?<![\w.,\-/@])"
    r"(?P<a>[0-9]{3})(?P<sep>[ .]?)(?P<b>[0-9]{3})(?P=sep)(?P<c>[0-9]{3})"
    r"(?![\w@]|[.,\-/:]\w)"
)


def is_valid_bsn(digits: str) -> bool:
    if _DIGITS_8_OR_9.fullmatch(digits) is None:
        return False
    # BSNs issued before the 9-digit format are still around with their leading zero dropped.
    padded = digits.zfill(9)
    if padded == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(padded, _BSN_WEIGHTS, strict=True))
    return total % 11 == 0


def looks_like_bsn(text: str) -> bool:
    """True for a 9-digit number passing the 11-check, also when written 123.456.782."""
    match = _BSN_CANDIDATE.fullmatch(text.strip())
    return match is not None and is_valid_bsn(match["a"] + match["b"] + match["c"])


def _bsn_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _BSN_CANDIDATE.finditer(text):
        if is_valid_bsn(match["a"] + match["b"] + match["c"]):
            yield match.start(), match.end()


# -------------------------------------------------------------------------- IBAN

_IBAN_LENGTHS: dict[str, int] = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18,
    "FR": 27, "GB": 22, "GR": 27, "HU": 28, "IE": 22, "IT": 27, "LI": 21, "LU": 20,
    "MC": 27, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24, "SK": 24,
}  # fmt: skip

# For the countries our clients' users mostly bank in, the BBAN layout is checked too, so a
# random string that happens to satisfy mod-97 is even less likely to be taken for an IBAN.
_BBAN_LAYOUTS: dict[str, re.Pattern[str]] = {
    "NL": re.compile(r"[A-Z]{4}[0-9]{10}"),
    "DE": re.compile(r"[0-9]{18}"),
    "BE": re.compile(r"[0-9]{12}"),
    "GB": re.compile(r"[A-Z]{4}[0-9]{14}"),
    "FR": re.compile(r"[0-9]{10}[A-Z0-9]{11}[0-9]{2}"),
}
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_IBAN_START = re.compile(r"(?<!\w)[A-Za-z]{2}[0-9]{2}(?=[ ]?[A-Za-z0-9])")
_IBAN_MAX_LENGTH = 34


def is_valid_iban(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    if _IBAN_SHAPE.fullmatch(compact) is None:
        return False
    country, bban = compact[:2], compact[4:]
    expected_length = _IBAN_LENGTHS.get(country)
    if expected_length is not None and len(compact) != expected_length:
        return False
    layout = _BBAN_LAYOUTS.get(country)
    if layout is not None and layout.fullmatch(bban) is None:
        return False
    rearranged = compact[4:] + compact[:4]
    as_number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(as_number) % 97 == 1


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _iban_spans(text: str) -> Iterator[tuple[int, int]]:
    covered_until = 0
    for start_match in _IBAN_START.finditer(text):
        start = start_match.start()
        if start < covered_until:
            continue
        # Walk the characters that could belong to the IBAN. Spaces are only accepted between
        # groups of four, as IBANs are printed, so the walk does not wander into the next words.
        ends: list[tuple[int, str]] = []
        compact: list[str] = []
        i = start
        while i < len(text) and len(compact) < _IBAN_MAX_LENGTH:
            ch = text[i]
            if _is_ascii_alnum(ch):
                compact.append(ch)
                i += 1
                if i == len(text) or (not text[i].isalnum() and text[i] != "_"):
                    ends.append((i, "".join(compact)))
            elif ch == " " and len(compact) % 4 == 0 and i + 1 < len(text):
                i += 1
            else:
                break
        for end, candidate in reversed(ends):
            if is_valid_iban(candidate):
                yield start, end
                covered_until = end
                break


# ------------------------------------------------------------------------- email

_EMAIL_CHAR = r"[\w!#$%&*+\-^`~]"
_EMAIL_LOCAL = rf"{_EMAIL_CHAR}(?:[\w!#$%&*+\-^`~.']*{_EMAIL_CHAR})?"
_DOMAIN_LABEL = r"[^\W_](?:[\w\-]{0,61}[^\W_])?"
# Letters only, which admits IDN top-level domains; punycode labels are spelled out.
_TOP_LEVEL_DOMAIN = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9\-]{2,59})"
_EMAIL = re.compile(
    # Starting only at the start of a token keeps long tokens without "@" linear to scan.
    rf"(?<![\w!#$%&*+\-^`~.]){_EMAIL_LOCAL}"
    rf"@(?:{_DOMAIN_LABEL}\.)+{_TOP_LEVEL_DOMAIN}(?![\w\-]|\.[^\W_])",
    re.IGNORECASE,
)


def looks_like_email(text: str) -> bool:
    return _EMAIL.fullmatch(text.strip()) is not None


def _email_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end()


# ------------------------------------------------------------------------- phone

# A run of digit groups that starts like a phone number (+, 0 or an area code in
# parentheses). Dots are deliberately not separators: dotted numbers are versions.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+.,\-/)@])"
    r"(?:\+[0-9]+|\(0[0-9]{0,4}\)|0[0-9]*)"
    # No phone number has more than eight groups; the bound keeps long digit runs cheap.
    r"(?:(?:[ ]?[-/][ ]?|[ ])?(?:\([0-9]{1,5}\)|[0-9]+)){0,7}"
)
_PHONE_GROUP = re.compile(r"\+?[0-9]+|\([0-9]{1,5}\)")
_TRUNK_ZERO = "(0)"


@dataclass(frozen=True)
class _Phone:
    start: int
    end: int
    international: bool


def _phone_digits_are_plausible(groups: list[str]) -> bool:
    # Numbers are written in groups of two or more digits; "+31 6 ..." is the one exception
    # allowed, so lists of small numbers ("0 1 2 3 ...") are not read as a phone number.
    single_digit_groups = [g for g in groups if g != _TRUNK_ZERO and len(g.strip("+()")) == 1]
    if len(single_digit_groups) > 1:
        return False
    first, rest = groups[0], groups[1:]
    if first.startswith("+"):
        if rest and rest[0] == _TRUNK_ZERO:
            rest = rest[1:]
        if _TRUNK_ZERO in rest:
            return False
        digits = first[1:] + "".join(g.strip("()") for g in rest)
        if len(digits) == 9 and is_valid_bsn(digits):
            return False
        return 8 <= len(digits) <= 15 and not digits.startswith("0")
    if _TRUNK_ZERO in rest:
        return False
    digits = "".join(g.strip("()") for g in groups)
    if digits.startswith("00"):
        subscriber = digits[2:]
        return 8 <= len(subscriber) <= 15 and not subscriber.startswith("0")
    # National numbers: Dutch ones have 10 digits, German ones 10 to 12 with the leading 0.
    return 10 <= len(digits) <= 12


def _ends_cleanly(text: str, end: int) -> bool:
    if end == len(text):
        return True
    following = text[end]
    if following.isalnum() or following in "_@":
        return False
    # "0612345678.1" or "0612345678-2" is part of some longer identifier.
    return not (following in ".,:;-/" and end + 1 < len(text) and text[end + 1].isalnum())


def _phone_spans(text: str) -> Iterator[_Phone]:
    pos = 0
    while (match := _PHONE_CANDIDATE.search(text, pos)) is not None:
        groups = list(_PHONE_GROUP.finditer(match.group()))
        separators = [
            match.group()[groups[i - 1].end() : groups[i].start()] for i in range(1, len(groups))
        ]
        found: _Phone | None = None
        # Try the longest run first; shorter ones may only stop at a space, so a phone number
        # followed by another number in the sentence is still found.
        for count in range(len(groups), 0, -1):
            if count < len(groups) and separators[count - 1] != " ":
                continue
            end = match.start() + groups[count - 1].end()
            if count == len(groups) and not _ends_cleanly(text, end):
                continue
            if _phone_digits_are_plausible([g.group() for g in groups[:count]]):
                first = groups[0].group()
                international = first.startswith(("+", "00"))
                found = _Phone(match.start(), end, international)
                break
        if found is not None:
            yield found
            pos = found.end
            continue
        # Nothing here; a number may still start at a later space-separated group.
        restart = next(
            (
                match.start() + groups[i].start()
                for i in range(1, len(groups))
                if separators[i - 1] == " " and groups[i].group().startswith(("0", "(0"))
            ),
            match.end(),
        )
        pos = max(restart, match.start() + 1)


def looks_like_phone(text: str) -> bool:
    stripped = text.strip()
    return any(p.start == 0 and p.end == len(stripped) for p in _phone_spans(stripped))


# -------------------------------------------------------------------------- date

_MONTHS: dict[str, int] = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "oktober": 10, "mrt": 3, "okt": 10,
    # German (and Austrian)
    "januar": 1, "jänner": 1, "februar": 2, "feber": 2, "märz": 3, "maerz": 3, "mär": 3,
    "mrz": 3, "mai": 5, "dezember": 12, "dez": 12,
}  # fmt: skip
_MONTH_NAME = "|".join(re.escape(m) for m in sorted(_MONTHS, key=len, reverse=True))
_SPACE = r"[ \t\u00a0]"
_YEAR_END = r"(?![\w]|[.\-/:][0-9])"

_NUMERIC_DAY_FIRST = re.compile(
    r"(?<![\w.\-/:])"
    r"(?P<a>[0-9]{1,2})(?P<sep>[-/.])(?P<b>[0-9]{1,2})(?P=sep)(?P<year>[0-9]{4})"
    r"(?!\w|[.\-/:]\w)"
)
_NUMERIC_YEAR_FIRST = re.compile(
    # Dotted year-first dates are left out: 2023.1.2 is far more often a version number.
    r"(?<![\w.\-/:])"
    r"(?P<year>[0-9]{4})(?P<sep>[-/])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
    # An ISO timestamp (2024-03-12T14:05) still counts as a date.
    r"(?!(?!T[0-9])\w|[.\-/:]\w)"
)
_TEXTUAL_DAY_FIRST = re.compile(
    rf"(?<![\w.\-/:])(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th|e)?(?:\.?{_SPACE}+|\.|-)"
    rf"(?P<month>{_MONTH_NAME})(?![^\W\d_])\.?(?:,?{_SPACE}+|-)"
    rf"(?P<year>[0-9]{{4}}){_YEAR_END}",
    re.IGNORECASE,
)
_TEXTUAL_MONTH_FIRST = re.compile(
    rf"(?<!\w)(?P<month>{_MONTH_NAME})(?![^\W\d_])\.?{_SPACE}+"
    rf"(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?,?{_SPACE}+(?P<year>[0-9]{{4}}){_YEAR_END}",
    re.IGNORECASE,
)


def _is_plausible_date(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= clock.now().year:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _date_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _NUMERIC_DAY_FIRST.finditer(text):
        year, a, b = int(match["year"]), int(match["a"]), int(match["b"])
        # Day-month is the Dutch/German order; month-day only with slashes, as Americans write
        # it, so fewer dotted version numbers are read as dates.
        us_order = match["sep"] == "/" and _is_plausible_date(year, a, b)
        if _is_plausible_date(year, b, a) or us_order:
            yield match.start(), match.end()
    for match in _NUMERIC_YEAR_FIRST.finditer(text):
        if _is_plausible_date(int(match["year"]), int(match["month"]), int(match["day"])):
            yield match.start(), match.end()
    for pattern in (_TEXTUAL_DAY_FIRST, _TEXTUAL_MONTH_FIRST):
        for match in pattern.finditer(text):
            month = _MONTHS[match["month"].lower()]
            if _is_plausible_date(int(match["year"]), month, int(match["day"])):
                yield match.start(), match.end()


# ------------------------------------------------------------------- names

_APOSTROPHES = "'\u2019"  # typed, and as phones and word processors "correct" it
_NAME_PARTICLES = frozenset(
    {"van", "de", "der", "den", "ter", "ten", "te", "von", "zu", "vom", "het"}
    | {f"{a}t" for a in _APOSTROPHES}
)
_NAME_WORD = re.compile(rf"[{_APOSTROPHES}]?[^\W\d_]+(?:[{_APOSTROPHES}\-][^\W\d_]+)*\.?")


def looks_like_person_name(text: str) -> bool:
    # Account IDs are single tokens, so anything with two or more purely alphabetic words is
    # treated as a possible name, even "data officer": refusing it costs the user one retry.
    words = text.split()
    if len(words) < 2 or not all(_NAME_WORD.fullmatch(w) for w in words):
        return False
    return any(w.lower() not in _NAME_PARTICLES and len(w.rstrip(".")) >= 2 for w in words)


# ------------------------------------------------------------------ detection

# When spans overlap, the more specific (checksummed or structurally unambiguous) kind wins.
# A number with an international prefix is unambiguously a phone number, even when its
# subscriber part happens to pass the BSN 11-check.
_RANK_EMAIL, _RANK_IBAN, _RANK_INTERNATIONAL_PHONE, _RANK_BSN, _RANK_DATE, _RANK_PHONE = range(6)


@dataclass(frozen=True)
class _Candidate:
    rank: int
    kind: Kind
    start: int
    end: int


def _candidates(text: str) -> Iterator[_Candidate]:
    for start, end in _email_spans(text):
        yield _Candidate(_RANK_EMAIL, Kind.EMAIL, start, end)
    for start, end in _iban_spans(text):
        yield _Candidate(_RANK_IBAN, Kind.IBAN, start, end)
    for start, end in _bsn_spans(text):
        yield _Candidate(_RANK_BSN, Kind.BSN, start, end)
    for start, end in _date_spans(text):
        yield _Candidate(_RANK_DATE, Kind.DATE_OF_BIRTH, start, end)
    for phone in _phone_spans(text):
        rank = _RANK_INTERNATIONAL_PHONE if phone.international else _RANK_PHONE
        yield _Candidate(rank, Kind.PHONE, phone.start, phone.end)


def find_personal_data(text: str) -> list[Finding]:
    """Personal data in `text`, sorted by position, without overlaps."""
    ordered = sorted(_candidates(text), key=lambda c: (c.rank, c.start, c.start - c.end))
    # Accepted spans are disjoint, so sorted by start they are sorted by end as well and each
    # candidate only needs comparing with its two neighbours.
    starts: list[int] = []
    accepted: list[_Candidate] = []
    for candidate in ordered:
        i = bisect.bisect_left(starts, candidate.start)
        if i > 0 and accepted[i - 1].end > candidate.start:
            continue
        if i < len(accepted) and accepted[i].start < candidate.end:
            continue
        starts.insert(i, candidate.start)
        accepted.insert(i, candidate)
    return [Finding(c.kind, c.start, c.end) for c in accepted]


def redact(text: str, placeholder: Callable[[Kind], str] = default_placeholder) -> str:
    """`text` with every finding replaced by its placeholder; everything else untouched."""
    parts: list[str] = []
    position = 0
    for finding in find_personal_data(text):
        parts.append(text[position : finding.start])
        parts.append(placeholder(finding.kind))
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def kinds_found(text: str) -> list[Kind]:
    """The distinct kinds in `text`, in order of first appearance, for the warning message."""
    return list(dict.fromkeys(f.kind for f in find_personal_data(text)))
