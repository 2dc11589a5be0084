"""A bulk order: what an organization's purchaser drafts and its approvers approve. Approval reserves the stock
and places an ordinary order (shop/orders/) whose buyer is the organization: from then on payment, shipping,
refunds and settlement are the order's, by the same machinery as a consumer's order, never a copy.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class BulkOrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    FIRST_APPROVED = "first_approved"  # above the organization's threshold: waits for a second approver
    ORDERED = "ordered"  # approved: the stock is reserved and the order placed; its state is the order's
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Purpose(StrEnum):
    CANTEEN = "canteen"  # 食堂食材采购
    UNION_WELFARE = "union_welfare"  # 工会福利, 慰问品
    PURCHASE_FOR_DONATION = "purchase_for_donation"  # 以购代捐


class InvoiceType(StrEnum):
    NORMAL = "normal"  # 数电普票 (type code 82)
    SPECIAL = "special"  # 数电专票 (type code 81)


class BulkOrder(db.Model):
    __tablename__ = "bulk_orders"
    __table_args__ = (
        CheckConstraint(sql_in("status", BulkOrderStatus), name="status_known"),
        CheckConstraint(sql_in("purpose", Purpose), name="purpose_known"),
        CheckConstraint(sql_in("invoice_type", InvoiceType), name="invoice_type_known"),
        CheckConstraint("(status = 'ordered') = (order_id IS NOT NULL)", name="ordered_has_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=BulkOrderStatus.DRAFT, index=True)
    purpose: Mapped[str] = mapped_column(String(24), default=Purpose.CANTEEN)
    requested_delivery_date: Mapped[date | None] = mapped_column(Date)
    purchase_order_number: Mapped[str] = mapped_column(String(64), default="")  # the unit's own number
    purchase_order_document: Mapped[str] = mapped_column(String(255), default="")  # a stored file's name
    note: Mapped[str] = mapped_column(Text, default="")
    # Invoice details (发票抬头): each at most 100 GBK bytes, as the tax system allows.
    invoice_type: Mapped[str] = mapped_column(String(8), default=InvoiceType.NORMAL)
    invoice_title: Mapped[str] = mapped_column(String(100), default="")
    invoice_taxpayer_id: Mapped[str] = mapped_column(String(20), default="")
    invoice_address_phone: Mapped[str] = mapped_column(String(100), default="")  # 专票 only
    invoice_bank_account: Mapped[str] = mapped_column(String(100), default="")  # 专票 only
    # The amount of its lines as last checked (at submission and approval), for the approval threshold.
    items_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The order that approval placed (unique: one bulk order, one order).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    destinations: Mapped[list[BulkDestination]] = relationship(
        back_populates="bulk_order", order_by="BulkDestination.id", cascade="all, delete-orphan"
    )
    lines: Mapped[list[BulkLine]] = relationship(
        back_populates="bulk_order", order_by="BulkLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[BulkOrderEvent]] = relationship(order_by="BulkOrderEvent.id", viewonly=True)


class BulkDestination(db.Model):
    """Where lines go: a canteen (address with its county, contact, phone). Its name is unique in the order, so an
    uploaded line can name it."""

    __tablename__ = "bulk_destinations"
    __table_args__ = (UniqueConstraint("bulk_order_id", "name", name="uq_bulk_destinations_order_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_order_id: Mapped[int] = mapped_column(ForeignKey("bulk_orders.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(40))
    mobile: Mapped[str] = mapped_column(String(11))
    district_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    address_detail: Mapped[str] = mapped_column(String(200))

    bulk_order: Mapped[BulkOrder] = relationship(back_populates="destinations")


class BulkLine(db.Model):
    """A product and quantity for one destination. Price and name are taken when the order is placed."""

    __tablename__ = "bulk_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("bulk_order_id", "product_id", "destination_id", name="uq_bulk_lines_product_destination"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_order_id: Mapped[int] = mapped_column(ForeignKey("bulk_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("bulk_destinations.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    bulk_order: Mapped[BulkOrder] = relationship(back_populates="lines")
    destination: Mapped[BulkDestination] = relationship()


class BulkOrderEvent(db.Model):
    """Every step of a bulk order: who, in which capacity, when, from, to, and the comment. Appended, never edited."""

    __tablename__ = "bulk_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_order_id: Mapped[int] = mapped_column(ForeignKey("bulk_orders.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    capacity: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


append_only(BulkOrderEvent, what="bulk order events")
