"""How fast the account store imports and answers lookups, next to a plain bulk load of the
same rows in the same run.

A CSV export of N generated accounts is written; then, on the same database:
1. a plain bulk load of its rows into a scratch copy of the accounts table (same columns and
   indexes): executemany of plain INSERTs on SQLite, COPY on PostgreSQL;
2. `deskbot accounts import` of the file (import_csv), and the same import again (nothing
   changes the second time);
3. `find` for random addresses (hits, near misses and misses), alone and with its audit in a
   transaction of its own, as deskbot answers a user.

    python bench/email_lookup.py [--accounts 1000000] [--lookups 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import MetaData, Table, text
from sqlalchemy.sql.elements import quoted_name

from deskbot.accounts.importer import import_csv
from deskbot.accounts.lookup import find, hash_key, record_lookup
from deskbot.db import Database
from deskbot.models import Account
from deskbot.settings import Settings

ORG = "bench"
HEADER = ["id", "email", "name", "active", "externally_managed", "groups"]
FIRST = ["anna", "bas", "chris", "daan", "eva", "fleur", "gijs", "hanna", "ivo", "joris", "kim"]
LAST = ["jansen", "devries", "bakker", "visser", "smit", "meijer", "bos", "mulder", "dekker"]
DOMAINS = [f"zorg{i}.example" for i in range(200)] + ["gmail.com", "outlook.com", "bücher.example"]
GROUPS = ["therapist", "supervisor", "secretary", "application manager", "data officer"]
BULK_BATCH = 10_000


def generate(path: Path, count: int, rng: random.Random) -> list[str]:
    """Write the export; returns the addresses as written (some with capitals or +tags)."""
    addresses = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            local = f"{first}.{last}{i}"
            if rng.random() < 0.05:
                local += f"+{rng.choice(['news', 'work', 'test'])}"
            if rng.random() < 0.1:
                local = local.capitalize()
            email = f"{local}@{rng.choice(DOMAINS)}"
            addresses.append(email)
            groups = ";".join(rng.sample(GROUPS, rng.randint(0, 2)))
            writer.writerow(
                [
                    f"p{i:08d}",
                    email,
                    f"{first.title()} {last.title()}",
                    "1" if rng.random() < 0.9 else "0",
                    "1" if rng.random() < 0.2 else "0",
                    groups,
                ]
            )
    return addresses


def scratch_table(db: Database) -> Table:
    """A copy of the accounts table (columns, constraints, indexes) under another name."""
    table = cast(Table, Account.__table__).to_metadata(MetaData(), name="accounts_bulk")
    for index in table.indexes:
        index.name = quoted_name(str(index.name).replace("ix_accounts", "ix_accounts_bulk"), None)
    table.drop(db.engine, checkfirst=True)
    table.create(db.engine)
    return table


def plain_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    """The file's rows as they would be stored, without any checking: what a bare loader does."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for account_id, email, name, active, external, groups in reader:
            yield (
                ORG,
                "production",
                "professional",
                account_id,
                email,
                email,
                name,
                active == "1",
                external == "1",
                '["' + groups.replace(";", '","') + '"]' if groups else "[]",
                "0" * 32,
                "2026-01-01 00:00:00+00:00",
            )


COLUMNS = (
    "organisation_id, platform, kind, account_id, email, email_key, display_name, active, "
    "externally_managed, groups, row_hash, imported_at"
)


