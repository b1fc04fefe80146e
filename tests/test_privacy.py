"""Tests for finding and redacting personal data in free text."""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deskbot import clock
from deskbot.privacy import (
    Finding,
    Kind,
    default_placeholder,
    find_personal_data,
    is_valid_bsn,
    is_valid_iban,
    kinds_found,
    looks_like_bsn,
    looks_like_email,
    looks_like_person_name,
    looks_like_phone,
    redact,
)

# Bug-report material that must never be flagged.
FALSE_POSITIVE_TRAPS = [
    "iOS 17.4.1",
    "Chrome 120.0.6099.109",
    "app versie 2.0.12 op Android 14",
    "build 20240312",
    "build 4711 (rc2)",
    "account 12345",
    "a1b2c3",
    "123e4567-e89b-12d3-a456-426614174000",
    "01234567-89ab-cdef-0123-456789abcdef",
    "https://app.example.com/clients/0612345678/sessions/123456782",
    "https://app.example.com/?page=2&size=50",
    "om 14:05 crashte de app",
    "om 14:05:33 en 09:12",
    "zie BUG-12 en BUG-1234",
    "ticket #4821",
    "123456789",  # nine digits failing the 11-check
    "3 sessies van 45 minuten, 2 clienten",
    "0 1 2 3 4 5 6 7 8 9",
    "dag 12 maart",  # no year, so not a full date
    "31-02-1985",  # no such day
    "12-03-1850",  # implausible year of birth
    "12-03-2999",  # future
    "NL91 ABNA 0417 1643 0X",  # IBAN shape, checksum wrong
    "Slack user U012ABCDEF in channel C0612345678",
    "hash 0f3a9c2b1d",
    "1.2.3.4.5",
]


def _today() -> datetime:
    return datetime(2026, 5, 9, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fixed_clock() -> Iterator[None]:
    clock.set_clock(_today)
    yield None
    clock.set_clock(None)


def _kinds(text: str) -> list[Kind]:
    return [f.kind for f in find_personal_data(text)]


def _only_finding(text: str) -> Finding:
    findings = find_personal_data(text)
    assert len(findings) == 1, findings
    return findings[0]


# ------------------------------------------------------------------ table-driven: per kind


@pytest.mark.parametrize(
    "value",
    [
        "jan.jansen@example.nl",
        "anna+bugs@zorg.example.com",
        "j.de.vries@praktijk-utrecht.nl",
        "jürgen.müller@müller-praxis.de",
        "info@xn--mller-kva.de",
        "o'brien@example.ie",
        "USER_1@EXAMPLE.ORG",
        "用户@例子.广告",
    ],
)
def test_email_is_found_and_recognised(value: str) -> None:
    text = f"Mail naar {value} graag."
    finding = _only_finding(text)
    assert finding.kind is Kind.EMAIL
    assert text[finding.start : finding.end] == value
    assert looks_like_email(value)


@pytest.mark.parametrize(
    "value",
    ["jan@", "@example.nl", "jan@example", "jan@@example.nl", "jan example.nl", "jan@1.2.3.4"],
)
def test_not_an_email(value: str) -> None:
    assert not looks_like_email(value)
    assert Kind.EMAIL not in _kinds(value)


@pytest.mark.parametrize(
    "value",
    [
        "06-12345678",
        "06 1234 5678",
        "0612345678",
        "06 12 34 56 78",
        "+31 6 12345678",
        "+31612345678",
        "+31-6-12345678",
        "0031612345678",
        "0031 6 12345678",
        "020-1234567",
        "020 123 4567",
        "(020) 1234567",
        "+31 (0)20 123 4567",
        "+31 (0)6 12345678",
        "+49 30 12345678",
        "+49 151 23456789",
        "0049 30 12345678",
        "030 12345678",
        "030/12345678",
        "0151 23456789",
        "+1 555 123 4567",
        "+44 20 7946 0958",
        "+32 470 12 34 56",
    ],
)
def test_phone_is_found_and_recognised(value: str) -> None:
    text = f"Bel cliënt op {value} na 14:05."
    finding = _only_finding(text)
    assert finding.kind is Kind.PHONE
    assert text[finding.start : finding.end] == value
    assert looks_like_phone(value)


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "123456782",  # a valid BSN is a BSN, not a phone number
        "612345678",
        "0800-1234",
        "17.4.1",
        "06.12.34.56.78",
        "12-03-1985",
        "14:05",
        "BUG-12",
        "+12 34",
        "a1b2c3",
    ],
)
def test_not_a_phone_number(value: str) -> None:
    assert not looks_like_phone(value)
    assert Kind.PHONE not in _kinds(f"waarde {value} genoteerd")


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("123456782", "123456782"),
        ("123.456.782", "123456782"),
        ("123 456 782", "123456782"),
        ("111222333", "111222333"),
        ("012345672", "012345672"),
    ],
)
def test_bsn_is_found_and_recognised(value: str, digits: str) -> None:
    assert is_valid_bsn(digits)
    text = f"BSN: {value}, graag verwijderen."
    finding = _only_finding(text)
    assert finding.kind is Kind.BSN
    assert text[finding.start : finding.end] == value
    assert looks_like_bsn(value)


