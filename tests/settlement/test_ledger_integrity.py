"""The ledger defends itself: unbalanced entries are refused (in code, and on PostgreSQL in the database), entries
and postings cannot be changed or deleted by any path, a key is posted once, and `flask ledger check` finds a
breach and exits non-zero."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from shop.extensions import db
from shop.ledger import services as ledger
from shop.ledger.models import AccountKind, JournalEntry, Posting, Side
from shop.settlement.services import settle_due


@pytest.fixture
def entry(app_ctx):
    entry_id = ledger.receive_unmatched("pi_integrity", 500, None, "a payment that matches no order")
    db.session.commit()
    return entry_id


def test_an_unbalanced_entry_is_refused_before_it_is_written(app_ctx):
    clearing = ledger.account_id(AccountKind.PROVIDER_CLEARING)
    held = ledger.account_id(AccountKind.ORDERS_HELD)
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.post(
            "payment", "payment:bad", "test", [ledger.Leg(clearing, Side.DEBIT, 100), ledger.Leg(held, Side.CREDIT, 99)]
        )
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.post(
            "payment", "payment:zero", "test", [ledger.Leg(clearing, Side.DEBIT, 0), ledger.Leg(held, Side.CREDIT, 0)]
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0


def test_posting_the_same_key_twice_returns_the_first_entry(app_ctx, entry):
    assert ledger.receive_unmatched("pi_integrity", 500, None, "again") == entry
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Posting)) == 2
    assert ledger.balance(ledger.account_id(AccountKind.SUSPENSE)) == 500


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_fen = amount_fen + 1",
        "DELETE FROM postings",
        "UPDATE journal_entries SET code = 'refund'",
        "DELETE FROM journal_entries",
    ],
)
def test_no_path_changes_or_deletes_ledger_rows_not_even_raw_sql(app_ctx, entry, statement):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.sum(Posting.amount_fen))) == 1000


@pytest.mark.parametrize("column", ["entry_id", "account_id", "order_line_id", "shipment_id", "link_id"])
def test_a_posting_referring_to_a_row_that_does_not_exist_is_refused(app_ctx, entry, column):
    """Not foreign keys but a trigger (statement-level on PostgreSQL) checks what postings refer to."""
    clearing = ledger.account_id(AccountKind.PROVIDER_CLEARING)
    suspense = ledger.account_id(AccountKind.SUSPENSE)
    credit = {"entry_id": entry, "account_id": suspense, "order_line_id": None, "shipment_id": None, "link_id": None}
    credit[column] = 999_999
    # One statement for both legs, so that the entry balances and only the reference is wrong.
    with pytest.raises(sa.exc.IntegrityError, match=r"FOREIGN KEY|does not exist"):
        db.session.execute(
            sa.text(
                "INSERT INTO postings (entry_id, account_id, side, amount_fen, order_line_id, shipment_id, part, "
                "link_id) VALUES (:entry, :clearing, 'debit', 5, NULL, NULL, NULL, NULL), "
                "(:entry_id, :account_id, 'credit', 5, :order_line_id, :shipment_id, :part, :link_id)"
            ),
            {"entry": credit["entry_id"], "clearing": clearing, "part": "household" if column == "link_id" else None}
            | credit,
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Posting)) == 2


@pytest.mark.parametrize("table", ["ledger_accounts", "order_lines", "shipments", "benefit_links"])
def test_rows_the_ledger_refers_to_are_never_deleted(app_ctx, world, table):
    world.household()
    world.deliver(world.buy((world.product("核桃", 3000), 1)))
    with pytest.raises(sa.exc.DatabaseError, match="kept: DELETE refused"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.rollback()
    assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) > 0


def test_the_orm_refuses_to_change_a_posting(app_ctx, entry):
    posting = db.session.scalars(select(Posting)).first()
    posting.amount_fen = 1
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.postgres_only
def test_postgresql_refuses_an_unbalanced_insert_made_with_raw_sql(app_ctx, entry):
    account = ledger.account_id(AccountKind.PROVIDER_CLEARING)
    with pytest.raises(sa.exc.DatabaseError, match="does not balance"):
        db.session.execute(
            sa.text("INSERT INTO postings (entry_id, account_id, side, amount_fen) VALUES (:e, :a, 'debit', 7)"),
            {"e": entry, "a": account},
        )
    db.session.rollback()


def test_ledger_check_finds_a_breach_and_exits_non_zero(app, entry):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ledger", "check"]).exit_code == 0
    with app.app_context():
        # A cached balance that disagrees with its postings (the only ledger column that is ever updated).
        db.session.execute(
            sa.text("UPDATE ledger_accounts SET balance_fen = balance_fen + 1 WHERE kind = 'provider_clearing'")
        )
        db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert "every cached balance equals the sum of its postings" in result.output
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE ledger_accounts SET balance_fen = balance_fen - 1 WHERE kind = 'provider_clearing'")
        )
        db.session.commit()


def test_flask_settle_runs_and_reports(app, world):
    household = world.household()
    order = world.buy((world.product("核桃", 3000), 1))
    world.deliver(order)
    result = app.test_cli_runner().invoke(args=["settle"])
    assert result.exit_code == 0 and "0 lines" in result.output  # delivered today: the window is open
    assert f"household_payable:{household}" not in world.balances()


@pytest.mark.postgres_only
def test_two_settlement_runs_at_once_settle_each_line_exactly_once(app, world):
    world.household()
    for _ in range(5):
        world.deliver(world.buy((world.product("小米", 1234), 2)))
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            try:
                barrier.wait()
                from datetime import timedelta

                from shop.types import utcnow

                settled = settle_due(now=utcnow() + timedelta(days=8))
                results.append(settled.lines_settled)
                db.session.commit()
            except Exception as error:
                errors.append(error)
                db.session.rollback()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [0, 5]
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.code == "settle")) == 5
        )


def test_a_fee_raised_above_what_a_share_allows_refuses_the_run_and_names_the_cooperative(app, world, monkeypatch):
    from shop.errors import ValidationFailed

    world.deliver(world.buy((world.product("香菇", 5000), 1)))
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BP", 9500)  # the cooperative's share is 1000 bp
    with app.app_context(), pytest.raises(ValidationFailed, match="exceeds 10000"):
        settle_due()
    answer = world.client.post("/api/v1/settlement/runs", headers=world.operator)
    assert answer.status_code == 422 and "household_share_bp" in answer.json["error"]["fields"]
    assert world.balances() == {"provider_clearing": 6000, "orders_held": 6000}


def test_a_run_that_fails_half_way_leaves_nothing_behind(app, world, monkeypatch):
    from shop.settlement import sql
    from shop.settlement.models import LineSettlement, SettlementRun

    world.household()
    world.deliver(world.buy((world.product("香菇", 5000), 1)))
    before = world.balances()
    # The postings are written, then the balances' statement fails (as a crash would, before the commit).
    monkeypatch.setattr(sql, "MOVE_BALANCES", "UPDATE no_such_table SET x = 1")
    with app.app_context():
        from datetime import timedelta

        from shop.types import utcnow

        with pytest.raises(sa.exc.DatabaseError):
            settle_due(now=utcnow() + timedelta(days=8))
        db.session.rollback()
        for model in (SettlementRun, LineSettlement, Posting):
            assert db.session.scalar(select(func.count()).select_from(model)) == (2 if model is Posting else 0)
    assert world.balances() == before
    monkeypatch.undo()
    assert world.settle()["lines"] == 1  # and the next run settles the line, once
