"""Importing the platform's CSV exports into the account store: counts, upsert, rejected rows,
--full, atomicity, configurable columns, and the `deskbot accounts import` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from deskbot.accounts.cli import accounts_app
from deskbot.accounts.importer import ImportFailed, ImportSummary, import_csv
from deskbot.db import Database
from deskbot.models import Account, AccountImport, AuditEvent
from deskbot.settings import AccountColumns, Platform, Settings

HEADER = "id,email,name,active,externally_managed,groups"


def settings_for(db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "organisation_id": "care",
        "platforms": [
            Platform(name="production", url="https://care.example.org"),
            Platform(name="training", url="https://training.care.example.org"),
        ],
    }
    values.update(overrides)
    return Settings(**values)


def write(tmp_path: Path, *lines: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(
    db: Database, path: Path, *, kind: str = "professional", full: bool = False, **kw: Any
) -> ImportSummary:
    settings = kw.pop("settings", None) or settings_for(db)
    return import_csv(db, settings=settings, path=path, kind=kind, full=full, actor="U0AM", **kw)


def accounts(db: Database) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The store, keyed by (platform, kind, account ID), without the per-run import id."""
    with db.transaction() as session:
        rows = session.scalars(select(Account)).all()
        return {
            (a.platform, a.kind, a.account_id): {
                "email": a.email,
                "email_key": a.email_key,
                "display_name": a.display_name,
                "active": a.active,
                "externally_managed": a.externally_managed,
                "groups": a.groups,
                "row_hash": a.row_hash,
                "imported_at": a.imported_at,
            }
            for a in rows
        }


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    return (
        summary.added,
        summary.updated,
        summary.unchanged,
        summary.deactivated,
        summary.rejected_count,
    )


def test_added_updated_unchanged_and_what_is_stored(db: Database, tmp_path: Path) -> None:
    first = write(
        tmp_path,
        HEADER,
        "p1,Anna.Bakker@Zorg.Example ,Anna Bakker,1,0,therapist;supervisor",
        "p2,bas@ÜBER.example,Bas Visser,0,yes, supervisor ; therapist;therapist",
        "p3,chris@zorg.example,,ja,,",
    )
    summary = run(db, first)
    assert counts(summary) == (3, 0, 0, 0, 0)
    stored = accounts(db)
    anna = stored[("production", "professional", "p1")]
    assert anna["email"] == "anna.bakker@zorg.example"
    assert anna["email_key"] == "annabakker@zorg.example"
    assert anna["groups"] == ["supervisor", "therapist"]
    assert (anna["active"], anna["externally_managed"]) == (True, False)
    bas = stored[("production", "professional", "p2")]
    assert bas["email"] == "bas@xn--ber-goa.example"
    assert (bas["active"], bas["externally_managed"]) == (False, True)
    assert bas["groups"] == ["supervisor", "therapist"]  # sorted, without doubles
    assert stored[("production", "professional", "p3")]["display_name"] is None

    second = write(
        tmp_path,
        HEADER,
        "p1,anna.bakker@zorg.example,Anna Bakker,1,0,supervisor;therapist",  # same, reordered
        "p2,bas@über.example,Bas Visser,1,yes,supervisor;therapist",  # activated
        "p3,chris@zorg.example,Chris Smit,1,,",  # name added
        "p4,daan@zorg.example,Daan Bos,1,0,",
        name="second.csv",
    )
    summary = run(db, second)
    assert counts(summary) == (1, 2, 1, 0, 0)
    stored = accounts(db)
    assert stored[("production", "professional", "p2")]["active"] is True
    assert stored[("production", "professional", "p3")]["display_name"] == "Chris Smit"

    with db.transaction() as session:
        imports = session.scalars(select(AccountImport).order_by(AccountImport.added)).all()
        assert [(i.added, i.updated, i.unchanged, i.kind, i.platform) for i in imports] == [
            (1, 2, 1, "professional", "production"),
            (3, 0, 0, "professional", "production"),
        ]
        assert all(i.finished_at is not None and i.organisation_id == "care" for i in imports)
        last = session.scalars(select(Account.last_import_id).distinct()).all()
        assert last == [summary.import_id]


def test_the_same_file_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    export = write(
        tmp_path,
        HEADER,
        *(f"p{i},user{i}@zorg.example,User {i},{i % 2},0,therapist" for i in range(25)),
    )
    first = run(db, export, batch_size=10)
    before = accounts(db)
    second = run(db, export, batch_size=10)
    assert counts(first) == (25, 0, 0, 0, 0)
    assert counts(second) == (0, 0, 25, 0, 0)
    assert accounts(db) == before