def bulk_load(db: Database, path: Path) -> float:
    scratch_table(db)
    raw = db.engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        if db.engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY accounts_bulk ({COLUMNS}) FROM STDIN") as copy:
                for row in plain_rows(path):
                    copy.write_row(row)
        else:
            cursor.execute("BEGIN")
            statement = f"INSERT INTO accounts_bulk ({COLUMNS}) VALUES ({', '.join('?' * 12)})"
            batch: list[tuple[Any, ...]] = []
            for row in plain_rows(path):
                batch.append(row)
                if len(batch) == BULK_BATCH:
                    cursor.executemany(statement, batch)
                    batch = []
            cursor.executemany(statement, batch)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def probes(addresses: list[str], count: int, rng: random.Random) -> list[str]:
    """Half hits, a quarter near misses (another +tag, no dots, other case), a quarter misses."""
    chosen = []
    for i in range(count):
        address = rng.choice(addresses)
        local, domain = address.split("@")
        if i % 4 in (0, 1):
            chosen.append(address.upper() if i % 8 == 0 else address)
        elif i % 4 == 2:
            chosen.append(f"{local.split('+')[0].replace('.', '')}+other@{domain}")
        else:
            chosen.append(f"nobody{rng.randrange(10**9)}@{domain}")
    rng.shuffle(chosen)
    return chosen


def lookup_times(db: Database, settings: Settings, addresses: list[str]) -> dict[str, list[float]]:
    alone: list[float] = []
    audited: list[float] = []
    found = {"hit": 0, "near": 0}
    with db.sessions() as session:
        for address in addresses:
            started = time.perf_counter()
            lookup = find(session, organisation_id=ORG, raw_address=address)
            alone.append(time.perf_counter() - started)
            found["hit"] += bool(lookup.matches)
            found["near"] += bool(lookup.near_misses)
        session.rollback()
    for address in addresses:
        started = time.perf_counter()
        with db.transaction() as session:
            lookup = find(session, organisation_id=ORG, raw_address=address)
            record_lookup(
                session,
                organisation_id=ORG,
                actor="bench",
                lookup=lookup,
                key=hash_key(session, settings),
                via="bench",
            )
        audited.append(time.perf_counter() - started)
    print(f"lookups: {found['hit']} with matches, {found['near']} with near misses", flush=True)
    return {"find": alone, "find + audit, own transaction": audited}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database(url)
        db.upgrade()
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM accounts WHERE organisation_id = :o"), {"o": ORG})
        settings = Settings(database_url=url, organisation_id=ORG)
        export = Path(tmp) / "professionals.csv"
        addresses = generate(export, args.accounts, rng)
        size_mb = export.stat().st_size / 1e6
        print(
            f"{args.accounts:,} accounts, {size_mb:.0f} MB CSV, {db.engine.dialect.name}",
            flush=True,
        )

        def run_import() -> None:
            import_csv(
                db, settings=settings, path=export, kind="professional", full=True, actor="bench"
            )

        plain = bulk_load(db, export)
        print(f"plain bulk load: {plain:.1f} s", flush=True)
        rss_before = peak_rss_mb()
        first = timed(run_import)
        print(f"import: {first:.1f} s", flush=True)
        again = timed(run_import)
        rss_growth = peak_rss_mb() - rss_before
        times = lookup_times(db, settings, probes(addresses, args.lookups, rng))
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE accounts_bulk"))
        db.dispose()

    bulk_kind = "COPY" if url.startswith("postgresql") else "executemany INSERT"
    print(f"\n{args.accounts:,} accounts ({size_mb:.0f} MB CSV) on {db.engine.dialect.name}\n")
    print(f"{'step':<40}{'seconds':>10}{'x plain':>10}")
    print(f"{'plain bulk load (' + bulk_kind + ')':<40}{plain:>10.1f}{1:>10.2f}")
    print(f"{'import_csv, new store':<40}{first:>10.1f}{first / plain:>10.2f}")
    print(f"{'import_csv again, nothing changes':<40}{again:>10.1f}{again / plain:>10.2f}")
    print(f"peak memory growth during the imports: {rss_growth:.0f} MB\n")
    print(f"{'lookup (' + str(args.lookups) + ' addresses)':<40}{'p50 ms':>10}{'p99 ms':>10}")
    for name, values in times.items():
        print(f"{name:<40}{percentile(values, 50):>10.2f}{percentile(values, 99):>10.2f}")


if __name__ == "__main__":
    main()
