"""Posting to the ledger: one function writes an entry, and it refuses anything that does not balance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from shop.extensions import db
from shop.ledger.models import Account, AccountKind, EntryCode, JournalEntry, Posting, Side, normal_side
from shop.types import insert_ignoring_duplicates, utcnow


class UnbalancedEntry(ValueError):
    """A programming error: an entry whose debits and credits differ, or with a posting that is not > 0."""


@dataclass(frozen=True)
class Leg:
    """One posting of an entry about to be written."""

    account_id: int
    side: Side
    amount_fen: int
    order_line_id: int | None = None
    shipment_id: int | None = None
    part: str | None = None
    link_id: int | None = None


def account_key(kind: str, cooperative_id: int | None = None, household_id: int | None = None) -> str:
    owner = cooperative_id if cooperative_id is not None else household_id
    return kind if owner is None else f"{kind}:{owner}"


def account_id(kind: AccountKind, *, cooperative_id: int | None = None, household_id: int | None = None) -> int:
    """The account of this kind (and owner), opened on first use."""
    key = account_key(kind, cooperative_id, household_id)
    found = db.session.scalar(select(Account.id).where(Account.key == key))
    if found is not None:
        return found
    db.session.execute(
        insert_ignoring_duplicates(Account, ["key"]).values(
            key=key,
            kind=kind,
            normal_side=normal_side(kind),
            cooperative_id=cooperative_id,
            household_id=household_id,
            balance_fen=0,
        )
    )
    return db.session.scalar(select(Account.id).where(Account.key == key))


def lock_ledger() -> None:
    """Take the ledger's lock (the orders_held account row) until the transaction ends.

    Every path that posts takes it first, so postings, settlement runs and payout batches never interleave and
    never deadlock on account rows; each holds it only for its own short transaction. (SQLite serialises
    writers anyway.)"""
    held = account_id(AccountKind.ORDERS_HELD)
    db.session.execute(select(Account.id).where(Account.id == held).with_for_update())


def check_balanced(legs: Iterable[Leg]) -> None:
    legs = list(legs)
    if len(legs) < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    if any(leg.amount_fen <= 0 for leg in legs):
        raise UnbalancedEntry("every posting amount must be > 0 (leave zero parts out)")
    debits = sum(leg.amount_fen for leg in legs if leg.side == Side.DEBIT)
    credits = sum(leg.amount_fen for leg in legs if leg.side == Side.CREDIT)
    if debits != credits:
        raise UnbalancedEntry(f"debits {debits} ≠ credits {credits}")


def post(
    code: str,
    idempotency_key: str,
    reference: str,
    legs: list[Leg],
    *,
    order_id: int | None = None,
    order_line_id: int | None = None,
    memo: str = "",
    created_by_id: int | None = None,
) -> int:
    """Write one balanced entry and move the cached balances; returns the entry id.

    Posting a key that already exists writes nothing and returns the first entry's id. The postings are written
    by one INSERT statement, which PostgreSQL's statement-level trigger checks as a whole."""
    check_balanced(legs)
    lock_ledger()
    entry_id = db.session.scalar(
        insert_ignoring_duplicates(JournalEntry, ["idempotency_key"])
        .values(
            code=code,
            reference=reference,
            idempotency_key=idempotency_key,
            order_id=order_id,
            order_line_id=order_line_id,
            memo=memo,
            created_by_id=created_by_id,
            created_at=utcnow(),
        )
        .returning(JournalEntry.id)
    )
    if entry_id is None:
        return db.session.scalar(select(JournalEntry.id).where(JournalEntry.idempotency_key == idempotency_key))
    db.session.execute(
        insert(Posting).values(
            [
                {
                    "entry_id": entry_id,
                    "account_id": leg.account_id,
                    "side": leg.side,
                    "amount_fen": leg.amount_fen,
                    "order_line_id": leg.order_line_id,
                    "shipment_id": leg.shipment_id,
                    "part": leg.part,
                    "link_id": leg.link_id,
                }
                for leg in legs
            ]
        )
    )
    _move_balances(legs)
    return entry_id


