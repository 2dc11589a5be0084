"""Payments as append-only transactions (the shape of Saleor's TransactionItem/TransactionEvent and django-oscar's
PaymentEvent): a `Payment` row per attempt to pay an order, its state moved only by the payment workflow
(shop/payments/rules.py, applied by shop.workflow), and a `PaymentEvent` appended for every move, never edited.

Payments know the order they pay by its id only (a foreign key to the `orders` table): this area never imports
orders. What an order has received is the sum of its succeeded payments less its refunds (Order.received_fen, in
the orders area).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class PaymentMethod(StrEnum):
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    BANK_TRANSFER = "bank_transfer"  # reserved for bulk orders (next issue): no code path makes one yet


class PaymentProvider(StrEnum):
    STRIPE = "stripe"
    DEMO = "demo"  # the demo's seeded order, recorded as paid outside any provider (shop/demo/households.py)


class PaymentState(StrEnum):
    CREATING = "creating"  # the row exists, the provider is being asked for an intent
    CREATE_FAILED = "create_failed"  # the provider did not answer; the next visit or the reconcile job retries
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # the intent waits for the buyer
    REQUIRES_ACTION = "requires_action"  # 3-D Secure or a wallet's confirmation in the browser
    PROCESSING = "processing"
    FAILED = "failed"  # the provider reported a failed attempt; the intent can still be paid
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # the card was declined: this intent is cancelled, the next attempt is a new payment
    CANCELED = "canceled"  # cancelled by the shop (the order was cancelled or expired)
    REFUND_DUE = "refund_due"  # money arrived for a payment the shop had cancelled: to be given back
    REFUNDED_AFTER_CANCEL = "refunded_after_cancel"  # ... and given back
    AMOUNT_MISMATCH = "amount_mismatch"  # the provider's amount or currency is not the payment's: an operator looks


# An attempt that may still take the buyer's money (the reconcile job re-reads these at the provider).
OPEN_STATES = frozenset(
    {
        PaymentState.CREATING,
        PaymentState.CREATE_FAILED,
        PaymentState.REQUIRES_PAYMENT_METHOD,
        PaymentState.REQUIRES_ACTION,
        PaymentState.PROCESSING,
        PaymentState.FAILED,
    }
)

OPEN_STATES_SQL = sql_in("state", sorted(OPEN_STATES))


class Payment(db.Model):
    """One attempt to pay an order through a provider: what the shop asked for, and where it stands."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(sql_in("state", PaymentState), name="state_known"),
        CheckConstraint("method IS NULL OR " + sql_in("method", PaymentMethod), name="method_known"),
        CheckConstraint(sql_in("provider", PaymentProvider), name="provider_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_payments_state", "state"),
        # At most one attempt per order may still take money: two requests setting up the payment of one order at
        # the same moment make one row (the other finds it), whatever the database.
        Index(
            "uq_payments_one_open_per_order",
            "order_id",
            unique=True,
            postgresql_where=text(OPEN_STATES_SQL),
            sqlite_where=text(OPEN_STATES_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str | None] = mapped_column(String(16))  # known once the buyer pays (a card, a wallet)
    provider: Mapped[str] = mapped_column(String(16), default=PaymentProvider.STRIPE)
    # The PaymentIntent id; None while it is being created.
    provider_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(128))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="cny")
    state: Mapped[str] = mapped_column(String(32), default=PaymentState.CREATING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[PaymentEvent]] = relationship(order_by="PaymentEvent.id", viewonly=True)

    @property
    def through_provider(self) -> bool:
        return self.provider == PaymentProvider.STRIPE and self.provider_reference is not None


class PaymentEvent(db.Model):
    """A move of a payment: who (or the provider, or a job) in which capacity, when, from, to, why; the provider's
    event id when a webhook brought the news. Appended, never edited."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    capacity: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    provider_event_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProviderEvent(db.Model):
    """Every webhook event from the payment provider, processed once (its id is unique)."""

    __tablename__ = "provider_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentFlag(db.Model):
    """Something about a payment an operator must look at: wrong amount, payment after expiry, unknown intent."""

    __tablename__ = "payment_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_intent_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


append_only(PaymentEvent, what="payment events")