def test_bad_rows_are_rejected_with_their_line_and_the_rest_is_imported(
    db: Database, tmp_path: Path
) -> None:
    export = write(
        tmp_path,
        HEADER,
        "p1,anna@zorg.example,Anna,1,0,",  # line 2
        "p2,not-an-address,Bas,1,0,",  # line 3
        ',chris@zorg.example,"Chris',  # line 4: a quoted name spanning two lines
        'Smit",1,0,',  # line 5
        "p1,anna2@zorg.example,Anna again,1,0,",  # line 6: the same ID again
        "p3,,Daan,1,0,",  # line 7
        "",  # line 8: blank, not a row
        "p4,eva@zorg.example,Eva,Visser,1,0,",  # line 9: an unquoted comma
        "p5,fleur@zorg..example,Fleur,1,0,",  # line 10
        "p6,gijs@zorg.example,Gijs",  # line 11: trailing empty fields dropped
    )
    summary = run(db, export, batch_size=3)
    assert summary.rejected == [
        (3, "the email address is invalid: it has no @"),
        (4, "it has no account ID"),
        (6, "account ID p1 appears earlier in the file as well"),
        (7, "it has no email address"),
        (
            9,
            "it has 7 values but the header has 6 columns (a value with the delimiter ',' in it "
            "must be quoted)",
        ),
        (10, "the email address is invalid: the part after the @ has an empty part between dots"),
    ]
    assert summary.added == 2
    stored = accounts(db)
    assert set(stored) == {
        ("production", "professional", "p1"),
        ("production", "professional", "p6"),
    }
    assert stored[("production", "professional", "p1")]["email"] == "anna@zorg.example"
    assert stored[("production", "professional", "p6")]["active"] is False  # empty: not true


def test_duplicate_ids_are_found_across_batches(db: Database, tmp_path: Path) -> None:
    export = write(
        tmp_path,
        HEADER,
        *(f"p{i},user{i}@zorg.example,,1,0," for i in range(5)),
        "p0,other@zorg.example,,1,0,",
    )
    summary = run(db, export, batch_size=2)
    assert summary.rejected == [(7, "account ID p0 appears earlier in the file as well")]
    assert accounts(db)[("production", "professional", "p0")]["email"] == "user0@zorg.example"


def test_a_missing_column_fails_before_anything_is_written(db: Database, tmp_path: Path) -> None:
    export = write(tmp_path, "id,mail,name", "p1,anna@zorg.example,Anna")
    with pytest.raises(ImportFailed, match="no column 'email' \\(the email address\\)"):
        run(db, export)
    assert_untouched(db)


def test_an_unreadable_file_fails_and_changes_nothing(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="cannot be read"):
        run(db, tmp_path / "missing.csv")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        (HEADER + "\n").encode()
        + b"p1,anna@zorg.example,Anna,1,0,\n" * 5000
        + "p2,b@zorg.example,Zoë,1,0,\n".encode("latin-1")
    )
    with pytest.raises(ImportFailed, match="not UTF-8"):
        run(db, latin1, batch_size=100)
    empty = write(tmp_path, "", name="empty.csv")
    empty.write_bytes(b"")
    with pytest.raises(ImportFailed, match="empty"):
        run(db, empty)
    assert_untouched(db)


def assert_untouched(db: Database) -> None:
    with db.transaction() as session:
        assert session.scalars(select(Account)).all() == []
        assert session.scalars(select(AccountImport)).all() == []
        assert session.scalars(select(AuditEvent)).all() == []


def test_unknown_platform_and_kind_are_refused_and_the_first_platform_is_the_default(
    db: Database, tmp_path: Path
) -> None:
    export = write(tmp_path, HEADER, "p1,anna@zorg.example,Anna,1,0,")
    with pytest.raises(ImportFailed, match=r"no platform called 'staging'.*production, training"):
        run(db, export, platform="staging")
    with pytest.raises(ImportFailed, match="client or professional"):
        run(db, export, kind="therapist")
    run(db, export, kind="client")
    run(db, export, kind="client", platform="training")
    assert set(accounts(db)) == {("production", "client", "p1"), ("training", "client", "p1")}


def test_a_delimiter_of_more_than_one_character_is_refused(db: Database, tmp_path: Path) -> None:
    settings = settings_for(db, account_columns=AccountColumns(delimiter=";;"))
    with pytest.raises(ImportFailed, match="must be one character"):
        run(db, write(tmp_path, HEADER), settings=settings)
    assert_untouched(db)


