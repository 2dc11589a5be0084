"""Settlement: moving paid, delivered order lines out of money held into fee, cooperative and households; and
reversing what a line gave when it is refunded after settlement (docs/ledger.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, text

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.errors import ValidationFailed
from shop.extensions import db
from shop.ledger import services as ledger
from shop.ledger.models import AccountKind, EntryCode, JournalEntry, Part, Posting, Side
from shop.orders.models import OrderLine, Refund
from shop.settlement import sql
from shop.settlement.models import LineSettlement, SettlementRun, ShipmentSettlement
from shop.settlement.rules import BASIS_POINTS, fee_and_share_fit, split_reversal
from shop.settlement.shares import platform_fee_bp
from shop.types import UTCDateTime, utcnow

_TIMES = ("now", "cutoff")


def _execute(statement: str, params: dict):
    clause = text(statement)
    present = {name: value for name, value in params.items() if f":{name}" in statement}
    clause = clause.bindparams(*(bindparam(name, type_=UTCDateTime()) for name in _TIMES if name in present))
    return db.session.execute(clause, present)


def settle_due(actor: User | None = None, now: datetime | None = None) -> SettlementRun:
    """Settle every line (and shipping fee) delivered longer ago than the refund window, with no refund open.

    Set-based: a few INSERT … SELECT statements, whatever the number of lines. Each line is settled once: the
    ledger lock serialises runs, and line_settlements' primary key refuses a second settlement of a line."""
    now = now or utcnow()
    fee_bp = platform_fee_bp()
    _refuse_shares_above_the_whole(fee_bp)
    ledger.lock_ledger()
    run = SettlementRun(started_by_id=actor.id if actor else None, started_at=now)
    db.session.add(run)
    db.session.flush()
    params = {
        "run": run.id,
        "now": now,
        "cutoff": now - timedelta(days=current_app.config["REFUND_WINDOW_DAYS"]),
        "fee_bp": fee_bp,
        "orders_held": ledger.account_id(AccountKind.ORDERS_HELD),
        "platform_fee": ledger.account_id(AccountKind.PLATFORM_FEE),
    }
    analyse = db.session.get_bind().dialect.name == "postgresql"
    for statement in (*sql.DROP_STAGES, *sql.CREATE_STAGES):
        _execute(statement, params)
    due = _execute(sql.FIND_DUE_LINES, params).rowcount
    if due and analyse:
        _execute(sql.ANALYZE_DUE, params)
    claimed = _execute(sql.CLAIM_LINES, params).rowcount if due else 0
    claimed += _execute(sql.CLAIM_SHIPMENTS, params).rowcount
    # Nothing claimed (the usual case between runs): nothing to write, no statistics to refresh.
    if claimed:
        for statement in (
            sql.OPEN_ACCOUNTS,
            sql.WRITE_ENTRIES,
            sql.ANALYZE_CLAIMED if analyse else None,
            sql.SPLIT_LINES,
            sql.ANALYZE_LINES if analyse else None,
            sql.SPLIT_LINKS,
            sql.ANALYZE_LINKS if analyse else None,
            sql.WRITE_POSTINGS,
            sql.MOVE_BALANCES,
            sql.MARK_SHIPMENTS,
            sql.ANALYZE_SHIPMENTS if analyse else None,
        ):
            if statement:
                _execute(statement, params)
    for statement in sql.DROP_STAGES:
        _execute(statement, params)
    run.lines_settled, lines_fen = db.session.execute(
        select(func.count(), func.coalesce(func.sum(LineSettlement.amount_fen), 0)).where(
            LineSettlement.run_id == run.id
        )
    ).one()
    run.shipments_settled, shipping_fen = db.session.execute(
        select(func.count(), func.coalesce(func.sum(ShipmentSettlement.amount_fen), 0)).where(
            ShipmentSettlement.run_id == run.id
        )
    ).one()
    run.amount_fen = int(lines_fen + shipping_fen)  # PostgreSQL's sum() of bigint is numeric
    _offset_receivables(run.id)
    db.session.flush()
    return run


