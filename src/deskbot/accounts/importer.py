"""Imports the platform's CSV exports into the account store: streamed, checked row by row,
upserted in batches, and all in one transaction so a failed import changes nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Table,
    any_,
    bindparam,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from deskbot import audit, clock
from deskbot.accounts.normalise import InvalidAddress, near_miss_key, normalise
from deskbot.db import Database
from deskbot.models import Account, AccountImport
from deskbot.settings import AccountColumns, Settings

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

log = logging.getLogger(__name__)

KINDS = ("client", "professional")
BATCH_SIZE = 2000
# The summary keeps this many rejected lines, so a file of nothing but bad rows cannot fill
# the memory; the count is always complete.
KEEP_REJECTED = 10_000
MAX_ACCOUNT_ID = 64
MAX_NAME = 200

ACCOUNTS = cast(Table, Account.__table__)
# All columns, not only those the batch lookups need (see _needs_statistics): with
# statistics for some columns and none for email_key, PostgreSQL misjudges the lookups.
ANALYZE = text(f"ANALYZE {ACCOUNTS.name}")
Progress = Callable[[int, int], None]


class ImportFailed(Exception):
    """The file cannot be imported at all (unreadable, columns missing, unknown platform);
    the store was left as it was. The message is for the user."""


@dataclass
class ImportSummary:
    """What one import did; rejected lines are (line number, reason), the reason without
    the row's personal data."""

    import_id: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    rejected_count: int = 0  # all of them, also beyond the ones kept in `rejected`
    seconds: float = 0.0
    # Optional columns the file lacks, so every row got the default for them.
    defaulted_columns: tuple[str, ...] = ()

    def reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < KEEP_REJECTED:
            self.rejected.append((line, reason))


class Layout(NamedTuple):
    """Where each field is in a row of this file; None for an optional column it lacks."""

    account_id: int
    email: int
    name: int | None
    active: int | None
    externally_managed: int | None
    groups: int | None
    width: int


class Parsed(NamedTuple):
    """One data row: its values for the table, or why it was rejected."""

    line: int
    account_id: str | None  # None when the row has no usable account ID
    values: dict[str, Any] | None
    reason: str | None


@dataclass(frozen=True)
class Target:
    """What one import writes to: the organisation, platform and kind, and this run's id."""

    organisation_id: str
    platform: str
    kind: str
    import_id: str


