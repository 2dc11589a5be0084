from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.regions.models import Region
from shop.types import UTCDateTime, utcnow


class CooperativeKind(StrEnum):
    COOPERATIVE = "cooperative"  # 合作社
    WORKSHOP = "workshop"  # 扶贫车间
    LEADING_ENTERPRISE = "leading_enterprise"  # 龙头企业


class CooperativeStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Cooperative(db.Model):
    __tablename__ = "cooperatives"
    __table_args__ = (
        CheckConstraint("kind IN ('cooperative', 'workshop', 'leading_enterprise')", name="kind_known"),
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
        CheckConstraint("shipping_fee_fen >= 0 AND free_shipping_threshold_fen >= 0", name="shipping_not_negative"),
        CheckConstraint("household_share_bp BETWEEN 0 AND 10000", name="household_share_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(24), default=CooperativeKind.COOPERATIVE)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    description: Mapped[str] = mapped_column(String(2000), default="")
    payout_bank_name: Mapped[str] = mapped_column(String(80), default="")
    payout_account_name: Mapped[str] = mapped_column(String(120), default="")
    payout_account_number: Mapped[str] = mapped_column(String(34), default="")
    # Shipping: a fee for each order's part from this cooperative, waived from a threshold (0: no threshold).
    shipping_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    free_shipping_threshold_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Basis points of each settled line's net amount that go to the linked households (1000 = 10 %).
    household_share_bp: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    status: Mapped[str] = mapped_column(String(12), default=CooperativeStatus.ACTIVE, index=True)
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    county: Mapped[Region] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:
        return self.status == CooperativeStatus.ACTIVE

    def shipping_fee_for(self, items_fen: int) -> int:
        """The fee for an order part worth `items_fen` from this cooperative."""
        if self.free_shipping_threshold_fen and items_fen >= self.free_shipping_threshold_fen:
            return 0
        return self.shipping_fee_fen