def test_full_deactivates_the_accounts_missing_from_the_export(
    db: Database, tmp_path: Path
) -> None:
    everyone = write(
        tmp_path, HEADER, *(f"p{i},user{i}@zorg.example,,1,0," for i in range(1, 6)), name="a.csv"
    )
    run(db, everyone)
    run(db, everyone, kind="client")  # another kind: never touched by a professional import
    inactive_already = write(tmp_path, HEADER, "p5,user5@zorg.example,,0,0,", name="b.csv")
    run(db, inactive_already)
    # p2 is missing (p5 too, but it is inactive already); p3's row is rejected but names its
    # ID, so p3 is still in the export.
    partial = write(
        tmp_path,
        HEADER,
        "p1,user1@zorg.example,,1,0,",
        "p3,broken,,1,0,",
        "p4,user4@zorg.example,,1,0,",
        name="c.csv",
    )
    assert run(db, partial).deactivated == 0  # not --full: nothing deactivated

    summary = run(db, partial, full=True)
    assert (summary.deactivated, summary.unchanged, summary.rejected_count) == (1, 2, 1)
    active = {
        key[2]: row["active"] for key, row in accounts(db).items() if key[1] == "professional"
    }
    assert active == {"p1": True, "p2": False, "p3": True, "p4": True, "p5": False}
    assert all(row["active"] for key, row in accounts(db).items() if key[1] == "client")
    assert run(db, partial, full=True).deactivated == 0  # already inactive: not counted again

    summary = run(db, everyone, full=True)  # p2 and p5 are back, active
    assert (summary.updated, summary.unchanged, summary.deactivated) == (2, 3, 0)
    assert all(row["active"] for row in accounts(db).values())


def test_full_with_no_accounts_at_all_is_refused(db: Database, tmp_path: Path) -> None:
    run(db, write(tmp_path, HEADER, "p1,user1@zorg.example,,1,0,", name="a.csv"))
    header_only = write(tmp_path, HEADER, name="b.csv")
    with pytest.raises(ImportFailed, match="deactivate every account"):
        run(db, header_only, full=True)
    assert accounts(db)[("production", "professional", "p1")]["active"] is True


