"""What settlement did, for people: a household's ledger (一户一台账) and a cooperative's settled income."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.cooperatives.models import Cooperative
from shop.errors import NotAllowed, NotFound
from shop.extensions import db
from shop.households.models import BenefitLink, Household
from shop.households.privacy import can_see_personal_data, mask_name
from shop.ledger.models import Account, AccountKind, EntryCode, JournalEntry, Posting, Side
from shop.orders.models import OrderLine
from shop.payouts.models import PayoutLine, PayoutLineStatus
from shop.references import order_reference
from shop.timeutil import business_date


@dataclass(frozen=True)
class LedgerRow:
    """One amount in a household's ledger: positive when the household earned, negative when it gave back or
    was paid out (paid out moves it off the payable, to the bank)."""

    entry_id: int
    day: date
    code: str
    amount_fen: int
    order_reference: str
    product_name: str
    cooperative_name: str
    link_type: str
    payout_status: str = ""  # PayoutLineStatus of the payout line, on payout and failed-payout rows only


@dataclass
class HouseholdLedger:
    """earned = balance (still owed) + in transit (in a batch, the bank has not confirmed) + paid out (confirmed)."""

    household: Household
    rows: list[LedgerRow]
    balance_fen: int
    earned_fen: int = 0
    paid_out_fen: int = 0  # only what the bank confirmed paid
    in_transit_fen: int = 0
    by_month: dict[str, int] = field(default_factory=dict)
    by_source: dict[tuple[str, str], int] = field(default_factory=dict)  # (cooperative, link type) → fen


PAYOUT_CODES = (EntryCode.PAYOUT, EntryCode.PAYOUT_FAILED)


def may_see_household_ledger(user: User | None, household: Household) -> bool:
    """County reviewers of the household's county and operators: the people who see its personal data."""
    return can_see_personal_data(user, household)


