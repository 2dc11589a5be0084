"""A payout line moves once, by the one workflow mechanism: in transit → paid or failed, with an event that says
who recorded the bank's answer, in which capacity, when, from, to and why; the events are kept for good."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import update

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import InvalidTransition, NotAllowed
from shop.extensions import db
from shop.payouts import services as payouts
from shop.payouts.models import PayoutLine, PayoutLineEvent, PayoutLineStatus

BEFORE_PAYOUT_LINE_EVENTS = "695ff3294a9d"


def batch_of_one_household(world, client) -> dict:
    """One household (all of the 10 % share: 1,000 fen) settled and put into a payout batch."""
    household = world.household()
    world.deliver(world.buy((world.product("香菇", 5000), 2)))
    world.settle()
    batch = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-01", "period_end": "2026-11-30"},
        headers=world.operator,
    )
    assert batch.status_code == 201, batch.json
    line = next(line for line in batch.json["lines"] if line["household_id"] == household)
    return {"batch": batch.json["id"], "line": line["id"]}


def events_of(line_id: int) -> list[tuple]:
    rows = db.session.scalars(select_events(line_id))
    return [(e.from_status, e.to_status, e.actor_id, e.actor_role, e.note) for e in rows]


def select_events(line_id: int):
    return sa.select(PayoutLineEvent).where(PayoutLineEvent.line_id == line_id).order_by(PayoutLineEvent.id)


def record(client, world, paid: dict, outcome: str, note: str = ""):
    return client.post(
        f"/api/v1/payouts/batches/{paid['batch']}/paid",
        json={"lines": [{"id": paid["line"], "outcome": outcome}], "note": note},
        headers={**world.operator, "Accept-Language": "en"},
    )


@pytest.mark.parametrize(("outcome", "to"), [("paid", PayoutLineStatus.PAID), ("failed", PayoutLineStatus.FAILED)])
def test_recording_the_banks_answer_moves_the_line_once_and_appends_its_event(app, world, client, outcome, to):
    paid = batch_of_one_household(world, client)
    with app.app_context():
        assert events_of(paid["line"]) == []  # in transit: no move yet
    assert record(client, world, paid, outcome, note="回单 0001").status_code == 200
    with app.app_context():
        line = db.session.get(PayoutLine, paid["line"])
        assert (line.status, line.note) == (to, "回单 0001") and line.decided_at is not None
        assert events_of(paid["line"]) == [("in_transit", to, world.operator_id, "operator", "回单 0001")]
        [event] = line.events
        assert event.at is not None
    again = record(client, world, paid, "paid")
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"
    assert "already recorded" in again.json["error"]["message"]
    with app.app_context():
        assert len(events_of(paid["line"])) == 1  # the refused second answer left nothing behind


def test_someone_who_is_not_an_operator_is_refused_before_the_state_is_looked_at(app, make, world, client):
    paid = batch_of_one_household(world, client)
    assert record(client, world, paid, "paid").status_code == 200
    staff_id = make.staff(world.coop)
    with app.app_context():
        with pytest.raises(NotAllowed):  # 403, not the 409 an operator gets for a line already recorded
            payouts.record_outcomes(db.session.get(User, staff_id), paid["batch"], {paid["line"]: "paid"})
        db.session.rollback()


def test_a_stale_read_loses_the_conditional_update_and_writes_no_event(app, world, client):
    """What a second operator meets when the first recorded the line between its read and its write."""
    paid = batch_of_one_household(world, client)
    with app.app_context():
        operator = db.session.get(User, world.operator_id)
        batch = payouts.get_batch(operator, paid["batch"])
        assert {line.status for line in batch.lines} == {PayoutLineStatus.IN_TRANSIT}  # read as in transit
        db.session.execute(
            update(PayoutLine)
            .where(PayoutLine.id == paid["line"])
            .values(status=PayoutLineStatus.PAID)
            .execution_options(synchronize_session=False)
        )
        with pytest.raises(InvalidTransition, match="already recorded"):
            payouts.record_outcomes(operator, paid["batch"], {paid["line"]: "failed"})
        assert events_of(paid["line"]) == []
        db.session.rollback()


def test_payout_line_events_cannot_be_rewritten(app, world, client):
    paid = batch_of_one_household(world, client)
    assert record(client, world, paid, "failed", note="账号已销户").status_code == 200
    with app.app_context():
        for statement in ("UPDATE payout_line_events SET note = 'x'", "DELETE FROM payout_line_events"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        event = db.session.scalars(select_events(paid["line"])).one()
        event.note = "rewritten"
        with pytest.raises(ValueError, match="append-only"):
            db.session.flush()
        db.session.rollback()


def test_the_migration_goes_down_and_up_and_keeps_what_the_lines_say(app, world, client):
    """Down: the events table goes. Up: a line decided before gets its event back from what the line says (who
    recorded it was not kept then: actor and capacity stay empty)."""
    paid = batch_of_one_household(world, client)
    assert record(client, world, paid, "paid", note="回单").status_code == 200
    with app.app_context():
        decided_at = db.session.get(PayoutLine, paid["line"]).decided_at
        db.session.close()
        downgrade(revision=BEFORE_PAYOUT_LINE_EVENTS)
        assert "payout_line_events" not in sa.inspect(db.engine).get_table_names()
        assert db.session.get(PayoutLine, paid["line"]).status == PayoutLineStatus.PAID
        db.session.close()
        upgrade()
        assert "payout_line_events" in sa.inspect(db.engine).get_table_names()
        assert events_of(paid["line"]) == [("in_transit", "paid", None, "", "回单")]
        assert db.session.scalars(select_events(paid["line"])).one().at == decided_at
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text("DELETE FROM payout_line_events"))
        db.session.rollback()


@pytest.mark.postgres_only
def test_two_operators_record_the_same_line_at_once_one_wins(app, make, world, client):
    paid = batch_of_one_household(world, client)
    second_id = make.user(Role.OPERATOR)
    both_read = threading.Barrier(2, timeout=20)
    outcome: dict[str, object] = {}

    def operator(name: str, user_id: int, answer: str):
        with app.app_context():
            user = db.session.get(User, user_id)
            assert payouts.get_batch(user, paid["batch"]).lines  # both read the line in transit
            both_read.wait()
            try:
                payouts.record_outcomes(user, paid["batch"], {paid["line"]: answer})
                db.session.commit()
                outcome[name] = answer
            except InvalidTransition:
                db.session.rollback()
                outcome[name] = 409

    threads = [
        threading.Thread(target=operator, args=("first", world.operator_id, "paid")),
        threading.Thread(target=operator, args=("second", second_id, "failed")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    answers = {"first": "paid", "second": "failed"}
    assert sorted(outcome) == ["first", "second"] and list(outcome.values()).count(409) == 1
    [winner] = [name for name, value in outcome.items() if value != 409]
    assert outcome[winner] == answers[winner]
    with app.app_context():
        assert len(events_of(paid["line"])) == 1
