"""Settlement, household ledgers and payout batches through the JSON API, each for the right people only."""

from __future__ import annotations

import csv
import io

from shop.accounts.roles import Role
from tests.factories import RAOYANG, SHENZHOU
from tests.payments.helpers import bearer


def settled_world(world, client):
    """Two households (weights 1 and 3), one order of 2 × 50 yuan delivered; settled through the API."""
    first, second = world.household(weight=1), world.household(weight=3)
    order = world.buy((world.product("香菇", 5000), 2))
    world.deliver(order)
    return first, second, order


def test_an_operator_starts_a_settlement_run_and_sees_what_it_settled(world, client, monkeypatch, app):
    settled_world(world, client)
    # Delivered just now: nothing is due through the API until the window passes.
    run = client.post("/api/v1/settlement/runs", headers=world.operator)
    assert run.status_code == 201 and run.json["lines_settled"] == 0
    monkeypatch.setitem(app.config, "REFUND_WINDOW_DAYS", 0)
    run = client.post("/api/v1/settlement/runs", headers=world.operator)
    assert run.status_code == 201
    assert (run.json["lines_settled"], run.json["shipments_settled"], run.json["amount_fen"]) == (1, 1, 11000)
    assert client.post("/api/v1/settlement/runs", headers=world.operator).json["lines_settled"] == 0
    assert client.post("/api/v1/settlement/runs", headers=world.staff).status_code == 403


def test_a_household_ledger_for_its_county_reviewer_and_operators_only(world, client, make):
    first, _second, order = settled_world(world, client)
    world.settle()
    reviewer = bearer(make.token(make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}))))
    ledger = client.get(f"/api/v1/households/{first}/ledger", headers=reviewer)
    assert ledger.status_code == 200, ledger.json
    assert ledger.json["balance_fen"] == ledger.json["earned_fen"] == 250  # 10 % of 10000, a quarter of it
    [row] = ledger.json["rows"]
    assert row["order_reference"] == f"FO{order['id']:08d}" and row["product_name"] == "香菇"
    assert row["link_type"] == "produce_purchase" and row["amount_fen"] == 250
    assert [m["amount_fen"] for m in ledger.json["by_month"]] == [250]
    assert ledger.json["by_source"][0]["amount_fen"] == 250
    assert client.get(f"/api/v1/households/{first}/ledger", headers=world.operator).status_code == 200
    elsewhere = bearer(make.token(make.user((Role.COUNTY_REVIEWER, {"region_code": RAOYANG}))))
    assert client.get(f"/api/v1/households/{first}/ledger", headers=elsewhere).status_code == 403
    assert client.get(f"/api/v1/households/{first}/ledger", headers=world.staff).status_code == 403
    assert client.get(f"/api/v1/households/{first}/ledger", headers=world.buyer).status_code == 403


def test_the_cooperative_sees_its_income_and_the_households_it_supported_masked(app, world, client, make):
    first, second, _order = settled_world(world, client)
    world.settle()
    answer = client.get(f"/api/v1/cooperatives/{world.coop}/settlements", headers=world.staff)
    assert answer.status_code == 200, answer.json
    assert (answer.json["total_fen"], answer.json["households_fen"], answer.json["shipping_fen"]) == (10000, 1000, 1000)
    assert answer.json["payable_fen"] == 9000 + 1000
    names = {h["household_id"]: h["name"] for h in answer.json["households"]}
    amounts = {h["household_id"]: h["amount_fen"] for h in answer.json["households"]}
    assert amounts == {first: 250, second: 750}
    assert all(name.endswith("*") and len(name) >= 2 for name in names.values())  # 王** — never the full name
    other_coop_staff = bearer(make.token(make.staff(make.cooperative(county=SHENZHOU))))
    assert client.get(f"/api/v1/cooperatives/{world.coop}/settlements", headers=other_coop_staff).status_code == 403


def test_a_payout_batch_pays_each_balance_once_and_failed_lines_come_back(world, client):
    first, second, _order = settled_world(world, client)
    world.settle()
    batch = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-01", "period_end": "2026-11-30"},
        headers=world.operator,
    )
    assert batch.status_code == 201, batch.json
    amounts = {(line["cooperative_id"], line["household_id"]): line["amount_fen"] for line in batch.json["lines"]}
    assert amounts == {(world.coop, None): 10000, (None, first): 250, (None, second): 750}
    assert world.balances() == {"provider_clearing": 11000, "payouts_in_transit": 11000}

    again = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-01", "period_end": "2026-11-30"},
        headers=world.operator,
    )
    assert again.status_code == 201 and again.json["lines"] == [] and again.json["total_fen"] == 0

    exported = client.get(f"/api/v1/payouts/batches/{batch.json['id']}.csv", headers=world.operator)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["序号", "户名", "账号", "开户行", "金额（元）", "用途"]
    assert sorted(row[4] for row in rows[1:]) == ["100.00", "2.50", "7.50"]
    assert all(row[5].startswith("扶贫产品收益 PB") for row in rows[1:])

    by_household = {line["household_id"]: line["id"] for line in batch.json["lines"]}
    answer = client.post(
        f"/api/v1/payouts/batches/{batch.json['id']}/paid",
        json={"lines": [{"id": by_household[first], "outcome": "failed"}], "note": "账号已销户"},
        headers=world.operator,
    )
    assert answer.status_code == 200, answer.json
    assert world.balances()[f"household_payable:{first}"] == 250  # back on its payable, for a later batch
    rest = client.post(f"/api/v1/payouts/batches/{batch.json['id']}/paid", json={}, headers=world.operator)
    assert rest.status_code == 200
    assert {line["status"] for line in rest.json["lines"]} == {"paid", "failed"}
    # The bank account is credited as money leaves it: its (debit-normal) balance goes negative until the
    # provider's transfer to the bank is posted.
    assert world.balances() == {
        "provider_clearing": 11000,
        "bank": -10750,
        f"household_payable:{first}": 250,
    }
    twice = client.post(
        f"/api/v1/payouts/batches/{batch.json['id']}/paid",
        json={"lines": [{"id": by_household[second], "outcome": "paid"}]},
        headers=world.operator,
    )
    assert twice.status_code == 409


def test_payout_input_is_checked_field_by_field(world, client):
    bad = client.post("/api/v1/payouts/batches", json={"period_start": "2026-11-30"}, headers=world.operator)
    assert bad.status_code == 422 and "period_end" in bad.json["error"]["fields"]
    backwards = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-30", "period_end": "2026-11-01"},
        headers=world.operator,
    )
    assert backwards.status_code == 422 and "period_end" in backwards.json["error"]["fields"]
    assert client.post("/api/v1/payouts/batches", json={}, headers=world.staff).status_code == 403
    assert client.get("/api/v1/payouts/batches/999", headers=world.operator).status_code == 404
