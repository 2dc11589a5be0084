"""Certification of poverty-relief products (扶贫产品认定).

Products and cooperatives are referred to by foreign key only: this package imports nothing from the
shop's commerce (catalogue, orders, payments, ledger); those import certification.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    COUNTY_APPROVED = "county_approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    PUBLIC_NOTICE = "public_notice"
    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


# An application in one of these states is still on its way; a product has at most one at a time.
OPEN_STATES = (State.DRAFT, State.SUBMITTED, State.COUNTY_APPROVED, State.RETURNED, State.PUBLIC_NOTICE)
EDITABLE_STATES = (State.DRAFT, State.RETURNED)


class LinkageType(StrEnum):
    PRODUCE_PURCHASE = "produce_purchase"  # 订单收购
    WAGES = "wages"  # 务工
    DIVIDEND = "dividend"  # 入股分红
    GUARANTEED_RETURN = "guaranteed_return"  # 保底收益


class DocumentKind(StrEnum):
    QUALITY_REPORT = "quality_report"
    OTHER = "other"


class Application(db.Model):
    """One application for one product; its evidence is edited here and frozen in a version at each submit."""

    __tablename__ = "certification_applications"
    __table_args__ = (
        CheckConstraint(sql_in("state", State), name="state_known"),
        CheckConstraint(sql_in("linkage_type", LinkageType), name="linkage_type_known"),
        CheckConstraint("declared_price_fen >= 0 AND market_price_fen >= 0", name="prices_not_negative"),
        CheckConstraint("linked_households >= 0 AND annual_output >= 0", name="counts_not_negative"),
        # At most one application on its way per product (a renewal may start while a certificate is valid).
        Index(
            "uq_certification_applications_open_product",
            "product_id",
            unique=True,
            sqlite_where=text(sql_in("state", OPEN_STATES)),
            postgresql_where=text(sql_in("state", OPEN_STATES)),
        ),
        Index("ix_certification_applications_state_county", "state", "origin_county_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    # Names as they were when the application was last submitted: what the reviewers certified.
    product_name: Mapped[str] = mapped_column(String(120))
    cooperative_name: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20), default=State.DRAFT)
    # The evidence for the three national criteria.
    origin_county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    production_base_address: Mapped[str] = mapped_column(String(200), default="")
    annual_output: Mapped[int] = mapped_column(BigInteger, default=0)
    output_unit: Mapped[str] = mapped_column(String(8), default="kg")
    supply_capacity: Mapped[str] = mapped_column(String(200), default="")
    declared_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    market_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    market_price_source: Mapped[str] = mapped_column(String(200), default="")
    linkage_type: Mapped[str] = mapped_column(String(20), default=LinkageType.PRODUCE_PURCHASE)
    linkage_description: Mapped[str] = mapped_column(Text, default="")
    linked_households: Mapped[int] = mapped_column(Integer, default=0)
    # Set by transitions.
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[Event]] = relationship(back_populates="application", order_by="Event.id")
    versions: Mapped[list[Version]] = relationship(back_populates="application", order_by="Version.number")
    documents: Mapped[list[Document]] = relationship(back_populates="application", order_by="Document.id")
    objections: Mapped[list[Objection]] = relationship(back_populates="application", order_by="Objection.id")
    certificate: Mapped[Certificate | None] = relationship(back_populates="application", uselist=False)

    @property
    def province_code(self) -> str:
        return self.origin_county_code[:2] + "0000"


# The evidence a version freezes, in the order a reviewer reads it.
EVIDENCE_FIELDS = (
    "origin_county_code", "production_base_address", "annual_output", "output_unit", "supply_capacity",
    "declared_price_fen", "market_price_fen", "market_price_source", "linkage_type", "linkage_description",
    "linked_households",
)  # fmt: skip


class Version(db.Model):
    """The evidence as it was submitted, kept for every submission."""

    __tablename__ = "certification_versions"
    __table_args__ = (db.UniqueConstraint("application_id", "number", name="uq_certification_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_applications.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[dict] = mapped_column(JSON)
    document_ids: Mapped[list] = mapped_column(JSON)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="versions")


class Document(db.Model):
    __tablename__ = "certification_documents"
    __table_args__ = (CheckConstraint(sql_in("kind", DocumentKind), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="documents")


class Event(db.Model):
    """One transition: who, in which role, when, from and to which state, why. Never edited or deleted."""

    __tablename__ = "certification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_applications.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the scheduled job
    actor_role: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="events")


class Objection(db.Model):
    __tablename__ = "certification_objections"
    __table_args__ = (CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_applications.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship(back_populates="objections")


class Certificate(db.Model):
    """Issued when an application is certified. Its status is its application's state."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("valid_until >= valid_from", name="validity_ordered"),
        Index("ix_certificates_product_validity", "product_id", "valid_from", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(20), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_applications.id"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # What the certificate says, as printed: it does not change when the product is renamed later.
    product_name: Mapped[str] = mapped_column(String(120))
    cooperative_name: Mapped[str] = mapped_column(String(120))
    origin_county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="certificate", lazy="joined")

    @property
    def status(self) -> str:
        return self.application.state


class CertificateSequence(db.Model):
    """The last certificate number issued per province and year (FP13-2026-000042)."""

    __tablename__ = "certificate_sequences"

    province_prefix: Mapped[str] = mapped_column(String(2), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class CalendarDay(db.Model):
    """An exception to the Monday–Friday week: a public holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(40), default="")


append_only(Event, what="certification events")