def test_a_failed_import_leaves_the_store_as_it_was(db: Database, tmp_path: Path) -> None:
    run(db, write(tmp_path, HEADER, *(f"p{i},u{i}@zorg.example,,1,0," for i in range(6))))
    before = accounts(db)
    changed = write(
        tmp_path,
        HEADER,
        *(f"p{i},changed{i}@zorg.example,New,1,0," for i in range(10)),
        name="changed.csv",
    )
    calls: list[tuple[int, int]] = []

    def interrupted(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the second batch was written

    with pytest.raises(KeyboardInterrupt):
        run(db, changed, full=True, batch_size=3, progress=interrupted)
    assert accounts(db) == before
    with db.transaction() as session:
        assert len(session.scalars(select(AccountImport)).all()) == 1


def test_progress_is_reported_in_bytes_per_batch(db: Database, tmp_path: Path) -> None:
    export = write(tmp_path, HEADER, *(f"p{i},u{i}@zorg.example,,1,0," for i in range(10)))
    calls: list[tuple[int, int]] = []
    run(db, export, batch_size=4, progress=lambda done, total: calls.append((done, total)))
    size = export.stat().st_size
    assert len(calls) == 3
    assert all(total == size for _, total in calls)
    assert calls[-1][0] == size


def test_column_names_and_delimiter_are_configurable(db: Database, tmp_path: Path) -> None:
    columns = AccountColumns(
        account_id="Account ID",
        email="E-mail",
        name="Naam",
        active="Status",
        externally_managed="Extern",
        groups="Rollen",
        delimiter=";",
        groups_separator="|",
        true_values=["actief", "ja"],
    )
    export = write(
        tmp_path,
        "\ufeffaccount id ; e-mail;Naam;Status;Extern;Rollen",  # a BOM, other case, spaces
        "c-1;Eva@Zorg.Example;Eva Smit;Actief;ja;behandelaar|secretariaat",
        "c-2;fleur@zorg.example;Fleur, de Boer;inactief;nee;",
    )
    summary = run(db, export, kind="client", settings=settings_for(db, account_columns=columns))
    assert counts(summary) == (2, 0, 0, 0, 0)
    assert summary.defaulted_columns == ()
    stored = accounts(db)
    eva = stored[("production", "client", "c-1")]
    assert (eva["email"], eva["active"], eva["externally_managed"]) == (
        "eva@zorg.example",
        True,
        True,
    )
    assert eva["groups"] == ["behandelaar", "secretariaat"]
    fleur = stored[("production", "client", "c-2")]
    assert (fleur["display_name"], fleur["active"]) == ("Fleur, de Boer", False)


def test_optional_columns_may_be_missing(db: Database, tmp_path: Path) -> None:
    summary = run(db, write(tmp_path, "email,id", "anna@zorg.example,c1"), kind="client")
    assert summary.defaulted_columns == ("name", "active", "externally_managed", "groups")
    anna = accounts(db)[("production", "client", "c1")]
    assert (anna["active"], anna["externally_managed"], anna["groups"]) == (True, False, [])


def test_the_import_is_audited_without_personal_data(db: Database, tmp_path: Path) -> None:
    summary = run(db, write(tmp_path, HEADER, "p1,anna.bakker@zorg.example,Anna Bakker,1,0,"))
    with db.transaction() as session:
        (event,) = session.scalars(select(AuditEvent)).all()
        assert (event.action, event.actor, event.subject_id) == (
            "accounts.imported",
            "U0AM",
            summary.import_id,
        )
        assert event.detail == {
            "platform": "production",
            "kind": "professional",
            "full": False,
            "added": 1,
            "updated": 0,
            "unchanged": 0,
            "deactivated": 0,
            "rejected": 0,
        }


def test_import_command_shows_a_summary_and_the_rejected_lines(
    cli_settings: Settings, db: Database, tmp_path: Path
) -> None:
    export = write(
        tmp_path,
        HEADER,
        "p1,anna@zorg.example,Anna,1,0,",
        *(f"p{i},broken{i},,1,0," for i in range(2, 27)),
    )
    result = CliRunner().invoke(accounts_app, ["import", str(export), "--kind", "professional"])
    assert result.exit_code == 0, result.output
    assert "Added" in result.output and "Rejected" in result.output
    assert "line 3: the email address is invalid: it has no @" in result.output
    assert "line 22:" in result.output and "line 23:" not in result.output  # 20 shown
    assert "… and 5 more rejected lines." in result.output
    assert "broken" not in result.output

    again = CliRunner().invoke(
        accounts_app, ["import", str(export), "--kind", "professional", "--platform", "training"]
    )
    assert again.exit_code == 0
    assert set(accounts(db)) == {
        ("production", "professional", "p1"),
        ("training", "professional", "p1"),
    }


def test_import_command_fails_with_exit_code_1_on_a_bad_file(
    cli_settings: Settings, db: Database, tmp_path: Path
) -> None:
    export = write(tmp_path, "id;email", "p1;anna@zorg.example")  # the wrong delimiter
    result = CliRunner().invoke(accounts_app, ["import", str(export), "--kind", "client"])
    assert result.exit_code == 1
    assert "no column 'id'" in result.output
    missing = CliRunner().invoke(
        accounts_app, ["import", str(tmp_path / "nope.csv"), "--kind", "client"]
    )
    assert missing.exit_code == 1
    assert "cannot be read" in missing.output
    unknown = CliRunner().invoke(accounts_app, ["import", str(export), "--kind", "therapist"])
    assert unknown.exit_code == 2  # typer refuses the choice itself
    assert_untouched(db)


def test_deskbot_accounts_through_the_main_command(tmp_path: Path) -> None:
    """`python -m deskbot accounts …` as an administrator runs it, on a fresh SQLite file."""
    env = {
        **os.environ,
        "DESKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'deskbot.sqlite3'}",
        "DESKBOT_ORGANISATION_ID": "care",
        "COLUMNS": "200",
    }
    env.pop("DESKBOT_CONFIG", None)
    export = write(tmp_path, HEADER, "c1,Kees.Jansen@Example.org,Kees Jansen,1,0,", "c2,oops,,1,0,")

    def deskbot(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "deskbot", "accounts", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    imported = deskbot("import", str(export), "--kind", "client", "--full")
    assert imported.returncode == 0, imported.stderr
    assert "line 3: the email address is invalid: it has no @" in imported.stdout
    found = deskbot("find", "kees.jansen@EXAMPLE.org")
    assert found.returncode == 0, found.stderr
    assert "c1" in found.stdout and "Kees Jansen" in found.stdout
    assert deskbot("import", str(tmp_path / "missing.csv"), "--kind", "client").returncode == 1
