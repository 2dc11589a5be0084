"""payments as append-only transactions: a payment row per attempt, its events; the order's free payment string goes

Every order with an intent, the demo's order (payment_status "demo") and those being set up become payment rows,
each with one event saying it was moved here; orders.payment_intent_id, payment_client_secret and payment_status
are dropped. The downgrade puts them back from each order's payment (the one that paid it, else its latest).

Revision ID: 3c0f1d2e9a4b
Revises: 3f1e7a2c9b80
Create Date: 2026-12-05 12:30:00.000000

"""

from alembic import op
import sqlalchemy as sa

import shop.types


# revision identifiers, used by Alembic.
revision = "3c0f1d2e9a4b"
down_revision = "3f1e7a2c9b80"
branch_labels = None
depends_on = None

STATES = (
    "creating",
    "create_failed",
    "requires_payment_method",
    "requires_action",
    "processing",
    "failed",
    "succeeded",
    "declined",
    "canceled",
    "refund_due",
    "refunded_after_cancel",
    "amount_mismatch",
)
OPEN = "state IN ('create_failed', 'creating', 'failed', 'processing', 'requires_action', 'requires_payment_method')"
# The old free string (the provider's intent statuses and the shop's own words) as a payment state.
FROM_PAYMENT_STATUS = {
    "not_started": "requires_payment_method",  # an intent without a recorded status
    "creating": "creating",
    "create_failed": "create_failed",
    "requires_payment_method": "requires_payment_method",
    "requires_confirmation": "requires_payment_method",
    "requires_action": "requires_action",
    "processing": "processing",
    "requires_capture": "processing",
    "succeeded": "succeeded",
    "declined": "declined",
    "failed": "failed",
    "canceled": "canceled",
    "refund_due": "refund_due",
    "refunded_after_cancel": "refunded_after_cancel",
    "amount_mismatch": "amount_mismatch",
    "demo": "succeeded",
}
WAITING = {"creating", "create_failed", "requires_payment_method", "requires_action", "processing", "failed"}

orders = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("currency", sa.String),
    sa.column("total_fen", sa.BigInteger),
    sa.column("placed_at", shop.types.UTCDateTime),
    sa.column("paid_at", shop.types.UTCDateTime),
    sa.column("cancelled_at", shop.types.UTCDateTime),
    sa.column("payment_intent_id", sa.String),
    sa.column("payment_client_secret", sa.String),
    sa.column("payment_status", sa.String),
)
payments = sa.table(
    "payments",
    sa.column("id", sa.Integer),
    sa.column("order_id", sa.Integer),
    sa.column("provider", sa.String),
    sa.column("provider_reference", sa.String),
    sa.column("client_secret", sa.String),
    sa.column("amount_fen", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("state", sa.String),
    sa.column("created_at", shop.types.UTCDateTime),
    sa.column("updated_at", shop.types.UTCDateTime),
    sa.column("succeeded_at", shop.types.UTCDateTime),
)
payment_events = sa.table(
    "payment_events",
    sa.column("payment_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("from_state", sa.String),
    sa.column("to_state", sa.String),
    sa.column("capacity", sa.String),
    sa.column("reason", sa.Text),
    sa.column("at", shop.types.UTCDateTime),
)


def _state_of(order) -> str:
    state = FROM_PAYMENT_STATUS.get(order.payment_status, "requires_payment_method")
    if order.status in ("paid", "completed"):
        return "succeeded"  # the label of a paid order could only have been the success
    if order.status == "cancelled" and state in WAITING:
        return "canceled"  # the order's cancellation cancelled its intent first
    return state


def upgrade():
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_reference", sa.String(length=64), nullable=True),
        sa.Column("client_secret", sa.String(length=128), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", shop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("succeeded_at", shop.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "method IS NULL OR method IN ('card', 'alipay', 'wechat_pay', 'bank_transfer')",
            name=op.f("ck_payments_method_known"),
        ),
        sa.CheckConstraint("provider IN ('stripe', 'demo')", name=op.f("ck_payments_provider_known")),
        sa.CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name=op.f("ck_payments_state_known")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_payments_provider_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_payments_state", ["state"], unique=False)
        batch_op.create_index(
            "uq_payments_one_open_per_order",
            ["order_id"],
            unique=True,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )

    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("provider_event_id", sa.String(length=64), nullable=True),
        sa.Column("at", shop.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_payment_events_actor_id_users")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_payment_events_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_events_payment_id"), ["payment_id"], unique=False)

    connection = op.get_bind()
    found = connection.execute(
        sa.select(orders)
        .where(
            sa.or_(
                orders.c.payment_intent_id.is_not(None),
                orders.c.payment_status.in_(["demo", "creating", "create_failed", "declined"]),
            )
        )
        .order_by(orders.c.id)
    ).all()
    for order in found:
        state = _state_of(order)
        demo = order.payment_status == "demo"
        reference = f"demo-FO{order.id:08d}" if demo else order.payment_intent_id
        at = order.paid_at or order.cancelled_at or order.placed_at
        payment_id = connection.execute(
            payments.insert()
            .values(
                order_id=order.id,
                provider="demo" if demo else "stripe",
                provider_reference=reference,
                client_secret=order.payment_client_secret,
                amount_fen=order.total_fen,
                currency=order.currency,
                state=state,
                created_at=order.placed_at,
                updated_at=at,
                succeeded_at=order.paid_at if state == "succeeded" else None,
            )
            .returning(payments.c.id)
        ).scalar_one()
        connection.execute(
            payment_events.insert().values(
                payment_id=payment_id,
                action="migrate",
                from_state="",
                to_state=state,
                capacity="job",
                reason=f"moved from orders.payment_status {order.payment_status!r}",
                at=at,
            )
        )

    if connection.dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER payment_events_append_only BEFORE UPDATE OR DELETE ON payment_events "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER payment_events_no_{operation.lower()} BEFORE {operation} ON payment_events "
                f"BEGIN SELECT RAISE(ABORT, 'payment_events is append-only: {operation} refused'); END"
            )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_orders_payment_intent_id"), type_="unique")
        batch_op.drop_column("payment_status")
        batch_op.drop_column("payment_client_secret")
        batch_op.drop_column("payment_intent_id")


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_intent_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("payment_client_secret", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("payment_status", sa.String(length=32), nullable=False, server_default="not_started")
        )
        batch_op.create_unique_constraint(batch_op.f("uq_orders_payment_intent_id"), ["payment_intent_id"])

    connection = op.get_bind()
    rows = connection.execute(sa.select(payments).order_by(payments.c.order_id, payments.c.id)).all()
    chosen = {}
    for payment in rows:  # the payment that paid the order, else its latest attempt
        held = chosen.get(payment.order_id)
        if held is None or held.state != "succeeded":
            chosen[payment.order_id] = payment
    for order_id, payment in chosen.items():
        demo = payment.provider == "demo"
        connection.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(
                payment_intent_id=None if demo else payment.provider_reference,
                payment_client_secret=payment.client_secret,
                payment_status="demo" if demo else payment.state,
            )
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("payment_status", existing_type=sa.String(length=32), server_default=None)

    if connection.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payment_events_append_only ON payment_events")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS payment_events_no_{operation}")
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_events_payment_id"))
    op.drop_table("payment_events")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payments_one_open_per_order", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN)
        )
        batch_op.drop_index("ix_payments_state")
        batch_op.drop_index(batch_op.f("ix_payments_order_id"))
    op.drop_table("payments")
