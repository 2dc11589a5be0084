"""Personal data by role: in full for the reviewers of the household's county and operators, masked for others."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from shop.accounts.models import User
from shop.accounts.roles import Role
from tests.conftest import login
from tests.factories import RAOYANG, SHENZHOU

NAME, ACCOUNT = "李四光", "6228480012345678"
ID_NUMBER = "13112419600101001" + ric.calc_check_digit("13112419600101001?")


@pytest.fixture
def household(make, people):
    household_id = make.household(
        county=RAOYANG, head_name=NAME, id_number=ID_NUMBER, payout_account_name=NAME, payout_account_number=ACCOUNT
    )
    make.link(people["cooperative"], household_id)
    return household_id


FULL = {"head_name": NAME, "payout_account_name": NAME}
MASKED = {"head_name": "李**", "payout_account_name": "李**"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("county", "full"),
        ("operator", "full"),
        ("province", "masked"),
        ("staff", "masked"),
        ("other_county", 404),
        ("consumer", 403),
    ],
)
def test_who_sees_a_households_personal_data(client, people, household, who, expected):
    response = client.get(f"/api/v1/households/{household}", headers=people[who])
    if isinstance(expected, int):
        assert response.status_code == expected
        assert NAME not in response.get_data(as_text=True)
        return
    assert response.status_code == 200, response.json
    body = response.json
    if expected == "full":
        assert body["personal_data_visible"] is True
        assert (body["head_name"], body["id_number"], body["payout_account_number"]) == (NAME, ID_NUMBER, ACCOUNT)
    else:
        assert body["personal_data_visible"] is False
        assert body["head_name"] == "李**"
        assert body["id_number"] == ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
        assert body["payout_account_number"] == "6228********5678"
        assert body["payout_account_name"] == "李**"
        assert NAME not in response.get_data(as_text=True) and ID_NUMBER not in response.get_data(as_text=True)


def test_the_list_is_scoped_and_masked_by_role(client, make, people, household):
    make.household(county=SHENZHOU)  # another county, not linked to the cooperative
    make.household(county="420683")  # another province

    def listing(who):
        response = client.get("/api/v1/households", headers=people[who])
        assert response.status_code == 200
        return {item["id"]: item for item in response.json["items"]}

    assert len(listing("operator")) == 3
    assert list(listing("county")) == [household] and listing("county")[household]["head_name"] == NAME
    assert len(listing("province")) == 2 and all(not i["personal_data_visible"] for i in listing("province").values())
    assert list(listing("staff")) == [household] and listing("staff")[household]["head_name"] == "李**"
    assert len(listing("other_county")) == 1  # their own county's household only
    assert client.get("/api/v1/households", headers=people["consumer"]).status_code == 403


def test_the_household_page_shows_the_id_number_only_to_its_county(app, client, make, people, household):
    county_client, province_client = app.test_client(), app.test_client()
    login(county_client, make.get(User, people["county_id"]).email)
    login(province_client, make.get(User, people["province_id"]).email)
    full = county_client.get(f"/households/{household}").get_data(as_text=True)
    assert ID_NUMBER in full and ACCOUNT in full
    masked = province_client.get(f"/households/{household}")
    assert masked.status_code == 200
    text = masked.get_data(as_text=True)
    assert ID_NUMBER not in text and ACCOUNT not in text and NAME not in text and "李**" in text
    listing = province_client.get("/households/").get_data(as_text=True)
    assert ID_NUMBER not in listing and "李**" in listing


def test_a_cooperative_staff_member_without_a_link_sees_nothing(client, make, people, household):
    other_staff = make.token(make.staff(make.cooperative()))
    headers = {"Authorization": f"Bearer {other_staff}"}
    assert client.get(f"/api/v1/households/{household}", headers=headers).status_code == 404
    assert client.get("/api/v1/households", headers=headers).json["items"] == []


def test_the_masking_function_for_other_areas(app, make, people, household):
    from shop.extensions import db
    from shop.households.models import Household
    from shop.households.privacy import can_see_personal_data, household_view

    with app.app_context():
        h = db.session.get(Household, household)
        county, province = db.session.get(User, people["county_id"]), db.session.get(User, people["province_id"])
        assert can_see_personal_data(county, h) and not can_see_personal_data(province, h)
        assert not can_see_personal_data(None, h)
        assert household_view(province, h).id_number.startswith("1311****")
        assert Role.COUNTY_REVIEWER in county.role_set
