"""The double-entry ledger: accounts, journal entries and their postings (docs/ledger.md).

Entries and postings are append-only: the ORM refuses to change them and database triggers refuse UPDATE and
DELETE. On PostgreSQL a statement-level trigger also refuses any inserted entry whose postings do not balance.

What a posting refers to (its entry, account, order line, shipment, benefit link) is checked by a trigger too,
not by foreign keys: PostgreSQL checks a foreign key row by row, five index lookups and row locks per posting,
which made a million-line settlement run (13 million postings) spend most of its time there; a statement-level
trigger checks all the statement's postings with one anti-join per reference (bench/settlement.py,
docs/settlement.md). The rows referred to are never deleted: a trigger refuses DELETE on accounts, order lines,
shipments and benefit links, as it does on entries and postings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.types import UTCDateTime, append_only, sql_in, utcnow


class AccountKind(StrEnum):
    PROVIDER_CLEARING = "provider_clearing"  # asset: money the payment provider holds for us
    BANK = "bank"  # asset: the platform's bank account
    ORDERS_HELD = "orders_held"  # liability: received for order lines not yet settled
    SUSPENSE = "suspense"  # liability: received but matching no order (or not its amount)
    PLATFORM_FEE = "platform_fee"  # revenue
    PROVIDER_FEES = "provider_fees"  # expense: what the payment provider charged
    COOPERATIVE_PAYABLE = "cooperative_payable"  # liability: owed to one cooperative
    HOUSEHOLD_PAYABLE = "household_payable"  # liability: owed to one household
    COOPERATIVE_RECEIVABLE = "cooperative_receivable"  # asset: a claw-back a cooperative's payable could not cover
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"  # liability: in a payout batch, not yet confirmed paid


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


DEBIT_NORMAL = frozenset(
    {
        AccountKind.PROVIDER_CLEARING,
        AccountKind.BANK,
        AccountKind.PROVIDER_FEES,
        AccountKind.COOPERATIVE_RECEIVABLE,
    }
)
# Balances that must never go below zero: what we owe someone, or hold for them.
NEVER_NEGATIVE = (
    AccountKind.ORDERS_HELD,
    AccountKind.COOPERATIVE_PAYABLE,
    AccountKind.HOUSEHOLD_PAYABLE,
    AccountKind.COOPERATIVE_RECEIVABLE,
    AccountKind.PAYOUTS_IN_TRANSIT,
)


def normal_side(kind: str) -> Side:
    return Side.DEBIT if kind in DEBIT_NORMAL else Side.CREDIT


class Part(StrEnum):
    """Which part of a settled line a posting gives or takes back (docs/ledger.md, settlement of a delivered line)."""

    FEE = "fee"
    COOPERATIVE = "cooperative"
    HOUSEHOLD = "household"


class Account(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(sql_in("kind", AccountKind), name="kind_known"),
        CheckConstraint(sql_in("normal_side", Side), name="normal_side_known"),
        CheckConstraint(
            "(kind = 'cooperative_payable' OR kind = 'cooperative_receivable') = (cooperative_id IS NOT NULL)",
            name="cooperative_accounts_name_one",
        ),
        CheckConstraint(
            "(kind = 'household_payable') = (household_id IS NOT NULL)", name="household_accounts_name_one"
        ),
        CheckConstraint(f"balance_fen >= 0 OR NOT {sql_in('kind', NEVER_NEGATIVE)}", name="owed_balances_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 'orders_held', 'cooperative_payable:12', 'household_payable:7': one account per kind and owner.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    normal_side: Mapped[str] = mapped_column(String(6))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    # Cached balance on the normal side, changed only together with postings (ledger check compares them).
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class EntryCode(StrEnum):
    PAYMENT = "payment"
    PAYMENT_SUSPENSE = "payment_suspense"
    REFUND = "refund"
    SUSPENSE_RETURNED = "suspense_returned"
    SETTLE = "settle"
    SETTLE_SHIPPING = "settle_shipping"
    REFUND_SETTLED = "refund_settled"
    OFFSET = "offset"
    PAYOUT = "payout"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_FAILED = "payout_failed"


class JournalEntry(db.Model):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24))
    # What caused it, for people: 'order:12', 'order_line:34', 'refund:5', 'payout_batch:3'.
    reference: Mapped[str] = mapped_column(String(64))
    # Posting the same key twice is a no-op that returns the first entry.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", primaryjoin="JournalEntry.id == foreign(Posting.entry_id)"
    )


class Posting(db.Model):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(sql_in("side", Side), name="side_known"),
        CheckConstraint("part IS NULL OR " + sql_in("part", Part), name="part_known"),
        CheckConstraint("link_id IS NULL OR part = 'household'", name="links_only_on_household_parts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # References checked by the trigger postings_refer_to_existing_rows (module docstring), not foreign keys.
    entry_id: Mapped[int] = mapped_column(index=True)
    account_id: Mapped[int] = mapped_column(index=True)
    side: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # What the money concerns: the order line (and, for a household's part, the benefit link) or the shipment.
    order_line_id: Mapped[int | None] = mapped_column(index=True)
    shipment_id: Mapped[int | None]
    part: Mapped[str | None] = mapped_column(String(12))
    link_id: Mapped[int | None]

    entry: Mapped[JournalEntry] = relationship(
        back_populates="postings", primaryjoin="JournalEntry.id == foreign(Posting.entry_id)"
    )
    account: Mapped[Account] = relationship(primaryjoin="Account.id == foreign(Posting.account_id)")


append_only(JournalEntry, Posting, what="ledger entries and postings")
