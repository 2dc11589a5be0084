"""Payout batches: what the platform owes cooperatives and households, paid by bank batch transfer (代发)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class PayoutLineStatus(StrEnum):
    IN_TRANSIT = "in_transit"  # in the bank file, not yet confirmed
    PAID = "paid"
    FAILED = "failed"  # the money went back to the payee's payable, for a later batch


class PayoutBatch(db.Model):
    __tablename__ = "payout_batches"
    __table_args__ = (CheckConstraint("period_start <= period_end", name="period_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    lines: Mapped[list[PayoutLine]] = relationship(back_populates="batch", order_by="PayoutLine.id")

    @property
    def reference(self) -> str:
        return f"PB{self.id:06d}"


class PayoutLine(db.Model):
    """One payee in a batch: the payable balance moved to payouts in transit, with the bank details as sent."""

    __tablename__ = "payout_lines"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(sql_in("status", PayoutLineStatus), name="status_known"),
        UniqueConstraint("batch_id", "account_id", name="uq_payout_lines_batch_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperatives.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_name: Mapped[str] = mapped_column(String(80), default="")
    account_name: Mapped[str] = mapped_column(String(120))
    account_number: Mapped[str] = mapped_column(String(34))
    status: Mapped[str] = mapped_column(String(12), default=PayoutLineStatus.IN_TRANSIT)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines")
    events: Mapped[list[PayoutLineEvent]] = relationship(order_by="PayoutLineEvent.id", viewonly=True)


class PayoutLineEvent(db.Model):
    """Every move of a payout line: who recorded the bank's answer, in which capacity, when, from and to which
    status, and the note. Append-only (the ORM and database triggers refuse changes)."""

    __tablename__ = "payout_line_events"
    __table_args__ = (
        CheckConstraint(sql_in("from_status", PayoutLineStatus), name="from_status_known"),
        CheckConstraint(sql_in("to_status", PayoutLineStatus), name="to_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("payout_lines.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20), default="")  # '': recorded before events were kept
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


append_only(PayoutLineEvent, what="payout line events")
