"""Normalising addresses, looking them up in the account store (matches and near-miss hints),
and auditing lookups with a keyed hash instead of the address."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from deskbot import clock
from deskbot.accounts.cli import accounts_app
from deskbot.accounts.importer import import_csv
from deskbot.accounts.lookup import (
    Found,
    Lookup,
    address_hash,
    find,
    hash_key,
    last_import,
    record_lookup,
)
from deskbot.accounts.normalise import InvalidAddress, near_miss_key, normalise
from deskbot.db import Database
from deskbot.models import AuditEvent, InstanceKey
from deskbot.settings import Settings

HEADER = "id,email,name,active,externally_managed,groups"
IMPORTED = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Jan.Jansen@Example.ORG \t", "jan.jansen@example.org"),
        ("ANNA+Work@zorg.example", "anna+work@zorg.example"),
        ("e\u0301va@zorg.example", "\u00e9va@zorg.example"),  # NFC: one é, not e + accent
        ("someone@ÜBER.example", "someone@xn--ber-goa.example"),
        ("kim@bücher.example", "kim@xn--bcher-kva.example"),
        ("kim@xn--bcher-kva.example", "kim@xn--bcher-kva.example"),
        ("o'brien!#$%&*/=?^_`{|}~-@sub.zorg.example", "o'brien!#$%&*/=?^_`{|}~-@sub.zorg.example"),
        ("\u00a0lars@zorg.example\u00a0", "lars@zorg.example"),
    ],
)
def test_addresses_are_normalised(raw: str, normalised: str) -> None:
    assert normalise(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("Jan Jansen", "it has no @"),
        ("jan@@zorg.example", "it has more than one @"),
        ("@zorg.example", "there is nothing before the @"),
        ("jan@", "there is nothing after the @"),
        ("jan jansen@zorg.example", "the part before the @ contains a space"),
        ("jan,jansen@zorg.example", "the part before the @ contains the character “,”"),
        ('"jan"@zorg.example', 'the part before the @ contains the character “"”'),
        (".jan@zorg.example", "the part before the @ starts or ends with a dot"),
        ("jan.@zorg.example", "the part before the @ starts or ends with a dot"),
        ("jan..jansen@zorg.example", "two dots in a row"),
        ("j\u200ban@zorg.example", "an invisible character (U+200B)"),
        ("x" * 65 + "@zorg.example", "longer than 64 characters"),
        ("jan@localhost", "has no dot"),
        ("jan@zorg..example", "an empty part between dots"),
        ("jan@zorg.example.", "starts or ends with a dot"),
        ("jan@-zorg.example", "cannot start or end with a hyphen"),
        ("jan@zorg_care.example", "may only hold letters, digits and hyphens"),
        ("jan@" + "a" * 64 + ".example", "longer than 63 characters"),
        ("jan@[192.0.2.1]", "an IP address"),
        ("jan@192.0.2.1", "ends in a number"),
        ("jan@" + ".".join(["a" * 60] * 5) + ".example", "longer than 254 characters"),
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        normalise(raw)
    assert str(refused.value).startswith("That is not an email address: ")
    assert reason in str(refused.value)


def test_near_miss_key_folds_tags_and_dots_of_the_local_part_only() -> None:
    assert near_miss_key("j.a.n+news@zorg.example") == "jan@zorg.example"
    assert near_miss_key("jan@z.org.example") == "jan@z.org.example"
    assert near_miss_key("jan+a+b@zorg.example") == "jan@zorg.example"


def settings_for(db: Database, **overrides: Any) -> Settings:
    return Settings(database_url=db.url, organisation_id="care", **overrides)


def store(db: Database, tmp_path: Path, kind: str, platform: str, *rows: str) -> None:
    path = tmp_path / f"{kind}-{platform}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    import_csv(
        db,
        settings=settings_for(db),
        path=path,
        kind=kind,
        platform=platform,
        full=False,
        actor="U0AM",
    )


@pytest.fixture
def filled(db: Database, tmp_path: Path) -> Database:
    clock.set_clock(lambda: IMPORTED)
    store(db, tmp_path, "client", "production", "c1,Jan.Jansen@zorg.example,Jan Jansen,1,0,")
    store(
        db,
        tmp_path,
        "professional",
        "production",
        "p1,jan.jansen@zorg.example,Jan Jansen,0,1,therapist;supervisor",
        "p2,janjansen+work@zorg.example,J. Jansen,1,0,therapist",
        "p3,anna@zorg.example,Anna Bakker,1,0,secretary",
    )
    store(db, tmp_path, "professional", "training", "t1,jan.jansen+training@zorg.example,,1,0,")
    clock.set_clock(None)
    return db


def look(db: Database, address: str, organisation_id: str = "care") -> Lookup:
    with db.transaction() as session:
        return find(session, organisation_id=organisation_id, raw_address=address)


def test_matches_span_client_and_professional_active_and_inactive(filled: Database) -> None:
    lookup = look(filled, "  JAN.Jansen@Zorg.Example ")
    assert lookup.address == "jan.jansen@zorg.example"
    assert lookup.matches == [
        Found(
            "production", "client", "c1", "jan.jansen@zorg.example", "Jan Jansen", True, False, []
        ),
        Found(
            "production",
            "professional",
            "p1",
            "jan.jansen@zorg.example",
            "Jan Jansen",
            False,
            True,
            ["supervisor", "therapist"],
        ),
    ]
    assert lookup.result == "both"
    assert lookup.last_import == IMPORTED


def test_near_misses_are_hints_never_matches(filled: Database) -> None:
    lookup = look(filled, "jan.jansen@zorg.example")
    assert [(f.account_id, f.email) for f in lookup.near_misses] == [
        ("t1", "jan.jansen+training@zorg.example"),
        ("p2", "janjansen+work@zorg.example"),
    ]
    # Another tag, no dots and other capitals: only hints, no match.
    lookup = look(filled, "JanJansen+Other@ZORG.example")
    assert lookup.matches == []
    assert lookup.result == "none"
    assert {f.account_id for f in lookup.near_misses} == {"c1", "p1", "p2", "t1"}
    # The address of a near miss itself is a match for that account.
    lookup = look(filled, "JANJANSEN+work@zorg.example")
    assert [f.account_id for f in lookup.matches] == ["p2"]
    assert lookup.result == "professional"


def test_no_match_and_other_organisations_are_apart(filled: Database) -> None:
    lookup = look(filled, "nobody@zorg.example")
    assert (lookup.matches, lookup.near_misses, lookup.result) == ([], [], "none")
    assert lookup.last_import == IMPORTED
    other = look(filled, "jan.jansen@zorg.example", organisation_id="elsewhere")
    assert (other.matches, other.near_misses, other.last_import) == ([], [], None)
    assert look(filled, "anna@zorg.example").result == "professional"
    with pytest.raises(InvalidAddress):
        look(filled, "not an address")


def test_last_import_is_the_newest_finished_one(db: Database, tmp_path: Path) -> None:
    with db.transaction() as session:
        assert last_import(session, organisation_id="care") is None
    later = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    clock.set_clock(lambda: later)
    store(db, tmp_path, "client", "production", "c1,kim@zorg.example,,1,0,")
    clock.set_clock(lambda: IMPORTED)
    store(db, tmp_path, "client", "training", "c1,kim@zorg.example,,1,0,")
    assert look(db, "kim@zorg.example").last_import == later
    assert look(db, "kim@zorg.example").result == "client"


def test_the_hash_key_is_made_once_and_kept(db: Database) -> None:
    settings = settings_for(db)
    with db.transaction() as session:
        first = hash_key(session, settings)
    with db.transaction() as session:
        assert hash_key(session, settings) == first
        assert len(session.scalars(select(InstanceKey)).all()) == 1
    configured = settings_for(db, lookup_hash_key=SecretStr("configured-key"))
    with db.transaction() as session:
        assert hash_key(session, configured) == b"configured-key"


def test_an_existing_key_is_used_as_it_is(db: Database) -> None:
    with db.transaction() as session:
        session.add(InstanceKey(name="lookup-hash", value="made-by-another-process"))
    with db.transaction() as session:
        assert hash_key(session, settings_for(db)) == b"made-by-another-process"


def test_the_address_hash_is_stable_per_key() -> None:
    digest = address_hash(b"key-one", "jan@zorg.example")
    assert digest == address_hash(b"key-one", "jan@zorg.example")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != address_hash(b"key-two", "jan@zorg.example")
    assert digest != address_hash(b"key-one", "jan+x@zorg.example")


def test_a_lookup_is_audited_without_the_address(filled: Database) -> None:
    settings = settings_for(filled)
    for typed in ("Jan.Jansen@zorg.example", "jan.jansen@ZORG.example"):
        with filled.transaction() as session:
            lookup = find(session, organisation_id="care", raw_address=typed)
            key = hash_key(session, settings)
            record_lookup(
                session,
                organisation_id="care",
                actor="U0AM",
                lookup=lookup,
                key=key,
                via="slash-command",
            )
    with filled.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "email.lookup")
        ).all()
        key = hash_key(session, settings)
    assert len(events) == 2
    for event in events:
        assert event.subject_type == "email_lookup"
        assert event.subject_id == address_hash(key, "jan.jansen@zorg.example")
        assert event.detail == {"result": "both", "near_misses": 2, "via": "slash-command"}
        assert event.actor == "U0AM" and event.organisation_id == "care"
        assert_no_address(event)


def assert_no_address(event: AuditEvent) -> None:
    text = json.dumps(
        [event.actor, event.action, event.subject_type, event.subject_id, event.detail]
    ).casefold()
    assert "jan.jansen" not in text and "jansen" not in text and "zorg.example" not in text


def test_find_command_shows_everything_and_audits(filled: Database, cli_settings: Settings) -> None:
    result = CliRunner().invoke(accounts_app, ["find", "Jan.Jansen@Zorg.Example"])
    assert result.exit_code == 0, result.output
    output = result.output
    for shown in ("client", "professional", "c1", "p1", "therapist", "Jan Jansen", "training"):
        assert shown in output
    assert "janjansen+work@zorg.example" in output  # a near-miss hint
    assert "2026-03-02 at 09:30 (Europe/Amsterdam)" in output
    with filled.transaction() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "email.lookup")
        ).all()
    assert (event.actor, event.detail["via"], event.detail["result"]) == ("cli", "cli", "both")
    assert_no_address(event)


def test_find_command_refuses_an_invalid_address(filled: Database, cli_settings: Settings) -> None:
    result = CliRunner().invoke(accounts_app, ["find", "jan@zorg"])
    assert result.exit_code == 1
    assert "That is not an email address" in result.output
    nothing = CliRunner().invoke(accounts_app, ["find", "nobody@zorg.example"])
    assert nothing.exit_code == 0
    assert "No account in the store uses nobody@zorg.example" in nothing.output