def _refuse_shares_above_the_whole(fee_bp: int) -> None:
    """The platform fee plus a household share must leave the cooperative ≥ 0: refuse the whole run, clearly,
    when PLATFORM_FEE_BP was raised above what a cooperative or product share allows."""
    if not fee_and_share_fit(fee_bp, 0):
        raise ValidationFailed.on("PLATFORM_FEE_BP", _("The platform fee must be 0 to 10000 basis points."))
    limit = BASIS_POINTS - fee_bp  # fee_and_share_fit(fee_bp, share) as a condition on the share column
    too_high = (
        db.session.scalars(
            select(Cooperative.name).where(Cooperative.household_share_bp > limit).order_by(Cooperative.id).limit(5)
        ).all()
        + db.session.scalars(
            select(Product.name).where(Product.household_share_bp > limit).order_by(Product.id).limit(5)
        ).all()
    )
    if too_high:
        raise ValidationFailed.on(
            "household_share_bp",
            _(
                "The platform fee (%(fee)d bp) plus the household share of %(names)s exceeds 10000 bp: lower the share "
                "or the fee before settling.",
                fee=fee_bp,
                names="、".join(too_high),
            ),
        )


def _offset_receivables(run_id: int) -> None:
    """A cooperative that owes a claw-back and has earned again pays it back from what it earned."""
    from shop.ledger.models import Account

    owing = (
        db.session.execute(
            select(Account.cooperative_id)
            .where(Account.kind == AccountKind.COOPERATIVE_RECEIVABLE, Account.balance_fen > 0)
            .order_by(Account.cooperative_id)
        )
        .scalars()
        .all()
    )
    for cooperative_id in owing:
        payable = ledger.account_id(AccountKind.COOPERATIVE_PAYABLE, cooperative_id=cooperative_id)
        receivable = ledger.account_id(AccountKind.COOPERATIVE_RECEIVABLE, cooperative_id=cooperative_id)
        balances = ledger.lock_accounts([payable, receivable])
        amount = min(balances[payable], balances[receivable])
        if amount > 0:
            ledger.post(
                EntryCode.OFFSET,
                f"offset:settlement_run:{run_id}:cooperative:{cooperative_id}",
                f"settlement_run:{run_id}",
                [
                    ledger.Leg(payable, Side.DEBIT, amount),
                    ledger.Leg(receivable, Side.CREDIT, amount),
                ],
                memo="claw-back offset against new income",
            )


# --- Refunds -----------------------------------------------------------------------------------------------


@dataclass
class _HeldPart:
    """What one part of a settled line still holds: given at settlement, minus what refunds took back."""

    part: str
    link_id: int | None
    household_id: int | None
    account_id: int
    remaining_fen: int


def _part_order(part: _HeldPart) -> tuple:
    rank = {Part.FEE: 0, Part.HOUSEHOLD: 1, Part.COOPERATIVE: 2}[part.part]
    return (rank, part.household_id or 0, part.link_id or 0)


def held_parts(order_line_id: int) -> list[_HeldPart]:
    """The parts of a settled line in the split's order (fee, households by household and link id, cooperative)."""
    from shop.ledger.models import Account

    given = db.session.execute(
        select(Posting.part, Posting.link_id, Account.household_id, Posting.account_id, Posting.amount_fen)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            Posting.order_line_id == order_line_id,
            JournalEntry.code == EntryCode.SETTLE,
            Posting.side == Side.CREDIT,
        )
    ).all()
    taken = {
        (part, link_id): amount
        for part, link_id, amount in db.session.execute(
            select(Posting.part, Posting.link_id, func.sum(Posting.amount_fen))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(
                Posting.order_line_id == order_line_id,
                JournalEntry.code == EntryCode.REFUND_SETTLED,
                Posting.side == Side.DEBIT,
            )
            .group_by(Posting.part, Posting.link_id)
        )
    }
    parts = [
        _HeldPart(part, link_id, household_id, account, int(amount - (taken.get((part, link_id)) or 0)))
        for part, link_id, household_id, account, amount in given
    ]
    return sorted(parts, key=_part_order)


