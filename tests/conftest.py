"""Test fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), schema made by the
migrations, emptied between tests (the migrated region list stays)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from shop import create_app
from shop.catalog.cache import answers as listing_answers
from shop.extensions import db, limiter
from tests import factories

# Reference data loaded by the migrations stays; everything a test makes goes.
# The real local Stripe emulator (localstripe) and its fixtures: localstripe_server, stripe_config, …
pytest_plugins = ["tests.stripe_emulator", "tests.browser"]

KEPT_TABLES = {"regions", "calendar_days", "catalog_state", "alembic_version"}


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


# A test's kind follows from what it really touches, so `pytest -m unit` (or integration, e2e, browser) picks them
# wherever their area keeps them (tests/<area>/).
BROWSER_FIXTURES = {"page", "browser", "live_server"}
HTTP_FIXTURES = {"client", "api"}
DATABASE_FIXTURES = {"app", "app_ctx", "make", "database_url", "localstripe_server", "stripe_config"}  # or the emulator


def _requested(item) -> set[str]:
    """The fixtures a test asks for, directly or through other fixtures (autouse ones, which every test gets, aside)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    seen: set[str] = set()
    waiting = list(info.argnames)
    while waiting:
        name = waiting.pop()
        if name not in seen:
            seen.add(name)
            for definition in info.name2fixturedefs.get(name, ()):
                waiting.extend(definition.argnames)
    return seen


def _kind(item) -> str:
    used = _requested(item)
    if used & BROWSER_FIXTURES:
        return "browser"
    if used & HTTP_FIXTURES:
        return "e2e"
    if used & DATABASE_FIXTURES:
        return "integration"
    return "unit"


def pytest_collection_modifyitems(config, items):
    """Mark each test with its kind; tests of row locks between connections need PostgreSQL (they run in make
    test's PostgreSQL pass)."""
    on_postgres = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
    postgres_only = pytest.mark.skipif(True, reason="PostgreSQL only: runs in the PostgreSQL pass of make test")
    for item in items:
        kind = _kind(item)
        if kind != "browser" or "browser" not in item.keywords:
            item.add_marker(getattr(pytest.mark, kind))
        if kind == "browser":
            item.add_marker(pytest.mark.e2e)
        if not on_postgres and "postgres_only" in item.keywords:
            item.add_marker(postgres_only)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(tmp_path_factory, database_url):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["INSTANCE_PATH"] = str(instance)
    if database_url.startswith("postgresql"):
        _reset_postgres_schema(database_url)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(instance / "uploads"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing for tests only
            "STRIPE_WEBHOOK_SECRET": "whsec_test_default",  # stripe_config sets a fresh one per payment test
        }
    )
    with app.app_context():
        upgrade()
    return app


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # Append-only tables refuse DELETE by trigger: lift the triggers for the clean-up only, then restore them.
        triggers = db.session.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        for name, _sql in triggers:
            db.session.execute(sa.text(f'DROP TRIGGER "{name}"'))
        for table in tables:
            db.session.execute(table.delete())
        for _name, sql in triggers:
            db.session.execute(sa.text(sql))
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean_database(app) -> Iterator[None]:
    yield
    with app.app_context():
        db.session.rollback()
        _empty_tables()
    limiter.reset()  # limits are on, as in production; each test starts with fresh counters
    listing_answers.clear()  # the clean-up above bypasses the generation triggers on SQLite


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """Factories that create rows through the services and commit (tests/factories.py)."""
    return factories.Factories(app)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, page_url: str) -> str:
    page = client.get(page_url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {page_url} (status {page.status_code})"
    return match.group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@contextmanager
def count_statements(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
