"""Worked examples: money paid for poverty-relief products reaches the households behind them, to the fen.
Every balance is checked, and the ledger's invariants hold after each scenario (conftest)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shop.extensions import db
from shop.orders.models import Shipment
from tests.settlement.conftest import lines_of


def settled_in_full(world, order: dict) -> bool:
    """The shipment left settlement's open set (its fee and every line settled)."""
    with world.app.app_context():
        return db.session.scalar(select(Shipment.settled_at).where(Shipment.order_id == order["id"])) is not None


def payable(kind: str, owner: int) -> str:
    return f"{kind}_payable:{owner}"


def test_buy_deliver_wait_settle_gives_each_household_its_part(world):
    first, second = world.household(weight=1), world.household(weight=2)
    peaches, millet = world.product("蜜桃礼盒", 8800), world.product("小米", 2600)
    order = world.buy((peaches, 3), (millet, 2))
    assert order["paid_fen"] == 26400 + 5200 + 1000
    assert world.balances() == {"provider_clearing": 32600, "orders_held": 32600}

    world.deliver(order)
    assert world.settle(after=timedelta(days=6))["lines"] == 0  # the refund window is still open
    run = world.settle()
    assert (run["lines"], run["shipments"], run["fen"]) == (2, 1, 32600)
    # Peaches 26400: households 10 % = 2640, by weight 1:2 → 880 / 1760; the cooperative 23760.
    # Millet 5200: households 520 → 173.33 / 346.67 → 173 / 347 (the larger remainder takes the fen); 4680.
    # Shipping 1000 goes to the cooperative alone.
    assert world.balances() == {
        "provider_clearing": 32600,
        payable("household", first): 880 + 173,
        payable("household", second): 1760 + 347,
        payable("cooperative", world.coop): 23760 + 4680 + 1000,
    }


def test_settling_twice_settles_each_line_once(world):
    household = world.household()
    order = world.buy((world.product("核桃", 3000), 1))
    world.deliver(order)
    assert world.settle()["lines"] == 1
    before = world.balances()
    again = world.settle(after=timedelta(days=30))
    assert (again["lines"], again["shipments"], again["fen"]) == (0, 0, 0)
    assert world.balances() == before
    assert before[payable("household", household)] == 300


def test_a_cooperative_without_linked_households_keeps_the_whole_net(world):
    order = world.buy((world.product("红薯", 1999), 3))
    world.deliver(order)
    world.settle()
    assert world.balances() == {"provider_clearing": 5997 + 1000, payable("cooperative", world.coop): 5997 + 1000}


def test_an_unconfirmed_link_shares_nothing(world):
    proposed = world.household(confirmed=False)
    confirmed = world.household()
    order = world.buy((world.product("小米", 1000), 1))
    world.deliver(order)
    world.settle()
    balances = world.balances()
    assert payable("household", proposed) not in balances
    assert balances[payable("household", confirmed)] == 100
    assert balances[payable("cooperative", world.coop)] == 900 + 1000


def test_a_product_may_narrow_sharing_to_its_sourcing_households(app, world):
    from shop.extensions import db
    from shop.households.models import ProductSourcing

    grower, other = world.household(), world.household()
    walnuts = world.product("核桃", 5000)
    with app.app_context():
        db.session.add(ProductSourcing(product_id=walnuts, household_id=grower))
        db.session.commit()
    order = world.buy((walnuts, 1))
    world.deliver(order)
    world.settle()
    balances = world.balances()
    assert balances[payable("household", grower)] == 500
    assert payable("household", other) not in balances


def test_a_product_may_override_the_household_share(app, world):
    from sqlalchemy import update

    from shop.catalog.models import Product
    from shop.extensions import db

    household = world.household()
    honey = world.product("槐花蜜", 10000)
    with app.app_context():
        db.session.execute(update(Product).where(Product.id == honey).values(household_share_bp=2500))
        db.session.commit()
    order = world.buy((honey, 1))
    world.deliver(order)
    world.settle()
    assert world.balances()[payable("household", household)] == 2500


def test_the_platform_fee_is_taken_first(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BP", 150)  # 1.5 %
    household = world.household()
    order = world.buy((world.product("红枣", 3333), 1))
    world.deliver(order)
    world.settle()
    # 3333 × [150, 1000, 8850] / 10000 = 49.995 / 333.3 / 2949.705 → 49 / 333 / 2949, 2 fen left:
    # the fee (.995) and the cooperative (.705) take one each.
    assert world.balances() == {
        "provider_clearing": 3333 + 1000,
        "platform_fee": 50,
        payable("household", household): 333,
        payable("cooperative", world.coop): 2950 + 1000,
    }


def test_an_open_refund_holds_its_line_back_until_it_is_decided(world):
    household = world.household()
    peaches, millet = world.product("蜜桃", 8800), world.product("小米", 2600)
    order = world.buy((peaches, 1), (millet, 1))
    world.deliver(order)
    lines = lines_of(order)
    asked = world.client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        headers=world.buyer,
        json={"lines": [{"order_line_id": lines["蜜桃"], "quantity": 1}], "reason": "坏果"},
    )
    assert asked.status_code == 201
    run = world.settle()
    assert run["lines"] == 1  # the millet only
    assert world.balances()["orders_held"] == 8800
    assert not settled_in_full(world, order)  # the next run still looks at it
    rejected = world.client.post(
        f"/api/v1/refunds/{asked.json['id']}/reject", json={"note": "照片显示完好"}, headers=world.staff
    )
    assert rejected.status_code == 200, rejected.json
    assert world.settle()["lines"] == 1
    assert world.balances()[payable("household", household)] == 880 + 260
    assert settled_in_full(world, order)


