"""Buyer organizations (government units, public institutions, state-owned enterprises) and their people.

An organization buys in bulk (以购代捐, 预留份额: shop/bulk/). Its people hold organization roles (admin, purchaser,
approver) as `UserRole` rows that name it; staff who link a personal account to it with its invitation code are
`StaffLinks`, so their own purchases count toward its reserved share (shown separately). Each fiscal year has a
canteen food budget and a required share, so a target.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.regions.models import Region
from shop.types import UTCDateTime, sql_in, utcnow

# The national floor of the reserved share, in basis points (财库〔2021〕19号: at least 10%).
NATIONAL_SHARE_BP = 1000


class OrganizationKind(StrEnum):
    GOVERNMENT_AGENCY = "government_agency"  # 党政机关
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位
    STATE_OWNED_ENTERPRISE = "state_owned_enterprise"  # 国有企业
    OTHER = "other"


class CanteenStatus(StrEnum):
    OWN = "own"  # 自有食堂
    OUTSOURCED = "outsourced"  # 外包食堂: the quota stays
    NONE = "none"  # 无食堂: declared, no quota


class ShareSource(StrEnum):
    """Where a year's required share comes from."""

    NATIONAL = "national"  # the national floor, 10%
    PROVINCE = "province"  # the province's default, set by an operator (Hubei 15%, Guangdong 30%)
    APPROVED_LOWER = "approved_lower"  # a lower share the finance department approved (with its document)
    NO_CANTEEN = "no_canteen"  # no canteen: no quota
    FILED_BY_ANOTHER = "filed_by_another"  # a shared canteen: another unit files for this one


class Organization(db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(sql_in("kind", OrganizationKind), name="kind_known"),
        CheckConstraint(sql_in("canteen_status", CanteenStatus), name="canteen_status_known"),
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
        CheckConstraint("second_approval_above_fen IS NULL OR second_approval_above_fen >= 0", name="threshold_ok"),
        CheckConstraint("filing_unit_id IS NULL OR filing_unit_id <> id", name="files_not_for_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码 (stdnum.cn.uscc)
    kind: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    canteen_status: Mapped[str] = mapped_column(String(12), default=CanteenStatus.OWN)
    # Units sharing a canteen name one unit that files for all (None: it files for itself).
    filing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Bulk orders above this amount need a second approver (None: one approver is always enough).
    second_approval_above_fen: Mapped[int | None] = mapped_column(BigInteger)
    # What staff type to link their personal account to the unit (random, replaceable by the unit's admin).
    invitation_code: Mapped[str] = mapped_column(String(16), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    region: Mapped[Region] = relationship(lazy="joined", innerjoin=True)
    filing_unit: Mapped[Organization | None] = relationship(remote_side=[id])


class OrganizationYear(db.Model):
    """An organization's fiscal year: its canteen food budget and the share of it reserved for 832 produce."""

    __tablename__ = "organization_years"
    __table_args__ = (
        UniqueConstraint("organization_id", "year", name="uq_organization_years_org_year"),
        CheckConstraint("canteen_food_budget_fen >= 0", name="budget_not_negative"),
        CheckConstraint("required_share_bp BETWEEN 0 AND 10000", name="share_in_range"),
        CheckConstraint(sql_in("share_source", ShareSource), name="share_source_known"),
        CheckConstraint("year BETWEEN 2000 AND 2999", name="year_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    canteen_food_budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    required_share_bp: Mapped[int] = mapped_column(Integer, default=NATIONAL_SHARE_BP)
    share_source: Mapped[str] = mapped_column(String(20), default=ShareSource.NATIONAL)
    # For an approved lower share: the finance department's approval (document number and date, as written).
    approval_document: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()

    @property
    def target_fen(self) -> int:
        """The year's reserved-share target: the budget times the share, rounded up to the fen ("at least")."""
        return -(-self.canteen_food_budget_fen * self.required_share_bp // 10000)


class ProvinceShare(db.Model):
    """A province's default reserved share, above the national floor (湖北 15%, 广东 30% from 2025)."""

    __tablename__ = "province_shares"
    __table_args__ = (CheckConstraint("share_bp BETWEEN 0 AND 10000", name="share_in_range"),)

    province_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    share_bp: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class OrganizationInvitation(db.Model):
    """An e-mailed invitation to join an organization in a role: a link that expires and works once. Only the
    token's SHA-256 digest is stored."""

    __tablename__ = "organization_invitations"
    __table_args__ = (CheckConstraint("role IN ('org_admin', 'org_purchaser', 'org_approver')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()


class StaffLink(db.Model):
    """A member of staff's personal account linked to their unit: their own purchases count toward its share.
    A person is linked to one unit at a time; an ended link stays as history."""

    __tablename__ = "organization_staff_links"
    __table_args__ = (
        Index(
            "uq_staff_links_one_current",
            "user_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()
