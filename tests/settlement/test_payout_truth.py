"""A household's ledger says "paid out" only for what the bank confirmed: a payout line in transit is shown as in
transit (API, page and CSV), and a failed one as back on the balance (issue #12, money shown must be true)."""

from __future__ import annotations

import csv
import io

from shop.accounts.roles import Role
from tests.conftest import login
from tests.factories import SHENZHOU

EN = {"Accept-Language": "en"}


def batch_for(world, client) -> dict:
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
    return {"household": household, "batch": batch.json["id"], "line": line["id"]}


def ledger(client, world, household) -> dict:
    answer = client.get(f"/api/v1/households/{household}/ledger", headers=world.operator)
    assert answer.status_code == 200, answer.json
    return answer.json


def payout_rows(answer: dict) -> list[tuple[str, str, int]]:
    return [(r["code"], r["payout_status"], r["amount_fen"]) for r in answer["rows"] if r["code"].startswith("payout")]


def test_a_payout_in_transit_is_not_shown_as_paid_out_until_the_bank_confirms_it(world, client):
    paid = batch_for(world, client)
    waiting = ledger(client, world, paid["household"])
    assert (waiting["earned_fen"], waiting["balance_fen"]) == (1000, 0)
    assert (waiting["in_transit_fen"], waiting["paid_out_fen"]) == (1000, 0)
    assert payout_rows(waiting) == [("payout", "in_transit", -1000)]

    answer = client.post(
        f"/api/v1/payouts/batches/{paid['batch']}/paid",
        json={"lines": [{"id": paid["line"], "outcome": "paid"}]},
        headers=world.operator,
    )
    assert answer.status_code == 200, answer.json
    confirmed = ledger(client, world, paid["household"])
    assert (confirmed["balance_fen"], confirmed["in_transit_fen"], confirmed["paid_out_fen"]) == (0, 0, 1000)
    assert payout_rows(confirmed) == [("payout", "paid", -1000)]


def test_a_failed_payout_is_shown_as_back_on_the_balance_never_as_paid_out(world, client):
    failed = batch_for(world, client)
    answer = client.post(
        f"/api/v1/payouts/batches/{failed['batch']}/paid",
        json={"lines": [{"id": failed["line"], "outcome": "failed"}], "note": "账号已销户"},
        headers=world.operator,
    )
    assert answer.status_code == 200, answer.json
    back = ledger(client, world, failed["household"])
    assert (back["balance_fen"], back["in_transit_fen"], back["paid_out_fen"]) == (1000, 0, 0)
    assert payout_rows(back) == [("payout", "failed", -1000), ("payout_failed", "failed", 1000)]


def test_the_ledger_page_and_csv_say_in_transit_then_paid_out(app, make, world, client):
    paid = batch_for(world, client)
    make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}), email="county@example.com")
    reviewer = app.test_client()
    login(reviewer, "county@example.com")
    page = reviewer.get(f"/households/{paid['household']}/ledger", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-payout-status="in_transit"' in html and "Payout in transit" in html
    assert "Paid out (" not in html
    assert _figure(html, "figure-in-transit") == "¥10.00" and _figure(html, "figure-paid-out") == "¥0.00"
    [payout] = [
        row
        for row in _csv(reviewer.get(f"/households/{paid['household']}/ledger.csv", headers=EN))
        if row[-1] == "-10.00"
    ]
    assert payout[1].startswith("Payout in transit")

    client.post(f"/api/v1/payouts/batches/{paid['batch']}/paid", json={}, headers=world.operator)
    html = reviewer.get(f"/households/{paid['household']}/ledger", headers=EN).get_data(as_text=True)
    assert 'data-payout-status="paid"' in html and "Payout in transit" not in html
    assert _figure(html, "figure-in-transit") == "¥0.00" and _figure(html, "figure-paid-out") == "¥10.00"
    [payout] = [
        row
        for row in _csv(reviewer.get(f"/households/{paid['household']}/ledger.csv", headers=EN))
        if row[-1] == "-10.00"
    ]
    assert payout[1] == "Paid out (confirmed by the bank)"


def _figure(html: str, css_class: str) -> str:
    after = html.split(f'class="figure {css_class}"', 1)[1]
    return after.split('class="figure-value">', 1)[1].split("<", 1)[0]


def _csv(answer) -> list[list[str]]:
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_cooperative_sees_its_payout_in_transit_then_paid(app, make, world, client):
    batch_for(world, client)  # the cooperative's 9,000 fen and its 1,000 fen of shipping go into the batch
    settlements = client.get(f"/api/v1/cooperatives/{world.coop}/settlements", headers=world.staff).json
    assert (settlements["payable_fen"], settlements["payouts_in_transit_fen"], settlements["paid_out_fen"]) == (
        0,
        10000,
        0,
    )
    staff = app.test_client()
    make.staff(world.coop, email="coop@example.com")
    login(staff, "coop@example.com")
    html = staff.get(f"/coop/{world.coop}/settlements", headers=EN).get_data(as_text=True)
    assert _figure(html, "figure-in-transit") == "¥100.00" and _figure(html, "figure-paid-out") == "¥0.00"

    batch = client.get("/api/v1/payouts/batches", headers=world.operator).json[0]["id"]
    assert client.post(f"/api/v1/payouts/batches/{batch}/paid", json={}, headers=world.operator).status_code == 200
    settlements = client.get(f"/api/v1/cooperatives/{world.coop}/settlements", headers=world.staff).json
    assert (settlements["payouts_in_transit_fen"], settlements["paid_out_fen"]) == (0, 10000)
    html = staff.get(f"/coop/{world.coop}/settlements", headers=EN).get_data(as_text=True)
    assert _figure(html, "figure-in-transit") == "¥0.00" and _figure(html, "figure-paid-out") == "¥100.00"
