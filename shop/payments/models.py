from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.types import UTCDateTime, utcnow


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
