"""Paying a refund back is three units of work (reserve, ask the provider, record the answer): a crash between
them is repaired by the reconcile job, and the refund services never commit the work of whoever calls them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.extensions import db
from shop.notifications import services as notifications
from shop.notifications.models import OutboxEmail
from shop.orders import payback, refunds
from shop.orders.models import Order, OrderEvent, OrderLine, Refund
from shop.types import utcnow
from shop.unit_of_work import use_case
from tests.orders import test_refunds
from tests.orders.test_refunds import ask, order_of
from tests.stripe_emulator import _free_port

paid = test_refunds.paid  # the paid order of the refund tests (a fixture)

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")
LATER = timedelta(minutes=16)  # past payback.RECONCILE_AFTER: no request can still be waiting for the provider


def operator(make) -> User:
    return db.session.get(User, make.user(Role.OPERATOR))


def refund_row(refund_id: int) -> Refund:
    db.session.expire_all()
    return db.session.get(Refund, refund_id)


def refund_events(order_id: int) -> list[tuple[str, str]]:
    return [
        (e.action, e.actor_role)
        for e in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        if e.action.startswith("refund")
    ]


def test_a_crash_after_the_provider_paid_back_is_finished_by_the_reconcile_job(client, make, paid):
    asked = ask(client, paid, [("蜜桃礼盒", 1)], return_stock=True).json
    with use_case():
        intent = refunds.approve(operator(make), asked["id"])
    made = refunds.ask_provider(intent)  # the provider pays back; the process dies before recording it
    assert refund_row(asked["id"]).status == "approved"
    assert payback.reconcile_approved() == {}  # still young: a request may be waiting for the provider's answer
    assert payback.reconcile_approved(now=utcnow() + LATER) == {asked["id"]: f"paid back ({made.id})"}
    refund = refund_row(asked["id"])
    assert (refund.status, refund.provider_refund_id) == ("succeeded", made.id)
    assert order_of(client, paid)["refunded_fen"] == 8800
    assert db.session.get(Product, paid["peaches"]).stock == 10 - 3 + 1  # returned once
    assert refund_events(paid["order"]["id"])[-1] == ("refund", "job")
    assert payback.reconcile_approved(now=utcnow() + LATER) == {}  # nothing left, nothing twice


def test_a_crash_before_the_provider_was_asked_puts_the_refund_back_to_await_a_decision(app, client, make, paid):
    asked = ask(client, paid, [("蜜桃礼盒", 2)]).json
    with use_case():
        refunds.approve(operator(make), asked["id"])  # reserved and committed; the provider is never asked
    assert order_of(client, paid)["refunded_fen"] == 2 * 8800
    db.session.execute(
        update(Refund).where(Refund.id == asked["id"]).values(decided_at=utcnow() - LATER)
    )  # the crash was a while ago
    db.session.commit()
    ran = app.test_cli_runner().invoke(args=["orders", "refunds-reconcile"])
    assert ran.exit_code == 0, ran.output
    assert f"refund {asked['id']}: back to requested" in ran.output
    refund = refund_row(asked["id"])
    assert (refund.status, refund.decided_by_id, refund.provider_refund_id) == ("requested", None, None)
    assert order_of(client, paid)["refunded_fen"] == 0
    assert db.session.get(OrderLine, paid["lines"]["蜜桃礼盒"]).refunded_quantity == 0
    assert refund_events(paid["order"]["id"])[-2:] == [("refund_approved", "operator"), ("refund_reopened", "job")]
    again = client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=paid["staff"])
    assert again.status_code == 200 and again.json["status"] == "succeeded"  # the same row, approved again
    assert order_of(client, paid)["refunded_fen"] == 2 * 8800


def test_the_reconcile_job_leaves_the_refund_approved_while_the_provider_cannot_be_asked(
    app, client, make, paid, localstripe_server, monkeypatch
):
    asked = ask(client, paid, [("小米", 1)]).json
    with use_case():
        refunds.approve(operator(make), asked["id"])
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{_free_port()}")  # nobody listens
    assert payback.reconcile_approved(now=utcnow() + LATER) == {asked["id"]: "provider unavailable: left approved"}
    assert refund_row(asked["id"]).status == "approved" and order_of(client, paid)["refunded_fen"] == 2600
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe_server)
    assert payback.reconcile_approved(now=utcnow() + LATER) == {asked["id"]: "back to requested"}


# --- Services never commit the caller's work -----------------------------------------------------------------

CALLERS_WORK = "the caller's own work, not committed"


def _callers_work() -> None:
    db.session.add(OutboxEmail(to_address="caller@example.org", subject=CALLERS_WORK, body=""))
    db.session.flush()


def _callers_work_left() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.subject == CALLERS_WORK))


def _requested(client, paid, make) -> dict:
    return {"refund_id": ask(client, paid, [("小米", 1)]).json["id"], "operator": operator(make)}


def _approved(client, paid, make) -> dict:
    given = _requested(client, paid, make)
    with use_case():
        refunds.approve(given["operator"], given["refund_id"])
    return given


SERVICES = {
    "request_refund": (
        lambda client, paid, make: {"buyer": db.session.get(User, paid["buyer_id"])},
        lambda paid, given: refunds.request_refund(
            given["buyer"], paid["order"]["id"], [(paid["lines"]["小米"], 1)], "坏了"
        ),
    ),
    "reject": (_requested, lambda paid, given: refunds.reject(given["operator"], given["refund_id"], "完好")),
    "approve": (_requested, lambda paid, given: refunds.approve(given["operator"], given["refund_id"])),
    "refund_directly": (
        lambda client, paid, make: {"operator": operator(make)},
        lambda paid, given: refunds.refund_directly(
            given["operator"], paid["order"]["id"], [(paid["lines"]["小米"], 1)], "售后"
        ),
    ),
    "record_paid_back": (
        _approved,
        lambda paid, given: refunds.record_paid_back(given["refund_id"], "re_recorded_then_rolled_back", None, "job"),
    ),
    "reopen": (_approved, lambda paid, given: refunds.reopen(given["refund_id"], None, "job", "回滚")),
    "notifications.queue": (
        lambda client, paid, make: {},
        lambda paid, given: notifications.queue("buyer@example.org", "主题", "正文"),
    ),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_refund_service_called_inside_another_use_case_never_commits_its_work(client, make, paid, service):
    prepare, call = SERVICES[service]
    given = prepare(client, paid, make)
    db.session.commit()
    before = (
        db.session.scalar(select(func.count()).select_from(Refund)),
        db.session.scalar(select(func.count()).select_from(OrderEvent)),
        db.session.get(Order, paid["order"]["id"]).refunded_fen,
    )
    _callers_work()
    call(paid, given)
    db.session.rollback()  # the caller's use case fails after the service returned
    assert _callers_work_left() == 0
    after = (
        db.session.scalar(select(func.count()).select_from(Refund)),
        db.session.scalar(select(func.count()).select_from(OrderEvent)),
        db.session.get(Order, paid["order"]["id"]).refunded_fen,
    )
    assert after == before  # nor any of its own