def household_ledger(user: User, household_id: int) -> HouseholdLedger:
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound(_("No such household."))
    if not may_see_household_ledger(user, household):
        raise NotAllowed(_("Only the county reviewers of this household's county and operators see its ledger."))
    account = db.session.scalar(
        select(Account).where(Account.kind == AccountKind.HOUSEHOLD_PAYABLE, Account.household_id == household_id)
    )
    if account is None:
        return HouseholdLedger(household, [], 0)
    found = db.session.execute(
        select(
            JournalEntry.id,
            JournalEntry.created_at,
            JournalEntry.code,
            JournalEntry.reference,
            Posting.side,
            Posting.amount_fen,
            OrderLine.order_id,
            OrderLine.product_name,
            OrderLine.cooperative_name,
            BenefitLink.link_type,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(OrderLine, OrderLine.id == Posting.order_line_id)
        .outerjoin(BenefitLink, BenefitLink.id == Posting.link_id)
        .where(Posting.account_id == account.id)
        .order_by(JournalEntry.created_at, JournalEntry.id, Posting.id)
    ).all()
    # A payout entry only moves the balance into payouts in transit: whether the bank paid is on the batch's line.
    payout_lines = db.session.execute(
        select(PayoutLine.batch_id, PayoutLine.status, PayoutLine.amount_fen).where(PayoutLine.account_id == account.id)
    ).all()
    payout_status = {f"payout_batch:{batch_id}": status for batch_id, status, _amount in payout_lines}
    ledger = HouseholdLedger(household, [], account.balance_fen)
    for _batch_id, status, amount in payout_lines:
        if status == PayoutLineStatus.PAID:
            ledger.paid_out_fen += amount
        elif status == PayoutLineStatus.IN_TRANSIT:
            ledger.in_transit_fen += amount
    by_month: dict[str, int] = defaultdict(int)
    by_source: dict[tuple[str, str], int] = defaultdict(int)
    for entry_id, at, code, reference, side, amount, order_id, product, cooperative, link_type in found:
        signed = amount if side == Side.CREDIT else -amount
        row = LedgerRow(
            entry_id=entry_id,
            day=business_date(at),
            code=code,
            amount_fen=signed,
            order_reference=order_reference(order_id) if order_id else "",
            product_name=product or "",
            cooperative_name=cooperative or "",
            link_type=link_type or "",
            payout_status=payout_status.get(reference, "") if code in PAYOUT_CODES else "",
        )
        ledger.rows.append(row)
        if code in (EntryCode.SETTLE, EntryCode.REFUND_SETTLED):
            ledger.earned_fen += signed
            by_month[row.day.strftime("%Y-%m")] += signed
            by_source[(row.cooperative_name, row.link_type)] += signed
    ledger.by_month = dict(sorted(by_month.items()))
    ledger.by_source = dict(sorted(by_source.items()))
    return ledger


@dataclass(frozen=True)
class SettledLine:
    day: date
    order_reference: str
    product_name: str
    amount_fen: int  # the settled (net) amount of the line
    fee_fen: int
    cooperative_fen: int
    households_fen: int


@dataclass(frozen=True)
class HouseholdIncome:
    household_id: int
    name: str  # masked unless the viewer may see personal data
    village: str
    amount_fen: int


@dataclass
class CooperativeSettlements:
    cooperative: Cooperative
    lines: list[SettledLine]
    households: list[HouseholdIncome]
    payable_fen: int
    receivable_fen: int
    shipping_fen: int
    payouts_in_transit_fen: int = 0  # in a payout batch, the bank has not confirmed it
    paid_out_fen: int = 0  # payouts the bank confirmed
    total_fen: int = 0
    cooperative_fen: int = 0
    households_fen: int = 0


def may_see_cooperative_settlements(user: User | None, cooperative_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.has_role(Role.OPERATOR) or cooperative_id in user.cooperative_ids()


def cooperative_settlements(user: User, cooperative_id: int, limit: int = 500) -> CooperativeSettlements:
    """The cooperative's settled lines (newest first), what each gave to whom, and the households it supported."""
    cooperative = db.session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound(_("No such cooperative."))
    if not may_see_cooperative_settlements(user, cooperative_id):
        raise NotAllowed(_("Only this cooperative's staff and operators see its settlements."))
    parts = db.session.execute(
        select(
            JournalEntry.id,
            JournalEntry.created_at,
            OrderLine.order_id,
            OrderLine.product_name,
            Posting.part,
            Posting.amount_fen,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(OrderLine, OrderLine.id == JournalEntry.order_line_id)
        .where(
            JournalEntry.code == EntryCode.SETTLE,
            OrderLine.cooperative_id == cooperative_id,
            Posting.side == Side.CREDIT,
        )
        .order_by(JournalEntry.id.desc())
    ).all()
    by_entry: dict[int, dict] = {}
    for entry_id, at, order_id, product, part, amount in parts:
        line = by_entry.setdefault(
            entry_id,
            {
                "day": business_date(at),
                "order": order_reference(order_id),
                "product": product,
                "fee": 0,
                "cooperative": 0,
                "household": 0,
            },
        )
        line[part] += amount
    lines = [
        SettledLine(
            day=v["day"],
            order_reference=v["order"],
            product_name=v["product"],
            amount_fen=v["fee"] + v["cooperative"] + v["household"],
            fee_fen=v["fee"],
            cooperative_fen=v["cooperative"],
            households_fen=v["household"],
        )
        for v in by_entry.values()
    ]
    households = _household_income(user, cooperative_id)
    balances = dict(
        db.session.execute(
            select(Account.kind, Account.balance_fen).where(Account.cooperative_id == cooperative_id)
        ).all()
    )
    shipping = db.session.scalar(
        select(db.func.coalesce(db.func.sum(Posting.amount_fen), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(JournalEntry.code == EntryCode.SETTLE_SHIPPING, Account.cooperative_id == cooperative_id)
    )
    report = CooperativeSettlements(
        cooperative=cooperative,
        lines=lines[:limit],
        households=households,
        payable_fen=balances.get(AccountKind.COOPERATIVE_PAYABLE, 0),
        receivable_fen=balances.get(AccountKind.COOPERATIVE_RECEIVABLE, 0),
        shipping_fen=int(shipping),
    )
    payouts = dict(
        db.session.execute(
            select(PayoutLine.status, db.func.sum(PayoutLine.amount_fen))
            .where(PayoutLine.cooperative_id == cooperative_id)
            .group_by(PayoutLine.status)
        ).all()
    )
    report.payouts_in_transit_fen = int(payouts.get(PayoutLineStatus.IN_TRANSIT, 0))
    report.paid_out_fen = int(payouts.get(PayoutLineStatus.PAID, 0))
    report.total_fen = sum(line.amount_fen for line in lines)
    report.cooperative_fen = sum(line.cooperative_fen for line in lines)
    report.households_fen = sum(line.households_fen for line in lines)
    return report


def _household_income(user: User, cooperative_id: int) -> list[HouseholdIncome]:
    """What the cooperative's sales gave each household, net of refunds (names masked for the cooperative)."""
    rows = db.session.execute(
        select(
            Household.id,
            Household.head_name,
            Household.village,
            Household.county_code,
            Posting.side,
            db.func.sum(Posting.amount_fen),
        )
        .join(BenefitLink, BenefitLink.id == Posting.link_id)
        .join(Household, Household.id == BenefitLink.household_id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            BenefitLink.cooperative_id == cooperative_id,
            JournalEntry.code.in_([EntryCode.SETTLE, EntryCode.REFUND_SETTLED]),
        )
        .group_by(Household.id, Household.head_name, Household.village, Household.county_code, Posting.side)
    ).all()
    totals: dict[int, list] = {}
    for household_id, name, village, county, side, amount in rows:
        visible = can_see_personal_data(user, _County(county))
        entry = totals.setdefault(household_id, [name if visible else mask_name(name), village, 0])
        entry[2] += int(amount) if side == Side.CREDIT else -int(amount)
    return [
        HouseholdIncome(household_id, name, village, amount)
        for household_id, (name, village, amount) in sorted(totals.items())
    ]


@dataclass(frozen=True)
class _County:
    county_code: str
