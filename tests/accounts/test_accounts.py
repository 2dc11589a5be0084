"""Accounts: registration, sign-in, personal API tokens, roles granted and revoked by operators."""

from __future__ import annotations

import pytest

from shop.accounts.models import ApiToken, RoleGrantEvent, User
from shop.accounts.roles import Role
from shop.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, RAOYANG


def register(client, **fields):
    data = {
        "display_name": "李梅",
        "email": "li.mei@example.com",
        "password": "peach-blossom-9",
        "password_again": "peach-blossom-9",
        **fields,
    }
    data["csrf_token"] = csrf_token(client, "/register")
    return client.post("/register", data=data)


def test_a_consumer_registers_and_is_signed_in(app, client):
    response = register(client)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.query(User).filter_by(email="li.mei@example.com").one()
        assert user.role_set == {Role.CONSUMER}
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:")) and "peach" not in user.password_hash
        assert db.session.query(RoleGrantEvent).filter_by(user_id=user.id, action="grant").count() == 1
    assert "李梅".encode() in client.get("/").data


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "e-mail"),
        ({"password": "short", "password_again": "short"}, "8"),
        ({"password_again": "different-password"}, "differ"),
        ({"display_name": ""}, "required"),
    ],
)
def test_registration_errors_are_shown_next_to_the_field(app, client, fields, message):
    client.get("/lang/en")
    response = register(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_an_e_mail_registers_once(client):
    register(client)
    other = client.application.test_client()
    response = register(other, email="LI.MEI@example.com")
    assert response.status_code == 422


def test_a_form_without_its_csrf_token_is_refused(app, client):
    response = client.post(
        "/register",
        data={"display_name": "x", "email": "x@example.com", "password": "12345678", "password_again": "12345678"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_sign_in_with_a_wrong_password_fails_without_saying_which_part(client, make):
    user = make.get(User, make.user(Role.CONSUMER))
    client.get("/lang/en")
    token = csrf_token(client, "/login")
    wrong = client.post("/login", data={"email": user.email, "password": "nope-nope", "csrf_token": token})
    unknown = client.post("/login", data={"email": "ghost@example.com", "password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 422
    assert b"Wrong e-mail or password" in wrong.data and b"Wrong e-mail or password" in unknown.data


def test_sign_in_redirects_only_to_local_pages(client, make):
    user = make.get(User, make.user(Role.CONSUMER))
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://evil.example/x", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_api_token_lifecycle(app, client, make):
    user = make.get(User, make.user(Role.CONSUMER))
    created = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD, "name": "脚本"})
    assert created.status_code == 201
    secret = created.json["token"]
    assert secret.startswith("fps_") and created.json["prefix"] == secret[:10]
    with app.app_context():
        stored = db.session.get(ApiToken, created.json["id"])
        assert stored.digest != secret and len(stored.digest) == 64
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).json["email"] == user.email
    listed = client.get("/api/v1/auth/tokens", headers=headers).json
    assert [t["name"] for t in listed] == ["脚本"] and "token" not in listed[0]
    assert client.delete(f"/api/v1/auth/tokens/{created.json['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_wrong_credentials_get_no_token(client, make):
    user = make.get(User, make.user(Role.CONSUMER))
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 401 and "token" not in response.json


@pytest.mark.parametrize("header", ["Bearer", "Bearer fps_made_up", "Basic dXNlcjpwYXNz", "fps_no_scheme"])
def test_malformed_or_unknown_tokens_are_401(client, header):
    assert client.get("/api/v1/products", headers={"Authorization": header}).status_code == 401


def test_token_creation_is_rate_limited(app, make):
    user = make.get(User, make.user(Role.CONSUMER))
    client = app.test_client()
    statuses = [
        client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "guess"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


def test_a_deactivated_user_is_out_everywhere(app, client, make):
    user_id = make.user(Role.CONSUMER)
    secret = make.token(user_id)
    login(client, make.get(User, user_id).email)
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.get("/account/tokens").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.fixture
def operator(make):
    return {"Authorization": f"Bearer {make.token(make.user(Role.OPERATOR))}"}


def test_operators_grant_scoped_roles_and_every_grant_is_recorded(app, client, make, operator):
    coop = make.cooperative()
    user_id = make.user(Role.CONSUMER)
    granted = client.post(
        f"/api/v1/users/{user_id}/roles",
        headers=operator,
        json={"role": "cooperative_staff", "cooperative_id": coop, "reason": "合作社会计"},
    )
    assert granted.status_code == 201 and granted.json["cooperative_id"] == coop
    reviewer = client.post(
        f"/api/v1/users/{user_id}/roles", headers=operator, json={"role": "county_reviewer", "region_code": RAOYANG}
    )
    assert reviewer.status_code == 201
    revoked = client.delete(f"/api/v1/users/{user_id}/roles/{granted.json['id']}?reason=离职", headers=operator)
    assert revoked.status_code == 204
    with app.app_context():
        events = db.session.query(RoleGrantEvent).filter_by(user_id=user_id).order_by(RoleGrantEvent.id).all()
        assert [(e.role, e.action, e.reason) for e in events] == [
            ("consumer", "grant", ""),
            ("cooperative_staff", "grant", "合作社会计"),
            ("county_reviewer", "grant", ""),
            ("cooperative_staff", "revoke", "离职"),
        ]
        assert all(e.actor_id is not None for e in events[1:])
        assert db.session.get(User, user_id).role_set == {Role.CONSUMER, Role.COUNTY_REVIEWER}


@pytest.mark.parametrize(
    ("grant", "field"),
    [
        ({"role": "cooperative_staff"}, "cooperative_id"),
        ({"role": "cooperative_staff", "cooperative_id": 999999}, "cooperative_id"),
        ({"role": "county_reviewer"}, "region_code"),
        ({"role": "county_reviewer", "region_code": "130000"}, "region_code"),  # a province for a county role
        ({"role": "province_reviewer", "region_code": RAOYANG}, "region_code"),
        ({"role": "consumer", "region_code": RAOYANG}, "region_code"),
        ({"role": "operator", "cooperative_id": 1}, "cooperative_id"),
        ({"role": "emperor"}, "role"),
    ],
)
def test_a_grant_must_name_exactly_the_scope_its_role_needs(client, make, operator, grant, field):
    user_id = make.user(Role.CONSUMER)
    response = client.post(f"/api/v1/users/{user_id}/roles", headers=operator, json=grant)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json


def test_the_same_grant_twice_is_one_role(app, client, make, operator):
    user_id = make.user(Role.CONSUMER)
    for _ in range(2):
        assert (
            client.post(
                f"/api/v1/users/{user_id}/roles",
                headers=operator,
                json={"role": "province_reviewer", "region_code": "13"},
            ).status_code
            == 201
        )
    with app.app_context():
        assert [r.role for r in db.session.get(User, user_id).roles].count("province_reviewer") == 1


def test_operators_manage_roles_on_their_pages(app, client, make):
    operator_id = make.user(Role.OPERATOR)
    user_id = make.user(Role.CONSUMER)
    login(client, make.get(User, operator_id).email)
    page = f"/ops/users/{user_id}"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "role": "province_reviewer",
            "region_code": "420000",
            "reason": "湖北省审核",
        },
    )
    assert response.status_code == 302
    assert "湖北省审核" in client.get(page).get_data(as_text=True)
    bad = client.post(
        page, data={"csrf_token": csrf_token(client, page), "role": "county_reviewer", "region_code": "12"}
    )
    assert bad.status_code == 422
