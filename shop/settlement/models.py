"""Settlement runs and the record that each order line (and each shipping fee) was settled, once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.types import UTCDateTime, utcnow


class SettlementRun(db.Model):
    __tablename__ = "settlement_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lines_settled: Mapped[int] = mapped_column(Integer, default=0)
    shipments_settled: Mapped[int] = mapped_column(Integer, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class LineSettlement(db.Model):
    """An order line settled: its primary key is the line, so no line is ever settled twice.

    The weights applied are kept with it; the parts themselves are the postings of its `settle:<line>` entry."""

    __tablename__ = "line_settlements"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint(
            "fee_bp >= 0 AND household_bp >= 0 AND fee_bp + household_bp <= 10000", name="weights_in_range"
        ),
    )

    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("settlement_runs.id"), index=True)
    # The line's paid amount net of refunds made before settlement; 0: settled with no entry.
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fee_bp: Mapped[int] = mapped_column(Integer)
    household_bp: Mapped[int] = mapped_column(Integer)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShipmentSettlement(db.Model):
    """A cooperative's shipping fee of one order, settled to the cooperative alone."""

    __tablename__ = "shipment_settlements"
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount_not_negative"),)

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("settlement_runs.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
