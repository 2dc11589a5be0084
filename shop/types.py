"""Column types shared by every area."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeVar

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


def insert_ignoring_duplicates(model, unique_columns: list[str], where=None):
    """INSERT … ON CONFLICT (columns) DO NOTHING on PostgreSQL and SQLite alike: the race-free way to make a row
    that a concurrent transaction may be making too (add .returning() to learn whether this one made it). `where`
    names the predicate of a partial unique index (e.g. one open attempt per order)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from shop.extensions import db

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing(index_elements=unique_columns, index_where=where)


def append_only(*models: type, what: str) -> None:
    """The ORM refuses to change or delete rows of these models (their tables' triggers refuse it in the database
    too): history is added to, never rewritten. `what` names them in the error."""

    @event.listens_for(Session, "before_flush")
    def _refuse_changes(session, flush_context, instances):
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, models) and (obj in session.deleted or session.is_modified(obj)):
                raise ValueError(f"{what} are append-only")


M = TypeVar("M")


def insert_loaded(model: type[M], rows: list[dict]) -> list[M]:
    """INSERT rows of a model in one Core statement and give them back as loaded objects, in the rows' order.

    For a hot path that writes new rows and answers with them (checkout): a flush, or an ORM bulk INSERT
    returning the entities, costs several times the CPU of the plain statement. Every column's value is known
    here (the column defaults are applied in Python first), so the objects are made as if just read back
    (`make_transient_to_detached`, then added to the session): nothing is expired, nothing is loaded again,
    and the unit of work has nothing to write. Only the primary key comes back from the database.
    """
    from sqlalchemy import insert, inspect
    from sqlalchemy.orm import make_transient_to_detached

    from shop.extensions import db

    mapper = inspect(model)
    table = mapper.local_table
    (key,) = mapper.primary_key
    key_name = mapper.get_property_by_column(key).key
    attributes = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs if prop.columns[0] is not key]
    complete = []
    for row in rows:
        values = {}
        for name, column in attributes:
            if name in row:
                values[column.key] = row[name]
            elif column.default is not None:
                default = column.default
                values[column.key] = default.arg(None) if default.is_callable else default.arg
            elif column.server_default is not None:
                raise ValueError(f"{table.name}.{column.key} has only a server default: give its value")
            else:
                values[column.key] = None
        complete.append(values)
    ids = db.session.execute(insert(table).returning(key, sort_by_parameter_order=True), complete).scalars().all()
    loaded = []
    by_column = {column.key: name for name, column in attributes}
    for primary_key, values in zip(ids, complete, strict=True):
        obj = model(**{by_column[column]: value for column, value in values.items()}, **{key_name: primary_key})
        make_transient_to_detached(obj)
        db.session.add(obj)
        loaded.append(obj)
    return loaded
