"""Payments as records: an attempt per row, its moves as appended events, the order's state derived from them,
payments in parts adding up, units of work that commit only at entry points, and the reconcile job's repairs."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from shop.extensions import db
from shop.ledger.models import JournalEntry
from shop.orders import services as order_services
from shop.orders.models import Order
from shop.payments import flows, gateway, signals
from shop.payments import services as payments
from shop.payments.gateway import IntentInfo
from shop.payments.models import Payment, PaymentEvent, PaymentFlag, PaymentState
from shop.types import utcnow
from tests.payments.helpers import paid_at_provider, post_event

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")

SHOP = Path(__file__).resolve().parents[2] / "shop"


def _payments_of(order_id: int) -> list[Payment]:
    return list(db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)))


def _succeeded(intent_id: str, amount_fen: int) -> IntentInfo:
    return IntentInfo(id=intent_id, client_secret=None, status="succeeded", amount_fen=amount_fen, currency="cny")


def test_checkout_makes_one_payment_with_its_intent_and_an_event(placed):
    (payment,) = _payments_of(placed["order"]["id"])
    assert (payment.provider, payment.provider_reference, payment.state) == (
        "stripe",
        placed["row"].payment_intent_id,
        PaymentState.REQUIRES_PAYMENT_METHOD,
    )
    assert (payment.amount_fen, payment.currency, payment.client_secret) == (
        placed["order"]["total_fen"],
        "cny",
        placed["order"]["payment_client_secret"],
    )
    assert [(e.action, e.from_state, e.to_state, e.capacity) for e in payment.events] == [
        ("open", "", "creating", "shop"),
        ("await_method", "creating", "requires_payment_method", "provider"),
    ]


def test_a_webhook_success_is_an_event_naming_the_providers_event_and_the_receipt_names_the_payment(
    client, placed, stripe_config, localstripe_server
):
    event = paid_at_provider(placed["order"], localstripe_server, event_id="evt_named_1")
    assert post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"]).json["outcome"] == "paid"
    (payment,) = _payments_of(placed["order"]["id"])
    last = payment.events[-1]
    assert (last.action, last.to_state, last.capacity, last.provider_event_id) == (
        "succeed",
        "succeeded",
        "provider",
        "evt_named_1",
    )
    receipt = db.session.scalar(sa.select(JournalEntry).where(JournalEntry.code == "payment"))
    assert (receipt.reference, receipt.idempotency_key, receipt.order_id) == (
        f"payment:{payment.id}",
        f"payment:{payment.provider_reference}",
        placed["order"]["id"],
    )
    order = db.session.get(Order, placed["order"]["id"])
    assert (order.payment_status, order.received_fen, order.paid_fen) == ("succeeded", 18600, 18600)


def test_payments_in_parts_add_up_and_the_order_is_paid_by_the_last(placed):
    """Two attempts of part of the total each (what a bank transfer in parts will be): the order takes each, and is
    paid when what it received reaches its total."""
    order_id = placed["order"]["id"]
    (first,) = _payments_of(order_id)
    payments.move_payment(first, "cancel", "shop", "paid in parts instead")
    parts = []
    for n, amount in enumerate([10000, 8600]):
        payment, mine = payments.open_payment(order_id, amount, "cny")
        assert mine
        payments.record_created(
            payment.id, IntentInfo(f"pi_part_{n}", f"pi_part_{n}_secret", "requires_payment_method", amount, "cny")
        )
        assert payments.record_answer(_succeeded(f"pi_part_{n}", amount)) == "paid"
        parts.append(payment.id)
        order = db.session.get(Order, order_id)
        db.session.refresh(order)
        if n == 0:
            assert (order.status, order.paid_fen, order.received_fen) == ("pending_payment", 10000, 10000)
    assert (order.status, order.paid_fen, order.received_fen) == ("paid", 18600, 18600)
    assert order.payment_status == "succeeded"
    db.session.commit()
    references = db.session.scalars(
        sa.select(JournalEntry.reference).where(JournalEntry.code == "payment").order_by(JournalEntry.id)
    ).all()
    assert references == [f"payment:{payment_id}" for payment_id in parts]


def test_a_second_answer_for_a_paid_payment_changes_nothing(placed):
    (payment,) = _payments_of(placed["order"]["id"])
    answer = _succeeded(payment.provider_reference, payment.amount_fen)
    assert payments.record_answer(answer) == "paid"
    assert payments.record_answer(answer) == "already paid"
    assert [e.action for e in db.session.get(Payment, payment.id).events].count("succeed") == 1
    db.session.commit()


def test_a_service_called_inside_another_use_case_never_commits_the_callers_work(app, placed):
    """The caller adds a row and calls services of orders and payments; it then rolls back: nothing is left, not
    the caller's row, not the services' moves, events or ledger entries."""
    order_id = placed["order"]["id"]
    (payment,) = _payments_of(order_id)
    intent_id, amount = payment.provider_reference, payment.amount_fen
    db.session.commit()
    db.session.add(PaymentFlag(order_id=order_id, payment_intent_id="pi_callers_own", kind="note"))
    assert payments.record_answer(_succeeded(intent_id, amount)) == "paid"  # pays the order, books the receipt
    order_services.complete_orders(utcnow() + timedelta(days=400))
    payments.record_answer(IntentInfo(intent_id, None, "canceled", amount, "cny"))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentFlag)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 0
    order = db.session.get(Order, order_id)
    assert (order.status, order.paid_fen, order.payment_status) == ("pending_payment", 0, "requires_payment_method")
    assert [e.action for e in db.session.get(Payment, payment.id).events] == ["open", "await_method"]


def test_a_flow_that_commits_refuses_to_run_inside_another_use_case(placed):
    db.session.add(PaymentFlag(order_id=placed["order"]["id"], payment_intent_id="pi_half_done", kind="note"))
    with pytest.raises(RuntimeError, match="entry point"):
        flows.reconcile()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentFlag)) == 0


def test_payments_announce_a_success_and_orders_take_it(placed):
    (payment,) = _payments_of(placed["order"]["id"])
    heard = []

    def listener(sender, **kwargs):
        heard.append((sender.id, kwargs["capacity"], db.session.get(Order, sender.order_id).status))

    with signals.payment_succeeded.connected_to(listener):
        payments.record_answer(_succeeded(payment.provider_reference, payment.amount_fen))
    assert len(heard) == 1 and heard[0][:2] == (payment.id, "provider")
    assert db.session.get(Order, placed["order"]["id"]).status == "paid"
    db.session.commit()


def test_the_reconcile_job_finishes_a_payment_left_creating_by_a_crash(placed):
    """A request made the payment row and died before the provider answered (or before it recorded the answer):
    the job asks the provider again with the payment's own idempotency key and records the intent."""
    order_id = placed["order"]["id"]
    (first,) = _payments_of(order_id)
    payments.move_payment(first, "cancel", "shop", "the buyer's first attempt is over")
    stuck, mine = payments.open_payment(order_id, first.amount_fen, "cny")
    assert mine and stuck.state == PaymentState.CREATING
    db.session.execute(
        sa.update(Payment).where(Payment.id == stuck.id).values(updated_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()
    outcomes = flows.reconcile()
    repaired = db.session.get(Payment, stuck.id)
    assert repaired.state == PaymentState.REQUIRES_PAYMENT_METHOD and repaired.provider_reference
    assert outcomes[repaired.provider_reference] == "requires_payment_method"
    assert gateway.retrieve_payment_intent(repaired.provider_reference).amount_fen == first.amount_fen
    assert db.session.get(Order, order_id).payment_intent_id == repaired.provider_reference


def test_a_payment_whose_creation_failed_is_claimed_again_by_one_request(placed):
    order_id = placed["order"]["id"]
    (first,) = _payments_of(order_id)
    payments.move_payment(first, "cancel", "shop")
    failed, _mine = payments.open_payment(order_id, 18600, "cny")
    payments.record_create_failed(failed.id)
    assert db.session.get(Order, order_id).payment_status == "create_failed"
    again, mine = payments.open_payment(order_id, 18600, "cny")
    assert (again.id, mine, again.state) == (failed.id, True, PaymentState.CREATING)
    assert payments.open_payment(order_id, 18600, "cny")[1] is False  # the claim is taken
    db.session.rollback()


def test_cancelling_the_order_cancels_its_open_payment(placed):
    order = db.session.get(Order, placed["order"]["id"])
    order_services.cancel_order(order, None, "job", "not paid in time")
    (payment,) = _payments_of(order.id)
    assert (payment.state, payment.events[-1].capacity, payment.events[-1].reason) == (
        "canceled",
        "job",
        "not paid in time",
    )
    db.session.commit()


def test_payment_events_are_appended_never_edited(placed):
    (payment,) = _payments_of(placed["order"]["id"])
    event = db.session.scalar(sa.select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).limit(1))
    event.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):  # every import, also one inside a function
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


# refunds.py is moving to shop/orders/refunds.py (the refunds part of issue #13, in its own branch).
@pytest.mark.parametrize(
    "path",
    [p for p in sorted((SHOP / "payments").glob("*.py")) if p.name != "refunds.py"],
    ids=lambda p: p.name,
)
def test_payments_never_import_orders(path):
    assert not {name for name in _imports(path) if name == "shop.orders" or name.startswith("shop.orders.")}
