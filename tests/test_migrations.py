"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from deskbot.db import Database
from deskbot.models import Base


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_twice_changes_nothing(db: Database) -> None:
    db.upgrade()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
