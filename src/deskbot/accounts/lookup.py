"""Where an email address lives in the account store, and the audit of each lookup, which
keeps a keyed hash of the address instead of the address."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskbot import audit
from deskbot.accounts.normalise import near_miss_key, normalise
from deskbot.models import Account, AccountImport, InstanceKey
from deskbot.settings import Settings

HASH_KEY_NAME = "lookup-hash"
Result = Literal["none", "client", "professional", "both"]


@dataclass(frozen=True)
class Found:
    """One account in the store; what of it a user may see is decided where it is shown."""

    platform: str
    kind: str
    account_id: str
    email: str
    display_name: str | None
    active: bool
    externally_managed: bool
    groups: list[str]


@dataclass(frozen=True)
class Lookup:
    """The answer for one address: the accounts that use it, similar addresses as hints, and
    when the store was last imported (it is only as fresh as that)."""

    address: str  # normalised
    matches: list[Found]
    near_misses: list[Found]
    last_import: datetime | None

    @property
    def result(self) -> Result:
        kinds = {found.kind for found in self.matches}
        if not kinds:
            return "none"
        if kinds == {"client"}:
            return "client"
        if kinds == {"professional"}:
            return "professional"
        return "both"


_ACCOUNTS = cast(Table, Account.__table__)
_IMPORTS = cast(Table, AccountImport.__table__)
_NEWEST = (
    select(func.max(_IMPORTS.c.finished_at).label("finished_at"))
    .where(_IMPORTS.c.organisation_id == bindparam("organisation_id"))
    .subquery("newest")
)
# Built once: a lookup should spend its time in the index, not in building statements.
# Every account using the address has its near-miss key too (the key is computed from the
# address), so one indexed query on the key finds the matches and the near-misses together;
# joined to the one-row newest import, so one round trip also brings the import time (and
# a row of NULLs when nothing uses the key).
_FIND = (
    select(
        _NEWEST.c.finished_at,
        _ACCOUNTS.c.platform,
        _ACCOUNTS.c.kind,
        _ACCOUNTS.c.account_id,
        _ACCOUNTS.c.email,
        _ACCOUNTS.c.display_name,
        _ACCOUNTS.c.active,
        _ACCOUNTS.c.externally_managed,
        _ACCOUNTS.c.groups,
    )
    .select_from(
        _NEWEST.outerjoin(
            _ACCOUNTS,
            and_(
                _ACCOUNTS.c.organisation_id == bindparam("organisation_id"),
                _ACCOUNTS.c.email_key == bindparam("email_key"),
            ),
        )
    )
    # Not by email: ORDER BY email would tempt SQLite to walk the email index instead.
    .order_by(_ACCOUNTS.c.kind, _ACCOUNTS.c.platform, _ACCOUNTS.c.account_id)
)


def find(session: Session, *, organisation_id: str, raw_address: str) -> Lookup:
    """Look an address up across client and professional accounts, active and inactive;
    InvalidAddress when it is not an address."""
    address = normalise(raw_address)
    rows = session.execute(
        _FIND, {"organisation_id": organisation_id, "email_key": near_miss_key(address)}
    ).all()
    same_key = [Found(*row[1:]) for row in rows if row.account_id is not None]
    return Lookup(
        address=address,
        matches=[found for found in same_key if found.email == address],
        # Another +tag or dots: hints, never matches.
        near_misses=sorted(
            (found for found in same_key if found.email != address), key=lambda f: f.email
        ),
        last_import=rows[0].finished_at,
    )


def last_import(session: Session, *, organisation_id: str) -> datetime | None:
    """When the organisation's account store was last imported; None if it never was."""
    return session.execute(select(_NEWEST), {"organisation_id": organisation_id}).scalar()


def hash_key(session: Session, settings: Settings) -> bytes:
    """The key of the lookup audit's hashes: the configured one, or one made once per
    database and kept there."""
    if settings.lookup_hash_key is not None:
        return settings.lookup_hash_key.get_secret_value().encode()
    stored = _stored_key(session)
    if stored is not None:
        return stored
    try:
        with session.begin_nested():
            session.execute(
                insert(InstanceKey).values(name=HASH_KEY_NAME, value=secrets.token_hex(32))
            )
    except IntegrityError:
        pass  # another process made it first; theirs is the key
    key = _stored_key(session)
    if key is None:  # pragma: no cover - the insert or the other process put it there
        raise RuntimeError("the lookup hash key could not be stored")
    return key


def _stored_key(session: Session) -> bytes | None:
    value = session.execute(
        select(InstanceKey.value).where(InstanceKey.name == HASH_KEY_NAME)
    ).scalar()
    return value.encode() if value is not None else None


def address_hash(key: bytes, address: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) that stands for a normalised address in the audit:
    the same address always gives the same hash, and without the key it cannot be guessed."""
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def record_lookup(
    session: Session,
    *,
    organisation_id: str,
    actor: str,
    lookup: Lookup,
    key: bytes,
    via: str,
) -> None:
    """Audit one lookup: who, when, what kind of result; the address only as its keyed hash."""
    audit.record(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="email.lookup",
        subject_type="email_lookup",
        subject_id=address_hash(key, lookup.address),
        detail={"result": lookup.result, "near_misses": len(lookup.near_misses), "via": via},
    )