@pytest.mark.parametrize("value", ["123456789", "123.456.789", "111222334", "000000000"])
def test_nine_digits_failing_the_11_check_are_not_a_bsn(value: str) -> None:
    assert find_personal_data(f"nummer {value} ontvangen") == []
    assert not looks_like_bsn(value)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("123456782", True),
        ("111222333", True),
        ("12345672", True),  # 8 digits: checked as 012345672
        ("012345672", True),
        ("123456789", False),
        ("000000000", False),
        ("00000000", False),
        ("1234567", False),
        ("1234567890", False),
        ("12345678a", False),
        ("123 456 782", False),  # is_valid_bsn takes bare digits; looks_like_bsn takes notation
        ("١٢٣٤٥٦٧٨٢", False),  # non-ASCII digits
        ("", False),
    ],
)
def test_is_valid_bsn(digits: str, valid: bool) -> None:
    assert is_valid_bsn(digits) is valid


@pytest.mark.parametrize(
    "value",
    [
        "NL91 ABNA 0417 1643 00",
        "NL91ABNA0417164300",
        "nl91abna0417164300",
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "BE68 5390 0754 7034",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "CH93 0076 2011 6238 5295 7",
    ],
)
def test_iban_is_found_and_recognised(value: str) -> None:
    assert is_valid_iban(value)
    text = f"Rekening {value} is van de cliënt."
    finding = _only_finding(text)
    assert finding.kind is Kind.IBAN
    assert text[finding.start : finding.end] == value


@pytest.mark.parametrize(
    "value",
    [
        "NL91 ABNA 0417 1643 01",  # checksum
        "NL91ABNA041716430",  # NL length is 18
        "DE89 3704 0044 0532 0130 0",  # DE length is 22
        "BE68 5390 0754 70",  # BE length is 16
        "GB82 WEST 1234 5698 7654",  # GB length is 22
        "FR14 2004 1010 0505 0001 3M02 60",  # FR length is 27
        "NL91 1234 0417 1643 00",  # NL bank code is four letters
        "XX00",
        "",
    ],
)
def test_invalid_iban(value: str) -> None:
    assert not is_valid_iban(value)
    assert Kind.IBAN not in _kinds(f"Rekening {value} is van de cliënt.")


@pytest.mark.parametrize(
    "value",
    [
        "12-03-1985",
        "12/03/1985",
        "12.03.1985",
        "1.3.1985",
        "1985-03-12",
        "1985/3/12",
        "03/31/1985",  # US order
        "12 maart 1985",
        "12 mrt 1985",
        "12 mrt. 1985",
        "3 March 1985",
        "3rd March 1985",
        "March 3, 1985",
        "Mar. 3 1985",
        "12. März 1985",
        "12. Maerz 1985",
        "1. Mai 1990",
        "29 februari 2000",
        "12-Mar-1985",
        "2024-03-12T14:05:00Z",
        "01-01-1900",
    ],
)
def test_date_is_found(value: str) -> None:
    text = f"Geboren op {value} in Utrecht."
    finding = _only_finding(text)
    assert finding.kind is Kind.DATE_OF_BIRTH
    assert text[finding.start :].startswith(value[:10])
    assert value.startswith(text[finding.start : finding.end])


@pytest.mark.parametrize(
    "value",
    [
        "17.4.1",
        "2.0.12",
        "2023.1.2",
        "14:05",
        "12 maart",
        "March 1985",
        "31-04-1985",
        "29 februari 2001",
        "12-03-1899",
        "12-03-2027",  # after the fixed "today" in 2026
        "13/13/1985",
        "03.31.1985",  # month-day only with slashes
        "1.2.1985.4",
    ],
)
def test_not_a_date(value: str) -> None:
    assert Kind.DATE_OF_BIRTH not in _kinds(f"zie {value} in de log")


