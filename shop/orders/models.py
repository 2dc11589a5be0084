from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.payments.models import Payment, PaymentProvider, PaymentState
from shop.references import order_reference
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ShipmentStatus(StrEnum):
    AWAITING = "awaiting_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(sql_in("status", OrderStatus), name="status_known"),
        CheckConstraint(
            "items_fen >= 0 AND shipping_fen >= 0 AND total_fen = items_fen + shipping_fen", name="totals_add_up"
        ),
        CheckConstraint("paid_fen >= 0 AND refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunds_within_paid"),
        # A retried checkout (double click, network retry) finds the order it already made.
        UniqueConstraint("buyer_id", "checkout_key", name="uq_orders_buyer_checkout_key"),
        Index("ix_orders_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The organization that buys, for a bulk order (shop/bulk/): its purchaser is the buyer. None for a consumer.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    checkout_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT)
    currency: Mapped[str] = mapped_column(String(3), default="cny")
    items_fen: Mapped[int] = mapped_column(BigInteger)
    shipping_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # The shipping address (a county-level district code, checked against the regions table).
    recipient: Mapped[str] = mapped_column(String(40))
    mobile: Mapped[str] = mapped_column(String(11))
    district_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    address_detail: Mapped[str] = mapped_column(String(200))
    flagged_reason: Mapped[str] = mapped_column(Text, default="")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", order_by="Shipment.id")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id")
    refunds: Mapped[list[Refund]] = relationship(order_by="Refund.id", viewonly=True)
    # The attempts to pay it (shop/payments/models.py); the order's payment state is derived from them.
    payments: Mapped[list[Payment]] = relationship(Payment, order_by=Payment.id, viewonly=True)

    @property
    def reference(self) -> str:
        return order_reference(self.id)

    @property
    def payment(self) -> Payment | None:
        """The payment that paid the order, else its latest attempt (None before any)."""
        succeeded = [p for p in self.payments if p.state == PaymentState.SUCCEEDED]
        if succeeded:
            return succeeded[-1]
        return self.payments[-1] if self.payments else None

    @property
    def payment_status(self) -> str:
        """Derived, never stored: its payment's state; "not_started" before any attempt, "demo" for the demo's
        order paid outside the provider (shop/payments/labels.py has the words for each)."""
        payment = self.payment
        if payment is None:
            return "not_started"
        return "demo" if payment.provider == PaymentProvider.DEMO else payment.state

    @hybrid_property
    def payment_intent_id(self) -> str | None:
        """The provider's intent of its payment (None before one exists, and for a payment outside the provider)."""
        payment = self.payment
        return (
            payment.provider_reference if payment is not None and payment.provider == PaymentProvider.STRIPE else None
        )

    @payment_intent_id.inplace.expression
    @classmethod
    def _payment_intent_id_expression(cls):
        return (
            select(Payment.provider_reference)
            .where(Payment.order_id == cls.id, Payment.provider == PaymentProvider.STRIPE)
            .order_by((Payment.state == PaymentState.SUCCEEDED).desc(), Payment.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    @property
    def payment_client_secret(self) -> str | None:
        payment = self.payment
        return payment.client_secret if payment is not None else None

    @property
    def received_fen(self) -> int:
        """What the order has received: its succeeded payments, less what was refunded (payments in parts add up)."""
        return sum(p.amount_fen for p in self.payments if p.state == PaymentState.SUCCEEDED) - self.refunded_fen


class OrderLine(db.Model):
    """A snapshot of what was bought: name, unit, price and cooperative as they were at checkout."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0 AND unit_price_fen > 0", name="quantity_and_price_positive"),
        CheckConstraint("line_total_fen = unit_price_fen * quantity", name="total_is_price_times_quantity"),
        CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunds_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(120))
    cooperative_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(8))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")
    shipment: Mapped[Shipment] = relationship(back_populates="lines")

    @property
    def refundable_quantity(self) -> int:
        """What may still be asked back: bought, minus refunded, minus what requests awaiting a decision ask for
        (the same units cannot be asked for twice). The one rule the order page, the API and the refund check use."""
        waiting = sum(
            refund_line.quantity
            for refund in self.order.refunds
            if refund.status == RefundStatus.REQUESTED
            for refund_line in refund.lines
            if refund_line.order_line_id == self.id
        )
        return self.quantity - self.refunded_quantity - waiting


class Shipment(db.Model):
    """One cooperative's part of an order: its lines, its shipping fee, shipped and delivered by it."""

    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint(sql_in("status", ShipmentStatus), name="status_known"),
        CheckConstraint("shipping_fee_fen >= 0", name="fee_not_negative"),
        # One part per cooperative and destination (a bulk order delivers to several canteens; a consumer's
        # order has one destination, its own address, named "").
        UniqueConstraint(
            "order_id", "cooperative_id", "destination_name", name="uq_shipments_order_cooperative_destination"
        ),
        # Only shipments not settled in full: a run looks for due lines here, never in the whole history.
        Index(
            "ix_shipments_unsettled",
            "delivered_at",
            postgresql_where=text("settled_at IS NULL"),
            sqlite_where=text("settled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    cooperative_name: Mapped[str] = mapped_column(String(120))
    shipping_fee_fen: Mapped[int] = mapped_column(BigInteger)
    # Where this part goes when it is not the order's address (a bulk order's canteen): a snapshot of it.
    destination_name: Mapped[str] = mapped_column(String(60), default="", server_default="")
    recipient: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(11))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    address_detail: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.AWAITING)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    tracking_number: Mapped[str] = mapped_column(String(40), default="")
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When settlement had settled its fee and every line of it (a line a refund holds back keeps it open). The
    # records are shipment_settlements and line_settlements; `flask ledger check` checks that they agree.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list[OrderLine]] = relationship(back_populates="shipment", order_by="OrderLine.id")


class OrderEvent(db.Model):
    """Every change of an order or shipment: who, in which role, when, from and to which state, why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"  # the amount is reserved on the order; the provider is being asked
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


class Refund(db.Model):
    """A refund of lines (or quantities of them) of a paid order, asked by the buyer or made by an operator."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(sql_in("status", RefundStatus), name="status_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=RefundStatus.REQUESTED)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    return_stock: Mapped[bool] = mapped_column(default=False)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    provider_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[RefundLine]] = relationship(back_populates="refund", order_by="RefundLine.id")
    order: Mapped[Order] = relationship(viewonly=True)


class RefundLine(db.Model):
    __tablename__ = "refund_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0 AND amount_fen > 0", name="quantity_and_amount_positive"),
        UniqueConstraint("refund_id", "order_line_id", name="uq_refund_lines_refund_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


append_only(OrderEvent, what="order events")
