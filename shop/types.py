"""Column types shared by every area."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, event
from sqlalchemy.orm import Session, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no zone; PostgreSQL's timestamptz does. Both come back aware, so comparisons never mix
    naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Money is integer fen in a 64-bit column: a plain Mapped[int] is a 32-bit integer on PostgreSQL.
Fen = Annotated[int, mapped_column(BigInteger)]


def sql_in(column: str, values) -> str:
    """The text of a CHECK constraint that a column holds one of an enum's values."""
    return f"{column} IN ({', '.join(repr(getattr(v, 'value', v)) for v in values)})"


def insert_ignoring_duplicates(model, unique_columns: list[str]):
    """INSERT … ON CONFLICT (columns) DO NOTHING on PostgreSQL and SQLite alike: the race-free way to make a row
    that a concurrent transaction may be making too (add .returning() to learn whether this one made it)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from shop.extensions import db

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing(index_elements=unique_columns)


def append_only(*models: type, what: str) -> None:
    """The ORM refuses to change or delete rows of these models (their tables' triggers refuse it in the database
    too): history is added to, never rewritten. `what` names them in the error."""

    @event.listens_for(Session, "before_flush")
    def _refuse_changes(session, flush_context, instances):
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, models) and (obj in session.deleted or session.is_modified(obj)):
                raise ValueError(f"{what} are append-only")
