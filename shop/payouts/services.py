"""Payout batches (代发): what is owed to cooperatives and households, moved into payouts in transit when the
batch is made (so no later batch can include it again), then confirmed paid or failed line by line."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.cooperatives.models import Cooperative
from shop.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.households.models import Household
from shop.ledger import services as ledger
from shop.ledger.models import Account, AccountKind, EntryCode, Side
from shop.payouts.models import PayoutBatch, PayoutLine, PayoutLineEvent, PayoutLineStatus
from shop.payouts.rules import ACTION_FOR_OUTCOME, PAYOUT_LINE_TRANSITIONS
from shop.types import utcnow
from shop.web.downloads import yuan_cell
from shop.workflow import Applied, Workflow, apply_move


def _record_line_move(applied: Applied) -> PayoutLineEvent:
    """The event of a payout line's move: who, in which capacity, when, from, to, why."""
    return PayoutLineEvent(
        line_id=applied.row.id,
        from_status=applied.origin,
        to_status=applied.to,
        actor_id=applied.actor.id if applied.actor is not None else None,
        actor_role=applied.capacity,
        note=applied.reason,
        at=applied.at,
    )


PAYOUT_LINE_WORKFLOW = Workflow(
    "payout_line",
    PayoutLine,
    PAYOUT_LINE_TRANSITIONS,
    record=_record_line_move,
    refusal=lambda action: _("Only platform operators handle payouts."),
)
OPERATOR_CAPACITY = frozenset({"operator"})  # record_outcomes is for operators only (checked first)


def _require_operator(user: User) -> None:
    if not user.has_role(Role.OPERATOR):
        raise NotAllowed(_("Only platform operators handle payouts."))