def test_a_refund_before_settlement_leaves_only_the_net_to_settle(world):
    household = world.household()
    peaches = world.product("蜜桃", 8800)
    order = world.buy((peaches, 3))
    world.deliver(order)
    world.refund(order, lines_of(order)["蜜桃"], 1)
    assert world.balances() == {"provider_clearing": 26400 + 1000 - 8800, "orders_held": 17600 + 1000}
    world.settle()
    assert world.balances() == {
        "provider_clearing": 17600 + 1000,
        payable("household", household): 1760,
        payable("cooperative", world.coop): 15840 + 1000,
    }


def test_a_line_refunded_in_full_before_settlement_is_settled_with_no_entry(world):
    world.household()
    order = world.buy((world.product("蜜桃", 8800), 2))
    world.deliver(order)
    world.refund(order, lines_of(order)["蜜桃"], 2)
    run = world.settle()
    assert (run["lines"], run["fen"]) == (1, 1000)
    assert world.balances() == {"provider_clearing": 1000, payable("cooperative", world.coop): 1000}


def test_refunds_after_settlement_reverse_the_parts_given_and_add_up_exactly(world):
    first, second = world.household(weight=1), world.household(weight=2)
    peaches = world.product("蜜桃", 1001)
    order = world.buy((peaches, 3))
    world.deliver(order)
    world.settle()
    # 3003: households 300.3 → 300 (100 / 200), cooperative 2702.7 → 2703.
    assert world.balances()[payable("household", first)] == 100
    assert world.balances()[payable("cooperative", world.coop)] == 2703 + 1000

    line = lines_of(order)["蜜桃"]
    world.refund(order, line, 1)  # 1001 over what the parts hold [100, 200, 2703]
    after_one = world.balances()
    assert after_one[payable("household", first)] + after_one[payable("household", second)] == 300 - 100
    world.refund(order, line, 2)
    assert world.balances() == {"provider_clearing": 1000, payable("cooperative", world.coop): 1000}


def test_three_one_fen_refunds_of_a_line_split_one_one_one(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BP", 3333)
    from sqlalchemy import update

    from shop.cooperatives.models import Cooperative
    from shop.extensions import db

    with app.app_context():
        db.session.execute(
            update(Cooperative).where(Cooperative.id == world.coop).values(shipping_fee_fen=0, household_share_bp=3333)
        )
        db.session.commit()
    household = world.household()
    order = world.buy((world.product("鸡蛋", 1), 3))
    world.deliver(order)
    world.settle()
    assert world.balances() == {
        "provider_clearing": 3,
        "platform_fee": 1,
        payable("household", household): 1,
        payable("cooperative", world.coop): 1,
    }
    line = lines_of(order)["鸡蛋"]
    for remaining in (2, 1, 0):
        world.refund(order, line, 1)
        assert world.balances().get("provider_clearing", 0) == remaining
    assert world.balances() == {}


def test_a_refund_after_the_households_were_paid_out_is_taken_from_the_cooperative(app, world):
    from shop.accounts.models import User
    from shop.extensions import db
    from shop.payouts import services as payouts
    from shop.types import utcnow

    household = world.household()
    peaches = world.product("蜜桃", 10000)
    order = world.buy((peaches, 2))
    world.deliver(order)
    world.settle()
    assert world.balances()[payable("household", household)] == 2000
    with app.app_context():
        operator = db.session.get(User, world.operator_id)
        today = utcnow().date()
        batch = payouts.create_batch(operator, today, today)
        db.session.commit()
        assert {line.household_id for line in batch.lines} == {household, None}
        assert batch.total_fen == 2000 + 18000 + 1000
    # Everything is in transit: the household and the cooperative have nothing left on their payables.
    line = lines_of(order)["蜜桃"]
    world.refund(order, line, 1)  # 10000 back: household part 1000, cooperative part 9000; nothing to take from
    balances = world.balances()
    assert payable("household", household) not in balances
    assert balances[f"cooperative_receivable:{world.coop}"] == 10000
    # The cooperative earns again: its receivable is offset against the new income.
    second = world.buy((peaches, 1))
    world.deliver(second)
    world.settle()
    balances = world.balances()
    # New income: household 1000, cooperative 9000 + 1000 shipping = 10000, all taken by the receivable.
    assert f"cooperative_receivable:{world.coop}" not in balances
    assert payable("cooperative", world.coop) not in balances
    assert balances[payable("household", household)] == 1000


def test_a_refund_when_only_the_household_was_paid_takes_its_shortfall_from_the_cooperative(app, world):
    from shop.accounts.models import User
    from shop.extensions import db
    from shop.payouts import services as payouts
    from shop.types import utcnow

    household = world.household()
    peaches = world.product("蜜桃", 10000)
    order = world.buy((peaches, 1))
    world.deliver(order)
    world.settle()
    with app.app_context():
        from sqlalchemy import update

        from shop.cooperatives.models import Cooperative

        # The cooperative has no bank account on file: only the household is paid out.
        db.session.execute(update(Cooperative).where(Cooperative.id == world.coop).values(payout_account_number=""))
        operator = db.session.get(User, world.operator_id)
        batch = payouts.create_batch(operator, utcnow().date(), utcnow().date())
        db.session.commit()
        assert [line.household_id for line in batch.lines] == [household]
    world.refund(order, lines_of(order)["蜜桃"], 1)
    # The household's 1000 came from the cooperative's payable: 9000 + 1000 shipping − 9000 − 1000 = 0.
    assert world.balances() == {"provider_clearing": 1000, "payouts_in_transit": 1000}