def _move_balances(legs: list[Leg]) -> None:
    sides = dict(
        db.session.execute(
            select(Account.id, Account.normal_side).where(Account.id.in_({leg.account_id for leg in legs}))
        ).all()
    )
    change: dict[int, int] = defaultdict(int)
    for leg in legs:
        change[leg.account_id] += leg.amount_fen if leg.side == sides[leg.account_id] else -leg.amount_fen
    # Always in account order, so two entries touching the same accounts cannot deadlock.
    for account in sorted(change):
        if change[account]:
            db.session.execute(
                update(Account)
                .where(Account.id == account)
                .values(balance_fen=Account.balance_fen + change[account])
                .execution_options(synchronize_session=False)
            )


def balance(account: int, *, lock: bool = False) -> int:
    """The cached balance on the account's normal side; `lock` holds the row until the transaction ends."""
    query = select(Account.balance_fen).where(Account.id == account)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def lock_accounts(account_ids: Iterable[int]) -> dict[int, int]:
    """Lock accounts (in id order) and return their balances."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Account.id, Account.balance_fen).where(Account.id.in_(ids)).order_by(Account.id).with_for_update()
    ).all()
    return dict(rows)


# --- Recipes of money arriving and leaving (docs/ledger.md) --------------------------------------------------


def _receipt_reference(payment_id: int | None, order_id: int | None, intent_id: str) -> str:
    """What a receipt refers to: the payment (shop/payments/models.py) when there is one, else the order or intent."""
    if payment_id is not None:
        return f"payment:{payment_id}"
    return f"order:{order_id}" if order_id else f"payment_intent:{intent_id}"


def receive_payment(order_id: int, intent_id: str, amount_fen: int, *, payment_id: int | None = None) -> int:
    """A card/Alipay/WeChat payment for an order: Dr provider_clearing · Cr orders_held. The entry's reference is
    the payment (`payment:<payment id>`), its key the provider's intent (`payment:<intent id>`)."""
    return post(
        EntryCode.PAYMENT,
        f"payment:{intent_id}",
        _receipt_reference(payment_id, order_id, intent_id),
        [
            Leg(account_id(AccountKind.PROVIDER_CLEARING), Side.DEBIT, amount_fen),
            Leg(account_id(AccountKind.ORDERS_HELD), Side.CREDIT, amount_fen),
        ],
        order_id=order_id,
    )


def receive_unmatched(
    intent_id: str, amount_fen: int, order_id: int | None, why: str, *, payment_id: int | None = None
) -> int | None:
    """Money that matches no order, or not its amount: Dr provider_clearing · Cr suspense, for an operator."""
    if amount_fen <= 0:
        return None
    return post(
        EntryCode.PAYMENT_SUSPENSE,
        f"payment:{intent_id}",
        _receipt_reference(payment_id, order_id, intent_id),
        [
            Leg(account_id(AccountKind.PROVIDER_CLEARING), Side.DEBIT, amount_fen),
            Leg(account_id(AccountKind.SUSPENSE), Side.CREDIT, amount_fen),
        ],
        order_id=order_id,
        memo=why,
    )


def return_unmatched(
    intent_id: str, amount_fen: int, order_id: int | None, *, payment_id: int | None = None
) -> int | None:
    """Money held in suspense given back to the payer: Dr suspense · Cr provider_clearing."""
    if amount_fen <= 0:
        return None
    return post(
        EntryCode.SUSPENSE_RETURNED,
        f"suspense_returned:{intent_id}",
        _receipt_reference(payment_id, order_id, intent_id),
        [
            Leg(account_id(AccountKind.SUSPENSE), Side.DEBIT, amount_fen),
            Leg(account_id(AccountKind.PROVIDER_CLEARING), Side.CREDIT, amount_fen),
        ],
        order_id=order_id,
    )
