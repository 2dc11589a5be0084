"""Household shares (basis points, limited by the platform fee) and product sourcing."""

from __future__ import annotations

import pytest

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from tests.conftest import csrf_token, login
from tests.factories import RAOYANG


@pytest.fixture
def platform_fee(app):
    before = app.config["PLATFORM_FEE_BP"]
    app.config["PLATFORM_FEE_BP"] = 500
    yield 500
    app.config["PLATFORM_FEE_BP"] = before


def put_cooperative_share(client, people, value, who="staff", cooperative_id=None):
    return client.put(
        f"/api/v1/cooperatives/{cooperative_id or people['cooperative']}/household-share",
        headers=people[who],
        json={"household_share_bp": value},
    )


def test_staff_set_their_cooperatives_share_within_the_limit(client, make, people, platform_fee):
    ok = put_cooperative_share(client, people, 1500)
    assert ok.status_code == 200 and ok.json == {
        "cooperative_id": people["cooperative"],
        "household_share_bp": 1500,
        "platform_fee_bp": 500,
    }
    assert make.get(Cooperative, people["cooperative"]).household_share_bp == 1500
    assert put_cooperative_share(client, people, 9500).status_code == 200
    over = put_cooperative_share(client, people, 9501)
    assert over.status_code == 422 and "household_share_bp" in over.json["error"]["fields"]
    assert "500" in over.json["error"]["fields"]["household_share_bp"][0]
    assert put_cooperative_share(client, people, -1).status_code == 422
    assert put_cooperative_share(client, people, "10").status_code == 422
    assert make.get(Cooperative, people["cooperative"]).household_share_bp == 9500
    assert put_cooperative_share(client, people, 2000, who="operator").status_code == 200
    other = make.cooperative()
    assert put_cooperative_share(client, people, 1000, cooperative_id=other).status_code == 403
    assert put_cooperative_share(client, people, 1000, who="county").status_code == 403


def test_a_product_overrides_the_share_or_falls_back_to_its_cooperatives(client, make, people, platform_fee):
    product = make.product(people["cooperative"], certified=False)
    url = f"/api/v1/products/{product}/household-share"
    own = client.put(url, headers=people["staff"], json={"household_share_bp": 3000})
    assert own.status_code == 200 and own.json["effective_household_share_bp"] == 3000
    assert client.put(url, headers=people["staff"], json={"household_share_bp": 9600}).status_code == 422
    back = client.put(url, headers=people["staff"], json={"household_share_bp": None})
    assert back.status_code == 200 and back.json["household_share_bp"] is None
    assert back.json["effective_household_share_bp"] == make.get(Cooperative, people["cooperative"]).household_share_bp
    assert make.get(Product, product).household_share_bp is None


def test_a_product_narrows_its_sourcing_to_linked_households_only(client, make, people):
    product = make.product(people["cooperative"], certified=False)
    linked, proposed, stranger = (make.household(county=RAOYANG) for _ in range(3))
    make.link(people["cooperative"], linked)
    make.link(people["cooperative"], proposed, confirmed=False)
    url = f"/api/v1/products/{product}/sourcing"
    assert client.get(url, headers=people["staff"]).json["household_ids"] == []
    refused = client.put(url, headers=people["staff"], json={"household_ids": [linked, stranger]})
    assert refused.status_code == 422 and str(stranger) in refused.json["error"]["fields"]["household_ids"][0]
    saved = client.put(url, headers=people["staff"], json={"household_ids": [proposed, linked, linked]})
    assert saved.status_code == 200 and saved.json["household_ids"] == sorted([linked, proposed])
    assert client.get(url, headers=people["staff"]).json["household_ids"] == sorted([linked, proposed])
    assert client.put(url, headers=people["staff"], json={"household_ids": []}).json["household_ids"] == []
    other_product = make.product(make.cooperative(), certified=False)
    assert (
        client.put(
            f"/api/v1/products/{other_product}/sourcing", headers=people["staff"], json={"household_ids": []}
        ).status_code
        == 403
    )


def test_the_share_form_refuses_a_share_that_does_not_fit_the_fee_with_the_services_message(
    app, make, people, platform_fee
):
    staff = app.test_client()
    login(staff, make.get(User, people["staff_id"]).email)
    url = f"/coop/{people['cooperative']}/household-share"
    token = csrf_token(staff, url)
    refused = staff.post(
        url, data={"csrf_token": token, "household_share_bp": "9501"}, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 422
    assert "The platform fee (500 bp) plus this share would exceed 10000 bp" in refused.get_data(as_text=True)
    assert make.get(Cooperative, people["cooperative"]).household_share_bp != 9501
    assert staff.post(url, data={"csrf_token": token, "household_share_bp": "9500"}).status_code == 302
    assert make.get(Cooperative, people["cooperative"]).household_share_bp == 9500


def test_the_product_page_refuses_a_share_over_the_fee_in_settlements_panel_and_keeps_the_sourcing(
    app, make, people, platform_fee, monkeypatch
):
    """The share card of the households' product page is settlement's (registered, not imported): it refuses
    with the service's message, and without it the page still serves the sourcing."""
    product = make.product(people["cooperative"], certified=False)
    staff = app.test_client()
    login(staff, make.get(User, people["staff_id"]).email)
    url = f"/coop/products/{product}/households"
    page = staff.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="share-household_share_bp"' in page and 'max="10000"' in page
    token = csrf_token(staff, url)
    refused = staff.post(
        url,
        data={"share-csrf_token": token, "share-household_share_bp": "9501"},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert "The platform fee (500 bp) plus this share would exceed 10000 bp" in refused.get_data(as_text=True)
    assert make.get(Product, product).household_share_bp is None

    monkeypatch.delitem(app.extensions["households"], "product_share_panel")
    alone = staff.get(url, headers={"Accept-Language": "en"})
    assert alone.status_code == 200 and "share-household_share_bp" not in alone.get_data(as_text=True)
    assert staff.post(url, data={"sourcing-csrf_token": token}).status_code == 302
