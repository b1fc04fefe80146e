"""One email check: find the address, audit the lookup (keyed hash only), shape the answer."""

from __future__ import annotations

from deskbot.accounts import advice
from deskbot.accounts.lookup import find, hash_key, record_lookup
from deskbot.db import Database
from deskbot.settings import Settings


def check_address(
    db: Database, settings: Settings, *, actor: str, raw: str, sees_clients: bool, via: str
) -> advice.Answer:
    """The answer for this actor; InvalidAddress (with a message for them) for a bad address."""
    with db.transaction() as session:
        lookup = find(session, organisation_id=settings.organisation_id, raw_address=raw)
        record_lookup(
            session,
            organisation_id=settings.organisation_id,
            actor=actor,
            lookup=lookup,
            key=hash_key(session, settings),
            via=via,
        )
    return advice.answer(
        lookup,
        sees_clients=sees_clients,
        professional_details={p.name: p.professional_details for p in settings.platforms},
    )
