"""The public listing's answers, cached per worker, and never stale.

Every change that can alter a listing (a product's listed fields, photos, cooperatives, certificates, the
state of a certification, regions) bumps `catalog_state.generation` by a database trigger, in the same
transaction, whatever path made it (services, the certification job, raw SQL). An answer is cached under
(query, generation, business date): the next request after a suspension commits sees a new generation
and builds a fresh answer. Stock is not part of the listing (checkouts would otherwise invalidate it on
every sale); the product page and the checkout read it live.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Hashable

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.timeutil import business_date

MAX_ENTRIES = 512


class CatalogState(db.Model):
    """One row: the generation of the catalogue, bumped by triggers (see the migration that made it)."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class _Answers:
    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


answers = _Answers(MAX_ENTRIES)
_connections = threading.local()
GENERATION_SQL = "SELECT generation FROM catalog_state WHERE id = 1"


def _generation_cursor():
    """A DBAPI cursor of this worker thread on an autocommit connection, kept open: the generation is read with
    one prepared statement per request, bypassing the pool and SQLAlchemy's result machinery."""
    held = getattr(_connections, "held", None)
    if held is None or held[0] is not db.engine:
        connection = db.engine.raw_connection()
        driver = connection.driver_connection
        connection.detach()  # its own connection from now on: the pool opens another, and it closes with us
        if db.engine.dialect.name == "postgresql":
            driver.autocommit = True
        else:
            driver.isolation_level = None  # sqlite3: autocommit
        held = (db.engine, connection, connection.cursor())
        _connections.held = held
    return held[2]


def _forget_connection() -> None:
    held = getattr(_connections, "held", None)
    _connections.held = None
    if held is not None:
        with contextlib.suppress(Exception):  # it is already broken; we only let go of it
            held[1].close()


def current_generation() -> int:
    for attempt in (1, 2):
        try:
            cursor = _generation_cursor()
            if db.engine.dialect.name == "postgresql":
                cursor.execute(GENERATION_SQL, prepare=True)
            else:
                cursor.execute(GENERATION_SQL)
            return cursor.fetchone()[0]
        except db.engine.dialect.loaded_dbapi.Error:
            _forget_connection()  # a lost connection: reconnect once
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def lookup(raw_query: bytes) -> bytes | None:
    """The cached answer to this exact query string now, or None; remembers the key for `store`.

    Called before the query is parsed (parsing costs more than the rest of a hit), and before the request's
    session starts, so what is built afterwards is at least as new as the generation in the key.
    """
    g.catalog_cache_key = (raw_query, current_generation(), business_date())
    return answers.get(g.catalog_cache_key)


def store(answer: bytes) -> None:
    key = g.get("catalog_cache_key")
    if key is not None:
        answers.put(key, answer)
