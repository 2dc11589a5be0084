"""Beneficiary households (脱贫户/监测户) and the benefit links (利益联结) that tie them to cooperatives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.regions.models import Region
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class HouseholdStatus(StrEnum):
    REGISTERED_POOR = "registered_poor"  # 建档立卡贫困户
    LIFTED_OUT = "lifted_out"  # 脱贫户
    MONITORED = "monitored"  # 监测户


class LinkType(StrEnum):
    PRODUCE_PURCHASE = "produce_purchase"  # 订单收购
    WAGES = "wages"  # 务工
    DIVIDEND = "dividend"  # 入股分红
    GUARANTEED_RETURN = "guaranteed_return"  # 保底收益


class LinkStatus(StrEnum):
    PROPOSED = "proposed"  # by the cooperative; shares nothing yet
    CONFIRMED = "confirmed"  # by the county reviewer of the household's county; shares income
    REJECTED = "rejected"
    ENDED = "ended"  # no longer shares income from later settlements


# Links that still count: a cooperative cannot propose the same kind of link to a household twice.
ACTIVE_LINK_STATUSES = (LinkStatus.PROPOSED, LinkStatus.CONFIRMED)


class Household(db.Model):
    """One beneficiary household. Name, ID number and payout account are personal data (see masking)."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint(sql_in("status", HouseholdStatus), name="status_known"),
        CheckConstraint("members >= 1", name="members_positive"),
        CheckConstraint("length(id_number) = 18", name="id_number_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registry_number: Mapped[str] = mapped_column(String(32), unique=True)
    head_name: Mapped[str] = mapped_column(String(40))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    township: Mapped[str] = mapped_column(String(60), default="")
    village: Mapped[str] = mapped_column(String(60), default="")
    members: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=HouseholdStatus.LIFTED_OUT)
    # Where subsidies are paid: a bank account or the county's 一卡通 card.
    payout_bank_name: Mapped[str] = mapped_column(String(80), default="")
    payout_account_name: Mapped[str] = mapped_column(String(40), default="")
    payout_account_number: Mapped[str] = mapped_column(String(34), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    county: Mapped[Region] = relationship(lazy="joined", innerjoin=True)


class BenefitLink(db.Model):
    """A cooperative ↔ household link (利益联结) with a type and a weight in the household share of income."""

    __tablename__ = "benefit_links"
    __table_args__ = (
        CheckConstraint(sql_in("link_type", LinkType), name="link_type_known"),
        CheckConstraint(sql_in("status", LinkStatus), name="status_known"),
        CheckConstraint("weight > 0", name="weight_positive"),
        Index(
            "uq_benefit_links_active",
            "cooperative_id",
            "household_id",
            "link_type",
            unique=True,
            postgresql_where=text("status IN ('proposed', 'confirmed')"),
            sqlite_where=text("status IN ('proposed', 'confirmed')"),
        ),
        Index("ix_benefit_links_cooperative_status", "cooperative_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    link_type: Mapped[str] = mapped_column(String(20))
    weight: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default=LinkStatus.PROPOSED)
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    household: Mapped[Household] = relationship()
    # Loaded with the links themselves (one query for a whole list of them).
    events: Mapped[list[BenefitLinkEvent]] = relationship(
        order_by="BenefitLinkEvent.id", lazy="selectin", viewonly=True
    )


class BenefitLinkEvent(db.Model):
    """Every change of a benefit link: who, in which capacity, when, from and to which status, why.

    Append-only (the ORM and database triggers refuse changes): who proposed, confirmed and ended a link stays
    known after it ends, which decided_by_id alone, written at the decision, could not say."""

    __tablename__ = "benefit_link_events"
    __table_args__ = (
        CheckConstraint(sql_in("to_status", LinkStatus), name="to_status_known"),
        CheckConstraint(f"from_status = '' OR {sql_in('from_status', LinkStatus)}", name="from_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("benefit_links.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(12), default="")  # '': the proposal
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20), default="")  # a LinkActor; '': not known (before events)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProductSourcing(db.Model):
    """A product narrowed to some of its cooperative's linked households: only their links share its income.

    A product with no sourcing rows shares with every confirmed link of its cooperative."""

    __tablename__ = "product_sourcing"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)


append_only(BenefitLinkEvent, what="benefit link events")