def import_csv(
    db: Database,
    *,
    settings: Settings,
    path: Path,
    kind: str,
    platform: str | None = None,
    full: bool,
    actor: str,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import one CSV export of client or professional accounts; platform None is the first
    configured one. With full, the accounts missing from the file are deactivated.

    Raises ImportFailed, and changes nothing, when the file cannot be imported; rows that
    cannot be imported are skipped and listed in the summary."""
    target = Target(
        organisation_id=settings.organisation_id,
        platform=_platform(settings, platform),
        kind=_kind(kind),
        import_id=uuid.uuid4().hex,
    )
    columns = settings.account_columns
    started, timer = clock.now(), time.monotonic()
    summary = ImportSummary(import_id=target.import_id)
    try:
        raw = path.open("rb")
    except OSError as error:
        raise ImportFailed(f"The file {path} cannot be read: {error.strerror}.") from None
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as lines:
        total = _size(raw)
        reader = _reader(lines, columns.delimiter)
        # The header is checked before the transaction starts: a wrong file writes nothing.
        layout = _layout(_header(reader), columns)
        summary.defaulted_columns = _defaulted(layout, columns)

        def batch_done() -> None:
            if progress is not None:
                progress(raw.tell(), total)

        with db.transaction() as session:
            seen = _load(
                session.connection(),
                _parsed_rows(reader, layout, columns),
                batch_size=batch_size,
                target=target,
                now=started,
                summary=summary,
                batch_done=batch_done,
            )
            if full:
                summary.deactivated = _deactivate_unseen(session.connection(), target, seen)
            summary.seconds = time.monotonic() - timer
            _record(
                session, target=target, full=full, actor=actor, started=started, summary=summary
            )
    log.info(
        "account import %s (%s, %s): %d added, %d updated, %d unchanged, %d deactivated, "
        "%d rejected in %.1f s",
        target.import_id,
        target.platform,
        target.kind,
        summary.added,
        summary.updated,
        summary.unchanged,
        summary.deactivated,
        summary.rejected_count,
        summary.seconds,
    )
    return summary


def _load(
    connection: Connection,
    rows: Iterator[Parsed],
    *,
    batch_size: int,
    target: Target,
    now: datetime,
    summary: ImportSummary,
    batch_done: Callable[[], None],
) -> int:
    """Upsert the file batch by batch; returns how many accounts it named."""
    seen, analysed_at = 0, 0
    for batch in _batches(rows, batch_size):
        seen += _upsert(connection, batch, target=target, now=now, summary=summary)
        if _needs_statistics(connection, summary.added, analysed_at, batch_size):
            connection.execute(ANALYZE)
            analysed_at = summary.added
        batch_done()
    return seen


def _platform(settings: Settings, name: str | None) -> str:
    if not settings.platforms:
        raise ImportFailed("No platforms are configured, so accounts cannot be imported.")
    if name is None:
        return settings.platforms[0].name
    if settings.platform_named(name) is None:
        known = ", ".join(p.name for p in settings.platforms)
        raise ImportFailed(f"There is no platform called {name!r}; the platforms are: {known}.")
    return name


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ImportFailed(f"The kind of accounts must be client or professional, not {kind!r}.")
    return kind


def _size(raw: IO[bytes]) -> int:
    raw.seek(0, io.SEEK_END)
    size = raw.tell()
    raw.seek(0)
    return size


def _reader(lines: IO[str], delimiter: str) -> CsvReader:
    try:
        return csv.reader(lines, delimiter=delimiter)
    except TypeError:
        raise ImportFailed(
            f"The delimiter in the account_columns settings must be one character, "
            f"not {delimiter!r}."
        ) from None


def _header(reader: CsvReader) -> list[str]:
    try:
        return next(reader)
    except StopIteration:
        raise ImportFailed("The file is empty: it has not even a header line.") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportFailed(f"The header line cannot be read: {_why(error)}.") from None


def _layout(header: list[str], columns: AccountColumns) -> Layout:
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        # Exports differ in case and stray spaces; neither makes it another column.
        positions.setdefault(name.strip().casefold(), position)

    def find(name: str) -> int | None:
        return positions.get(name.strip().casefold())

    account_id, email = find(columns.account_id), find(columns.email)
    missing = [
        f"{name!r} ({what})"
        for name, what, position in (
            (columns.account_id, "the account ID", account_id),
            (columns.email, "the email address", email),
        )
        if position is None
    ]
    if account_id is None or email is None:
        found = ", ".join(repr(name) for name in header) or "none"
        raise ImportFailed(
            f"The file has no column {' and no column '.join(missing)}. Its columns are: "
            f"{found}. Check the column names and the delimiter "
            f"({columns.delimiter!r}) in the account_columns settings."
        )
    return Layout(
        account_id=account_id,
        email=email,
        name=find(columns.name),
        active=find(columns.active),
        externally_managed=find(columns.externally_managed),
        groups=find(columns.groups),
        width=len(header),
    )


def _defaulted(layout: Layout, columns: AccountColumns) -> tuple[str, ...]:
    optional = {
        columns.name: layout.name,
        columns.active: layout.active,
        columns.externally_managed: layout.externally_managed,
        columns.groups: layout.groups,
    }
    return tuple(name for name, position in optional.items() if position is None)


def _parsed_rows(reader: CsvReader, layout: Layout, columns: AccountColumns) -> Iterator[Parsed]:
    parse = RowParser(layout, columns)
    end = reader.line_num  # the last line read so far: the header's
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as error:
            # The rest of the file cannot be read reliably: the whole import fails.
            raise ImportFailed(
                f"The file cannot be read after line {end}: {_why(error)}."
            ) from None
        # The line the row starts on, as an editor numbers it (a quoted value may span lines).
        line, end = end + 1, reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank lines are not rows
        yield parse(fields, line)


def _why(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "the file is not UTF-8 text (save the export as UTF-8 CSV)"
    return f"it is not valid CSV ({error})"


class RowParser:
    """Checks a data row and turns it into the table's values, or a reason to reject it."""

    def __init__(self, layout: Layout, columns: AccountColumns) -> None:
        self.width = layout.width
        # A column the file lacks reads from a blank slot past the row's end.
        blank = layout.width

        def at(position: int | None) -> int:
            return blank if position is None else position

        self.id_at, self.email_at = layout.account_id, layout.email
        self.name_at, self.groups_at = at(layout.name), at(layout.groups)
        self.external_at = at(layout.externally_managed)
        self.active_at = None if layout.active is None else layout.active
        self.true_values = frozenset(value.strip().casefold() for value in columns.true_values)
        self.separator = columns.groups_separator
        self.delimiter = columns.delimiter

    def __call__(self, fields: list[str], line: int) -> Parsed:
        count = len(fields)
        if count > self.width:
            # The values no longer line up with the columns: an unquoted delimiter, mostly.
            return self._extra_values(fields, line)
        # Exporters may drop empty trailing fields; the blank slot is the last one.
        fields = fields[: self.width] + [""] * (self.width + 1 - min(count, self.width))
        account_id = fields[self.id_at].strip()
        if not account_id:
            return Parsed(line, None, None, "it has no account ID")
        if len(account_id) > MAX_ACCOUNT_ID:
            reason = f"the account ID is longer than {MAX_ACCOUNT_ID} characters"
            return Parsed(line, None, None, reason)
        raw_email = fields[self.email_at].strip()
        if not raw_email:
            return Parsed(line, account_id, None, "it has no email address")
        try:
            email = normalise(raw_email)
        except InvalidAddress as invalid:
            reason = f"the email address is invalid: {invalid.reason}"
            return Parsed(line, account_id, None, reason)
        name = fields[self.name_at].strip()[:MAX_NAME] or None
        external = fields[self.external_at].strip().casefold() in self.true_values
        groups = _groups(fields[self.groups_at], self.separator)
        values = {
            "account_id": account_id,
            "email": email,
            "email_key": near_miss_key(email),
            "display_name": name,
            "active": self._active(fields),
            "externally_managed": external,
            "groups": groups,
            "row_hash": row_hash(email, name, external, groups),
        }
        return Parsed(line, account_id, values, None)

    def _active(self, fields: list[str]) -> bool:
        # Without an active column, an export lists the accounts that exist: active ones.
        if self.active_at is None:
            return True
        return fields[self.active_at].strip().casefold() in self.true_values

    def _extra_values(self, fields: list[str], line: int) -> Parsed:
        account_id = fields[self.id_at].strip()
        reason = (
            f"it has {len(fields)} values but the header has {self.width} columns "
            f"(a value with the delimiter {self.delimiter!r} in it must be quoted)"
        )
        usable = account_id if 0 < len(account_id) <= MAX_ACCOUNT_ID else None
        return Parsed(line, usable, None, reason)


def _groups(text: str, separator: str) -> list[str]:
    if not text:
        return []
    # Sorted and without doubles: the same groups in another order are not a change.
    return sorted({group.strip() for group in text.split(separator)} - {""})


def row_hash(email: str, name: str | None, external: bool, groups: list[str]) -> str:
    """A fingerprint of a row's fields except active, which is compared on its own so that
    deactivating an account in the store needs no new hash."""
    text = "\x1f".join((email, name or "", "1" if external else "0", "\x1e".join(groups)))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _batches(rows: Iterator[Parsed], size: int) -> Iterator[list[Parsed]]:
    batch: list[Parsed] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Stored(NamedTuple):
    id: int
    row_hash: str
    active: bool
    last_import_id: str | None


def _upsert(
    connection: Connection,
    batch: list[Parsed],
    *,
    target: Target,
    now: datetime,
    summary: ImportSummary,
) -> int:
    """Write one batch: insert the new accounts, update the changed ones, and mark every
    account seen; returns how many accounts the batch saw."""
    stored = _stored(connection, target, {row.account_id for row in batch if row.account_id})
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    seen_ids: list[int] = []  # stored rows that stay as they are, apart from last_import_id
    in_batch: set[str] = set()
    for row in batch:
        if row.account_id is None:
            summary.reject(row.line, row.reason or "it cannot be read")
            continue
        old = stored.get(row.account_id)
        if row.account_id in in_batch or (old and old.last_import_id == target.import_id):
            summary.reject(
                row.line, f"account ID {row.account_id} appears earlier in the file as well"
            )
            continue
        in_batch.add(row.account_id)
        if row.values is None:
            summary.reject(row.line, row.reason or "it cannot be read")
            # A row with a known ID but, say, a mistyped address still shows the account is
            # in the export: a full import must not deactivate it for that.
            if old is not None:
                seen_ids.append(old.id)
            continue
        if old is None:
            inserts.append(row.values)
            summary.added += 1
        elif old.row_hash == row.values["row_hash"] and old.active == row.values["active"]:
            seen_ids.append(old.id)
            summary.unchanged += 1
        else:
            updates.append({"b_id": old.id, **row.values})
            summary.updated += 1
    _write(connection, target, now, inserts=inserts, updates=updates, seen_ids=seen_ids)
    return len(in_batch)


def _needs_statistics(connection: Connection, added: int, analysed_at: int, batch: int) -> bool:
    # Without fresh statistics PostgreSQL takes (organisation, platform, kind) for a rare
    # prefix and filters a batch's account IDs over every row of it instead of looking each
    # up: quadratic while a first import fills the table. ANALYZE sees this transaction's own
    # rows; running it whenever the added rows have doubled keeps its total cost small. (Its
    # lock, held until the import commits, keeps out only other ANALYZE and VACUUM runs.)
    return connection.dialect.name == "postgresql" and added >= max(2 * analysed_at, batch)


def _stored(connection: Connection, target: Target, account_ids: set[str]) -> dict[str, Stored]:
    if not account_ids:
        return {}
    query = select(
        ACCOUNTS.c.account_id,
        ACCOUNTS.c.id,
        ACCOUNTS.c.row_hash,
        ACCOUNTS.c.active,
        ACCOUNTS.c.last_import_id,
    ).where(
        ACCOUNTS.c.organisation_id == target.organisation_id,
        ACCOUNTS.c.platform == target.platform,
        ACCOUNTS.c.kind == target.kind,
        _among(connection, ACCOUNTS.c.account_id, list(account_ids)),
    )
    return {row[0]: Stored(*row[1:]) for row in connection.execute(query)}


def _write(
    connection: Connection,
    target: Target,
    now: datetime,
    *,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    seen_ids: list[int],
) -> None:
    # Core executemany statements, not the ORM's unit of work: an import writes a million rows.
    stamp = {"imported_at": now, "last_import_id": target.import_id}
    if inserts:
        fixed = {
            "organisation_id": target.organisation_id,
            "platform": target.platform,
            "kind": target.kind,
            **stamp,
        }
        rows = [{**fixed, **values} for values in inserts]
        if connection.dialect.name == "postgresql":
            _copy(connection, rows)
        else:
            connection.execute(insert(ACCOUNTS), rows)
    if updates:
        statement = update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_id"))
        connection.execute(statement, [{**values, **stamp} for values in updates])
    if seen_ids:
        connection.execute(
            update(ACCOUNTS)
            .where(_among(connection, ACCOUNTS.c.id, seen_ids))
            .values(last_import_id=target.import_id)
        )


def _among(
    connection: Connection, column: ColumnElement[Any], values: list[Any]
) -> ColumnElement[bool]:
    if connection.dialect.name == "postgresql":
        # One array parameter instead of thousands of bound values, which SQLAlchemy and
        # psycopg would take longer to render and parse than the server takes to run.
        return column == any_(literal(values, type_=ARRAY(column.type)))
    return column.in_(values)


def _copy(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert rows with COPY: on PostgreSQL a few times faster than an executemany INSERT,
    which the import would otherwise spend most of its time in."""
    import psycopg
    from psycopg.types.json import Jsonb

    quote = connection.dialect.identifier_preparer.quote
    names = list(rows[0])
    json_at = names.index("groups")
    statement = f"COPY {quote(ACCOUNTS.name)} ({', '.join(map(quote, names))}) FROM STDIN"
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError("COPY needs a psycopg connection")
    cursor = driver.cursor()
    with cursor.copy(statement) as copy:
        for row in rows:
            values = list(row.values())
            values[json_at] = Jsonb(values[json_at])
            copy.write_row(values)


def _deactivate_unseen(connection: Connection, target: Target, seen: int) -> int:
    if seen == 0:
        # A truncated or wrong export must not empty the store.
        raise ImportFailed(
            "A full import of a file without any accounts would deactivate every account; "
            "nothing was changed."
        )
    statement = (
        update(ACCOUNTS)
        .where(
            ACCOUNTS.c.organisation_id == target.organisation_id,
            ACCOUNTS.c.platform == target.platform,
            ACCOUNTS.c.kind == target.kind,
            ACCOUNTS.c.active.is_(True),
            or_(
                ACCOUNTS.c.last_import_id.is_(None),
                ACCOUNTS.c.last_import_id != target.import_id,
            ),
        )
        .values(active=False)
    )
    return connection.execute(statement).rowcount


def _record(
    session: Session,
    *,
    target: Target,
    full: bool,
    actor: str,
    started: datetime,
    summary: ImportSummary,
) -> None:
    counts = {
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "deactivated": summary.deactivated,
        "rejected": summary.rejected_count,
    }
    session.add(
        AccountImport(
            id=target.import_id,
            organisation_id=target.organisation_id,
            platform=target.platform,
            kind=target.kind,
            full=full,
            started_at=started,
            finished_at=clock.now(),
            **counts,
        )
    )
    audit.record(
        session,
        organisation_id=target.organisation_id,
        actor=actor,
        action="accounts.imported",
        subject_type="account_import",
        subject_id=target.import_id,
        detail={"platform": target.platform, "kind": target.kind, "full": full, **counts},
    )