@pytest.mark.parametrize(
    "value",
    [
        "Jan Jansen",
        "Anna de Vries",
        "Maria van der Berg",
        "Jürgen Müller",
        "José García-López",
        "J. de Boer",
        "anna de vries",
        "Kees van 't Hek",
        "Ludwig von Mises",
        "Sinéad O'Connor",
        "Kees van \u2019t Hek",
        "data officer",
        "  Jan   Jansen  ",
    ],
)
def test_looks_like_person_name(value: str) -> None:
    assert looks_like_person_name(value)


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "a1b2c3",
        "client-123",
        "abc123def",
        "prof_42",
        "123e4567-e89b-12d3-a456-426614174000",
        "user42",
        "anonymous",
        "xk29fj",
        "Jan",
        "Jan 2",
        "van der",
        "J. B.",
        "jan@example.nl",
        "",
        "   ",
    ],
)
def test_does_not_look_like_person_name(value: str) -> None:
    assert not looks_like_person_name(value)


@pytest.mark.parametrize("value", ["12345", "a1b2c3", "client-123", "xk29fj", "prof_42"])
def test_opaque_account_ids_pass_every_check(value: str) -> None:
    assert not looks_like_person_name(value)
    assert not looks_like_email(value)
    assert not looks_like_phone(value)
    assert not looks_like_bsn(value)


@pytest.mark.parametrize("text", FALSE_POSITIVE_TRAPS)
def test_bug_report_material_is_not_flagged(text: str) -> None:
    assert find_personal_data(text) == []
    assert redact(text) == text


# ------------------------------------------------------------------------ overlaps


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("NL91ABNA0417164300", Kind.IBAN),  # contains a phone-like 0417164300
        ("DE89 3704 0044 0532 0130 00", Kind.IBAN),  # contains 0044 ... (international prefix)
        ("0612345678@sms.example.nl", Kind.EMAIL),
        ("123456782@example.nl", Kind.EMAIL),
        ("+31 612345671", Kind.PHONE),  # 612345671 passes the 11-check, the prefix settles it
        ("BSN 612345671", Kind.BSN),
        ("+123456782", Kind.BSN),  # nine digits passing the check are a BSN
    ],
)
def test_overlapping_candidates_yield_one_finding(text: str, kind: Kind) -> None:
    findings = find_personal_data(text)
    assert [f.kind for f in findings] == [kind]


def test_findings_are_sorted_and_disjoint() -> None:
    text = (
        "Op 12-03-1985 belde 06-12345678 over NL91 ABNA 0417 1643 00; "
        "mail jan@example.nl, BSN 123.456.782, of +49 30 12345678."
    )
    findings = find_personal_data(text)
    assert [f.kind for f in findings] == [
        Kind.DATE_OF_BIRTH,
        Kind.PHONE,
        Kind.IBAN,
        Kind.EMAIL,
        Kind.BSN,
        Kind.PHONE,
    ]
    for earlier, later in itertools.pairwise(findings):
        assert earlier.end <= later.start


def test_phone_followed_by_another_number_is_cut_at_the_space() -> None:
    text = "bel 06 1234 5678 2023 keer"
    finding = _only_finding(text)
    assert text[finding.start : finding.end] == "06 1234 5678"


def test_phone_after_a_date_in_the_same_run_is_still_found() -> None:
    text = "01-03-1985 0612345678"
    assert _kinds(text) == [Kind.DATE_OF_BIRTH, Kind.PHONE]


# ----------------------------------------------------------------------- redaction


def test_redact_keeps_surrounding_text_intact() -> None:
    text = "Bel me op 06-12345678 of mail jan@example.nl, groet.\nBSN 123456782 (geb. 3 March 1985)"
    assert redact(text) == (
        "Bel me op [phone number removed] of mail [email removed], groet.\n"
        "BSN [BSN removed] (geb. [date removed])"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'jan@example.nl'", "'[email removed]'"),
        ("<mailto:jan@example.nl|jan@example.nl>", "<mailto:[email removed]|[email removed]>"),
        ("tel:+31612345678", "tel:[phone number removed]"),
        ("(06) 12345678", "[phone number removed]"),
        ("om 09:30 op 2024-03-12 14:05", "om 09:30 op [date removed] 14:05"),
        ("Datum: 01.02.2023, 13:45 Uhr", "Datum: [date removed], 13:45 Uhr"),
    ],
)
def test_redact_in_slack_and_log_notation(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_iban_at_text_edges() -> None:
    assert redact("NL91ABNA0417164300") == "[IBAN removed]"
    assert redact("x NL91 ABNA 0417 1643 00.") == "x [IBAN removed]."


def test_redact_with_custom_placeholder() -> None:
    text = "mail jan@example.nl of bel 0612345678"
    assert redact(text, lambda kind: f"<{kind.value}>") == "mail <email> of bel <phone>"


def test_redact_without_findings_returns_text_unchanged() -> None:
    text = "De app crasht bij opslaan (iOS 17.4.1, build 4711)."
    assert redact(text) == text


def test_default_placeholders() -> None:
    assert default_placeholder(Kind.EMAIL) == "[email removed]"
    assert default_placeholder(Kind.PHONE) == "[phone number removed]"
    assert default_placeholder(Kind.BSN) == "[BSN removed]"
    assert default_placeholder(Kind.IBAN) == "[IBAN removed]"
    assert default_placeholder(Kind.DATE_OF_BIRTH) == "[date removed]"


def test_kinds_found_in_order_of_first_appearance() -> None:
    text = "bel 0612345678, mail a@b.nl, bel 020-1234567, BSN 123456782, mail c@d.nl"
    assert kinds_found(text) == [Kind.PHONE, Kind.EMAIL, Kind.BSN]
    assert kinds_found("niets bijzonders") == []


def test_finding_repr_does_not_contain_the_value() -> None:
    text = "mail jan.jansen@example.nl"
    finding = _only_finding(text)
    assert "jansen" not in repr(finding)
    assert finding == Finding(Kind.EMAIL, 5, len(text))


# ------------------------------------------------------------------------ properties

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)
_words = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=10), max_size=6)


