"""The pages of settlement and payouts, as their users see them (HTTP client, signed in through the form)."""

from __future__ import annotations

import csv
import io

from shop.accounts.roles import Role
from tests.conftest import csrf_token, login
from tests.factories import RAOYANG, SHENZHOU


def settled(world):
    household = world.household(weight=1)
    order = world.buy((world.product("香菇", 5000), 2))
    world.deliver(order)
    world.settle()
    return household, order


def signed_in(app, make, *roles, email):
    client = app.test_client()
    make.user(*roles, email=email)
    login(client, email)
    return client


def test_the_county_reviewer_reads_and_downloads_a_household_ledger(app, make, world):
    household, order = settled(world)
    reviewer = signed_in(app, make, (Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}), email="county@example.com")
    page = reviewer.get(f"/households/{household}/ledger")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"FO{order['id']:08d}" in html and "香菇" in html and "¥10.00" in html
    download = reviewer.get(f"/households/{household}/ledger.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][2] == f"FO{order['id']:08d}" and rows[1][-1] == "10.00"
    other = signed_in(app, make, (Role.COUNTY_REVIEWER, {"region_code": RAOYANG}), email="elsewhere@example.com")
    assert other.get(f"/households/{household}/ledger").status_code == 403
    assert other.get(f"/households/{household}/ledger.csv").status_code == 403


def test_the_cooperative_sees_its_settlements_with_household_names_masked(app, make, world):
    household, _order = settled(world)
    staff = signed_in(app, make, (Role.COOPERATIVE_STAFF, {"cooperative_id": world.coop}), email="coop@example.com")
    html = staff.get(f"/coop/{world.coop}/settlements").get_data(as_text=True)
    from shop.extensions import db
    from shop.households.models import Household

    with app.app_context():
        name = db.session.get(Household, household).head_name
    assert name not in html and name[0] + "*" in html
    assert "¥10.00" in html  # the household's part of 100 yuan at 10 %


def test_an_operator_settles_from_the_page_and_pays_a_batch(app, make, world, monkeypatch):
    household = world.household()
    world.deliver(world.buy((world.product("香菇", 5000), 2)))
    monkeypatch.setitem(app.config, "REFUND_WINDOW_DAYS", 0)
    operator = signed_in(app, make, Role.OPERATOR, email="ops@example.com")
    settled_page = operator.post("/ops/settlement", data={"csrf_token": csrf_token(operator, "/ops/settlement")})
    assert settled_page.status_code == 302
    assert "#1" in operator.get("/ops/settlement").get_data(as_text=True)
    assert world.balances()[f"household_payable:{household}"] == 1000

    token = csrf_token(operator, "/ops/payouts/")
    refused = operator.post(
        "/ops/payouts/", data={"csrf_token": token, "period_start": "2026-11-30", "period_end": "2026-11-01"}
    )
    assert refused.status_code == 422
    made = operator.post(
        "/ops/payouts/", data={"csrf_token": token, "period_start": "2026-11-01", "period_end": "2026-11-30"}
    )
    assert made.status_code == 302
    batch_page = operator.get(made.headers["Location"])
    assert batch_page.status_code == 200 and "6228" in batch_page.get_data(as_text=True)
    paid = operator.post(f"{made.headers['Location']}/outcomes", data={"csrf_token": token, "outcome": "paid"})
    assert paid.status_code == 302
    assert "payouts_in_transit" not in world.balances()
    without_token = operator.post(f"{made.headers['Location']}/outcomes", data={"outcome": "paid"})
    assert without_token.status_code in (400, 302)


def test_the_household_page_links_to_its_ledger_only_for_those_who_may_read_it(app, make, world):
    household, _order = settled(world)
    ledger = f"/households/{household}/ledger"
    reviewer = signed_in(app, make, (Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}), email="c2@example.com")
    assert ledger in reviewer.get(f"/households/{household}").get_data(as_text=True)
    province = signed_in(app, make, (Role.PROVINCE_REVIEWER, {"region_code": "130000"}), email="p2@example.com")
    page = province.get(f"/households/{household}")
    assert page.status_code == 200 and ledger not in page.get_data(as_text=True)
    assert province.get(ledger).status_code == 403
