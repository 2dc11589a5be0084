"""The migration that moves orders' payment strings into payment rows, up and down, on a database of its own (a
fresh SQLite file, or a schema of its own in the PostgreSQL test database) holding orders in every payment state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from shop import create_app
from shop.extensions import db

BEFORE = "3f1e7a2c9b80"  # the head before payments became rows
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

# (order status, payment_status, has an intent) → (the payment's state or None for no payment, what the downgrade
# gives back as payment_status)
CASES = [
    ("pending_payment", "not_started", False, None, "not_started"),
    ("pending_payment", "creating", False, "creating", "creating"),
    ("pending_payment", "create_failed", False, "create_failed", "create_failed"),
    ("pending_payment", "declined", False, "declined", "declined"),
    ("pending_payment", "requires_payment_method", True, "requires_payment_method", "requires_payment_method"),
    ("pending_payment", "requires_confirmation", True, "requires_payment_method", "requires_payment_method"),
    ("pending_payment", "requires_action", True, "requires_action", "requires_action"),
    ("pending_payment", "processing", True, "processing", "processing"),
    ("pending_payment", "failed", True, "failed", "failed"),
    ("pending_payment", "canceled", True, "canceled", "canceled"),
    ("pending_payment", "amount_mismatch", True, "amount_mismatch", "amount_mismatch"),
    ("paid", "succeeded", True, "succeeded", "succeeded"),
    ("completed", "succeeded", True, "succeeded", "succeeded"),
    ("paid", "demo", False, "succeeded", "demo"),
    ("cancelled", "canceled", True, "canceled", "canceled"),
    ("cancelled", "requires_payment_method", True, "canceled", "canceled"),
    ("cancelled", "refund_due", True, "refund_due", "refund_due"),
    ("cancelled", "refunded_after_cancel", True, "refunded_after_cancel", "refunded_after_cancel"),
]


@pytest.fixture
def separate_database(tmp_path, database_url):
    """A database URL no other test uses, dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    schema = f"migration_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def _old_orders(connection) -> dict[int, tuple]:
    connection.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash, display_name, active, created_at, session_token) "
            "VALUES (1, 'buyer@example.invalid', '!', 'buyer', :yes, :now, 'token-1')"
        ),
        {"yes": True, "now": NOW},
    )
    orders = {}
    for n, (status, payment_status, has_intent, _state, _back) in enumerate(CASES, start=1):
        intent = f"pi_migrated_{n}" if has_intent else None
        secret = f"{intent}_secret_x" if has_intent else None
        paid = status in ("paid", "completed")
        connection.execute(
            sa.text(
                "INSERT INTO orders (id, buyer_id, checkout_key, status, currency, items_fen, shipping_fen, total_fen, "
                "paid_fen, refunded_fen, recipient, mobile, district_code, address_detail, payment_intent_id, "
                "payment_client_secret, payment_status, flagged_reason, placed_at, expires_at, paid_at, cancelled_at) "
                "VALUES (:id, 1, :key, :status, 'cny', 1000, 500, 1500, :paid_fen, 0, '王小明', '13800138000', "
                "'110105', '朝阳路 1 号', :intent, :secret, :payment_status, '', :placed, :expires, :paid_at, "
                ":cancelled_at)"
            ),
            {
                "id": n,
                "key": f"migration-{n:04d}",
                "status": status,
                "paid_fen": 1500 if paid else 0,
                "intent": intent,
                "secret": secret,
                "payment_status": payment_status,
                "placed": NOW,
                "expires": NOW + timedelta(minutes=30),
                "paid_at": NOW + timedelta(minutes=5) if paid else None,
                "cancelled_at": NOW + timedelta(minutes=40) if status == "cancelled" else None,
            },
        )
        orders[n] = (intent, secret)
    return orders


def test_orders_in_every_payment_state_move_to_payment_rows_and_back(separate_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": separate_database})
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            stored = _old_orders(connection)

        upgrade()
        with db.engine.connect() as connection:
            payments = connection.execute(
                sa.text(
                    "SELECT order_id, provider, provider_reference, client_secret, amount_fen, currency, state, "
                    "succeeded_at FROM payments ORDER BY order_id"
                )
            ).all()
            events = connection.execute(
                sa.text(
                    "SELECT p.order_id, e.action, e.from_state, e.to_state FROM payment_events e "
                    "JOIN payments p ON p.id = e.payment_id ORDER BY p.order_id"
                )
            ).all()
            columns = {c["name"] for c in sa.inspect(connection).get_columns("orders")}
        assert not columns & {"payment_intent_id", "payment_client_secret", "payment_status"}
        by_order = {row.order_id: row for row in payments}
        for n, (status, old, _has_intent, state, _back) in enumerate(CASES, start=1):
            if state is None:
                assert n not in by_order
                continue
            row = by_order[n]
            demo = status == "paid" and old == "demo"
            expected_reference = f"demo-FO{n:08d}" if demo else stored[n][0]
            assert (row.provider, row.provider_reference, row.client_secret, row.state) == (
                "demo" if demo else "stripe",
                expected_reference,
                stored[n][1],
                state,
            ), CASES[n - 1]
            assert (row.amount_fen, row.currency) == (1500, "cny")
            assert (row.succeeded_at is not None) == (state == "succeeded")
        assert [(e.order_id, e.action, e.from_state, e.to_state) for e in events] == [
            (row.order_id, "migrate", "", row.state) for row in payments
        ]

        # The order's payment state, derived by the model from what the migration made.
        from shop.orders.models import Order

        derived = {o.id: o.payment_status for o in db.session.scalars(sa.select(Order))}
        assert derived == {n: back for n, (*_rest, back) in enumerate(CASES, start=1)}
        db.session.remove()

        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            restored = connection.execute(
                sa.text("SELECT id, payment_intent_id, payment_client_secret, payment_status FROM orders ORDER BY id")
            ).all()
            tables = set(sa.inspect(connection).get_table_names())
        assert "payments" not in tables and "payment_events" not in tables
        for row in restored:
            *_rest, back = CASES[row.id - 1]
            assert (row.payment_intent_id, row.payment_client_secret, row.payment_status) == (*stored[row.id], back)
        upgrade()  # and up again, from what the downgrade left
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM payments")).scalar_one() == len(by_order)
        db.engine.dispose()


def test_payment_events_are_append_only_in_the_database(app_ctx):
    """(The ORM refuses too; the triggers are the database's own guard, as for the other histories.)"""
    if db.engine.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        expected = {"payment_events_append_only"}
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        expected = {"payment_events_no_update", "payment_events_no_delete"}
    assert expected <= set(db.session.scalars(sa.text(query)))
