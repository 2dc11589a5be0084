"""Suspending a cooperative: an operator's decision, with a reason, through the one workflow mechanism."""

from __future__ import annotations

from shop.cooperatives.models import Cooperative
from shop.extensions import db


def _bearer(make, user_id: int) -> dict:
    return {"Authorization": f"Bearer {make.token(user_id)}", "Accept-Language": "en"}


def test_a_suspension_without_a_reason_is_refused_naming_the_reason(app, client, make):
    coop = make.cooperative()
    operator = _bearer(make, make.operator_id())
    refused = client.post(f"/api/v1/cooperatives/{coop}/suspend", json={"reason": "  "}, headers=operator)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"]["reason"] == ["Say why the cooperative is suspended."]
    with app.app_context():
        assert db.session.get(Cooperative, coop).status == "active"


def test_suspending_and_reinstating_keep_the_reason_and_repeat_harmlessly(app, client, make):
    coop = make.cooperative()
    operator = _bearer(make, make.operator_id())
    url = f"/api/v1/cooperatives/{coop}"
    assert client.post(f"{url}/suspend", json={"reason": "资质过期"}, headers=operator).get_json()["status"] == (
        "suspended"
    )
    again = client.post(f"{url}/suspend", json={"reason": "再次"}, headers=operator)
    assert again.status_code == 200 and again.get_json()["status"] == "suspended"
    with app.app_context():
        assert db.session.get(Cooperative, coop).status_reason == "资质过期"  # asking again changes nothing
    assert client.post(f"{url}/reinstate", json={}, headers=operator).get_json()["status"] == "active"


def test_cooperative_staff_cannot_suspend(client, make):
    coop = make.cooperative()
    staff = _bearer(make, make.staff(coop))
    assert client.post(f"/api/v1/cooperatives/{coop}/suspend", json={"reason": "x"}, headers=staff).status_code == 403