def post_refund(refund: Refund) -> None:
    """Record a refund that the provider made, line by line: before settlement it leaves money held; after
    settlement it takes back from the line's parts (docs/ledger.md, refund of a settled line)."""
    ledger.lock_ledger()  # first: a settlement run cannot settle these lines while their refund is posted
    clearing = ledger.account_id(AccountKind.PROVIDER_CLEARING)
    for refund_line in refund.lines:
        line = db.session.get(OrderLine, refund_line.order_line_id)
        key = f"refund:{refund.id}:{line.id}"
        common = {"order_id": line.order_id, "order_line_id": line.id}
        if db.session.get(LineSettlement, line.id) is None:
            ledger.post(
                EntryCode.REFUND,
                key,
                f"refund:{refund.id}",
                [
                    ledger.Leg(ledger.account_id(AccountKind.ORDERS_HELD), Side.DEBIT, refund_line.amount_fen, line.id),
                    ledger.Leg(clearing, Side.CREDIT, refund_line.amount_fen, line.id),
                ],
                **common,
            )
        else:
            legs = _take_back(line, refund_line.amount_fen)
            legs.append(ledger.Leg(clearing, Side.CREDIT, refund_line.amount_fen, line.id))
            ledger.post(EntryCode.REFUND_SETTLED, key, f"refund:{refund.id}", legs, **common)


def _take_back(line: OrderLine, amount_fen: int) -> list[ledger.Leg]:
    """The debits that reverse `amount_fen` of a settled line. A household that was already paid out gives
    back what it still has; the rest comes from the cooperative's payable, then becomes its receivable."""
    parts = [part for part in held_parts(line.id) if part.remaining_fen > 0]
    shares = split_reversal(amount_fen, [part.remaining_fen for part in parts])
    payable = ledger.account_id(AccountKind.COOPERATIVE_PAYABLE, cooperative_id=line.cooperative_id)
    balances = ledger.lock_accounts([payable, *(p.account_id for p in parts if p.part == Part.HOUSEHOLD)])
    legs: list[ledger.Leg] = []

    def from_cooperative(amount: int, part: str, link_id: int | None) -> None:
        covered = min(amount, balances[payable])
        balances[payable] -= covered
        if covered:
            legs.append(ledger.Leg(payable, Side.DEBIT, covered, line.id, part=part, link_id=link_id))
        if amount - covered:
            receivable = ledger.account_id(AccountKind.COOPERATIVE_RECEIVABLE, cooperative_id=line.cooperative_id)
            legs.append(ledger.Leg(receivable, Side.DEBIT, amount - covered, line.id, part=part, link_id=link_id))

    # The cooperative's own part first, then households' shortfalls, so the order is the same every time.
    for part, share in sorted(zip(parts, shares, strict=True), key=lambda pair: pair[0].part != Part.COOPERATIVE):
        if share == 0:
            continue
        if part.part == Part.FEE:
            legs.append(ledger.Leg(part.account_id, Side.DEBIT, share, line.id, part=Part.FEE))
        elif part.part == Part.COOPERATIVE:
            from_cooperative(share, Part.COOPERATIVE, None)
        else:
            own = min(share, balances[part.account_id])
            balances[part.account_id] -= own
            if own:
                legs.append(
                    ledger.Leg(part.account_id, Side.DEBIT, own, line.id, part=Part.HOUSEHOLD, link_id=part.link_id)
                )
            if share - own:
                from_cooperative(share - own, Part.HOUSEHOLD, part.link_id)
    return legs


def _post_paid_back_refund(_sender, refund: Refund) -> str:
    post_refund(refund)
    return "posted"


def connect_signals() -> None:
    """Hear what orders announce (called once by the app factory; connecting again changes nothing): settlement
    posts the reversal of every refund paid back, so orders import no settlement."""
    from shop.orders.signals import refund_paid_back

    refund_paid_back.connect(_post_paid_back_refund)