def _elfproef(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits, _BSN_WEIGHTS, strict=False))
    return digits != "000000000" and (total - int(digits[8])) % 11 == 0


@st.composite
def valid_bsns(draw: st.DrawFn) -> str:
    first_eight = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    check = sum(d * w for d, w in zip(first_eight, _BSN_WEIGHTS, strict=True)) % 11
    assume(check != 10 and any(first_eight))
    return "".join(map(str, first_eight)) + str(check)


@given(
    bsn=valid_bsns(),
    notation=st.sampled_from(["{}{}{}", "{}.{}.{}", "{} {} {}"]),
    before=_words,
    after=_words,
)
def test_every_valid_bsn_is_found_and_redacted(
    bsn: str, notation: str, before: list[str], after: list[str]
) -> None:
    assert _elfproef(bsn)
    written = notation.format(bsn[:3], bsn[3:6], bsn[6:])
    prefix = " ".join([*before, ""])
    text = prefix + written + " ".join(["", *after])
    assert find_personal_data(text) == [Finding(Kind.BSN, len(prefix), len(prefix) + len(written))]
    assert redact(text) == prefix + "[BSN removed]" + " ".join(["", *after])
    assert is_valid_bsn(bsn)
    assert looks_like_bsn(written)


@given(number=st.integers(0, 999_999_999), before=_words, after=_words)
def test_nine_digit_numbers_failing_the_check_are_not_a_bsn(
    number: int, before: list[str], after: list[str]
) -> None:
    digits = f"{number:09d}"
    assume(not _elfproef(digits))
    assert not is_valid_bsn(digits)
    text = " ".join([*before, digits, *after])
    assert find_personal_data(text) == []


def _nl_iban(bank: str, account: str) -> str:
    bban = bank + account
    numeric = "".join(str(int(ch, 36)) for ch in bban + "NL00")
    return f"NL{98 - int(numeric) % 97:02d}{bban}"


@given(
    bank=st.text(alphabet=string.ascii_uppercase, min_size=4, max_size=4),
    account=st.text(alphabet=string.digits, min_size=10, max_size=10),
    spaced=st.booleans(),
    before=_words,
    after=_words,
)
def test_generated_nl_ibans_are_found(
    bank: str, account: str, spaced: bool, before: list[str], after: list[str]
) -> None:
    iban = _nl_iban(bank, account)
    written = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if spaced else iban
    assert is_valid_iban(written)
    prefix = " ".join([*before, ""])
    text = prefix + written + " ".join(["", *after])
    assert find_personal_data(text) == [Finding(Kind.IBAN, len(prefix), len(prefix) + len(written))]


_version_part = st.from_regex(r"[0-9]{1,12}", fullmatch=True)


@given(major=_version_part, minor=_version_part, patch=_version_part)
def test_version_strings_are_never_flagged(major: str, minor: str, patch: str) -> None:
    # Two shapes are genuinely ambiguous and read as personal data on purpose (see the
    # table tests): d.m.yyyy is how Germans write a date, and ddd.ddd.ddd passing the 11-check
    # is how a BSN is often written. Those are left out here.
    looks_like_date = (
        len(major) <= 2 and len(minor) <= 2 and len(patch) == 4
        and 1900 <= int(patch) <= _today().year
    )  # fmt: skip
    dotted_bsn = len(major) == len(minor) == len(patch) == 3 and _elfproef(major + minor + patch)
    assume(not looks_like_date and not dotted_bsn)
    version = f"{major}.{minor}.{patch}"
    for text in (version, f"Chrome {version} op iOS {version}", f"(v{version}), crash."):
        assert find_personal_data(text) == []