def create_batch(operator: User, period_start: date, period_end: date) -> PayoutBatch:
    """A batch paying every cooperative and household payable balance with a payout account on file.

    Each balance moves to payouts in transit in the same transaction (under the ledger lock), so a second batch
    finds nothing left to pay, and a refund arriving later finds the payable as it now is."""
    _require_operator(operator)
    if period_start > period_end:
        raise ValidationFailed.on("period_end", _("The period ends before it starts."))
    ledger.lock_ledger()
    owed = (
        db.session.execute(
            select(Account)
            .where(
                Account.kind.in_([AccountKind.COOPERATIVE_PAYABLE, AccountKind.HOUSEHOLD_PAYABLE]),
                Account.balance_fen > 0,
            )
            .order_by(Account.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    batch = PayoutBatch(period_start=period_start, period_end=period_end, created_by_id=operator.id)
    db.session.add(batch)
    db.session.flush()
    in_transit = ledger.account_id(AccountKind.PAYOUTS_IN_TRANSIT)
    for account in owed:
        payee = _payee(account)
        if payee is None:  # no bank account on file: the balance waits for a later batch
            continue
        line = PayoutLine(batch_id=batch.id, account_id=account.id, amount_fen=account.balance_fen, **payee)
        db.session.add(line)
        ledger.post(
            EntryCode.PAYOUT,
            f"payout:{batch.id}:{account.id}",
            f"payout_batch:{batch.id}",
            [
                ledger.Leg(account.id, Side.DEBIT, line.amount_fen),
                ledger.Leg(in_transit, Side.CREDIT, line.amount_fen),
            ],
            created_by_id=operator.id,
        )
        batch.total_fen += line.amount_fen
    db.session.flush()
    return batch


def _payee(account: Account) -> dict | None:
    if account.cooperative_id is not None:
        owner = db.session.get(Cooperative, account.cooperative_id)
        bank, name, number = (
            owner.payout_bank_name,
            owner.payout_account_name or owner.name,
            owner.payout_account_number,
        )
    else:
        owner = db.session.get(Household, account.household_id)
        bank, name, number = (
            owner.payout_bank_name,
            owner.payout_account_name or owner.head_name,
            owner.payout_account_number,
        )
    if not number:
        return None
    return {
        "cooperative_id": account.cooperative_id,
        "household_id": account.household_id,
        "bank_name": bank,
        "account_name": name,
        "account_number": number,
    }


def get_batch(operator: User, batch_id: int) -> PayoutBatch:
    _require_operator(operator)
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(_("No such payout batch."))
    return batch


def list_batches(operator: User) -> list[PayoutBatch]:
    _require_operator(operator)
    return db.session.scalars(select(PayoutBatch).order_by(PayoutBatch.id.desc())).all()


def record_outcomes(operator: User, batch_id: int, outcomes: dict[int, str], note: str = "") -> PayoutBatch:
    """The bank's answer: each line paid (in transit → bank) or failed (in transit → back to the payable).

    A line is decided once (its move by shop.workflow, a conditional UPDATE with an event), so the same amount
    can never be paid twice."""
    batch = get_batch(operator, batch_id)
    known = {line.id: line for line in batch.lines}
    unknown = sorted(set(outcomes) - set(known))
    if unknown:
        raise ValidationFailed.on("lines", _("These lines are not in this batch: %(ids)s", ids=unknown))
    bad = sorted(
        i for i, outcome in outcomes.items() if outcome not in (PayoutLineStatus.PAID, PayoutLineStatus.FAILED)
    )
    if bad:
        raise ValidationFailed.on("lines", _("An outcome is 'paid' or 'failed'."))
    ledger.lock_ledger()
    in_transit = ledger.account_id(AccountKind.PAYOUTS_IN_TRANSIT)
    bank = ledger.account_id(AccountKind.BANK)
    for line_id in sorted(outcomes):
        line, outcome = known[line_id], outcomes[line_id]
        _record_outcome(line, outcome, operator, note)
        code, target = (
            (EntryCode.PAYOUT_PAID, bank)
            if outcome == PayoutLineStatus.PAID
            else (EntryCode.PAYOUT_FAILED, line.account_id)
        )
        ledger.post(
            code,
            f"{code}:{batch.id}:{line.account_id}",
            f"payout_batch:{batch.id}",
            [ledger.Leg(in_transit, Side.DEBIT, line.amount_fen), ledger.Leg(target, Side.CREDIT, line.amount_fen)],
            created_by_id=operator.id,
            memo=note,
        )
    db.session.flush()
    db.session.expire(batch)
    return batch


def _record_outcome(line: PayoutLine, outcome: str, operator: User, note: str) -> None:
    """Move one line by the bank's answer (shop.workflow: a conditional UPDATE and an event), once: a line
    already recorded, also by someone else just now, is refused, so the same amount is never paid twice."""
    try:
        apply_move(
            PAYOUT_LINE_WORKFLOW,
            line,
            ACTION_FOR_OUTCOME[PayoutLineStatus(outcome)],
            actor=operator,
            capacities=OPERATOR_CAPACITY,
            reason=note,
            note=note,
            decided_at=utcnow(),
        )
    except InvalidTransition:
        raise InvalidTransition(_("Payout line %(id)s was already recorded as paid or failed.", id=line.id)) from None


def mark_all_paid(operator: User, batch_id: int, note: str = "") -> PayoutBatch:
    batch = get_batch(operator, batch_id)
    waiting = {line.id: PayoutLineStatus.PAID for line in batch.lines if line.status == PayoutLineStatus.IN_TRANSIT}
    if not waiting:
        raise InvalidTransition(_("Every line of this batch is already recorded."))
    return record_outcomes(operator, batch_id, waiting, note)


CSV_HEADER = ["序号", "户名", "账号", "开户行", "金额（元）", "用途"]


def batch_file_rows(batch: PayoutBatch) -> list[list]:
    """The bank's batch transfer file (代发): account name, number, bank, amount in yuan with two decimals, memo.

    Rows for `shop.web.downloads.csv_download`, which neutralises any cell a spreadsheet would run as a formula
    (the operator opens this file before sending it to the bank; account names are typed by cooperatives).
    """
    memo = f"扶贫产品收益 {batch.reference} {batch.period_start:%Y%m%d}-{batch.period_end:%Y%m%d}"
    rows: list[list] = [CSV_HEADER]
    for number, line in enumerate(batch.lines, start=1):
        if line.status != PayoutLineStatus.IN_TRANSIT:
            continue
        rows.append([number, line.account_name, line.account_number, line.bank_name, yuan_cell(line.amount_fen), memo])
    return rows
