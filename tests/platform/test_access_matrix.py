"""Route × role matrix: every route declares who may use it, and everyone else gets 401/403.

EXPECTED is the reviewed table of who may call what. A new route fails this test until it declares a rule
and is added here, so no route is ever open by accident.
"""

from __future__ import annotations

import pytest
from flask import Flask

from shop.access import PUBLIC, SIGNED_IN, AccessRule, roles, rule_for
from shop.accounts.roles import Role
from tests.conftest import login
from tests.factories import RAOYANG

OPERATOR = roles(Role.OPERATOR)
STAFF_ONLY = roles(Role.COOPERATIVE_STAFF)
STAFF = roles(Role.COOPERATIVE_STAFF, Role.OPERATOR)
REVIEWERS = roles(Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER)
BUYERS = roles(Role.CONSUMER)
HOUSEHOLD_READERS = roles(Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER, Role.OPERATOR)
HOUSEHOLD_VIEWERS = roles(Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER, Role.COOPERATIVE_STAFF, Role.OPERATOR)
DECIDERS = roles(Role.COUNTY_REVIEWER, Role.OPERATOR)
LINK_PARTIES = roles(Role.COOPERATIVE_STAFF, Role.COUNTY_REVIEWER, Role.OPERATOR)
ORG_ADMINS = roles(Role.ORG_ADMIN)
ORG_ADMINS_AND_OPERATORS = roles(Role.ORG_ADMIN, Role.OPERATOR)
ORG_MEMBERS = roles(Role.ORG_ADMIN, Role.ORG_PURCHASER, Role.ORG_APPROVER)
ORG_MEMBERS_AND_OPERATORS = roles(Role.ORG_ADMIN, Role.ORG_PURCHASER, Role.ORG_APPROVER, Role.OPERATOR)
PURCHASERS = roles(Role.ORG_PURCHASER)
APPROVERS = roles(Role.ORG_APPROVER)
PURCHASERS_AND_APPROVERS = roles(Role.ORG_PURCHASER, Role.ORG_APPROVER)

EXPECTED: dict[tuple[str, str], AccessRule] = {
    ("static", "GET"): PUBLIC,
    ("api-docs.openapi_json", "GET"): PUBLIC,
    ("api-docs.openapi_swagger_ui", "GET"): PUBLIC,
    ("catalog.home", "GET"): PUBLIC,
    ("web.switch_language", "GET"): PUBLIC,
    ("accounts.register", "GET"): PUBLIC,
    ("accounts.register", "POST"): PUBLIC,
    ("accounts.login", "GET"): PUBLIC,
    ("accounts.login", "POST"): PUBLIC,
    ("accounts.logout", "POST"): SIGNED_IN,
    ("accounts.tokens", "GET"): SIGNED_IN,
    ("accounts.tokens", "POST"): SIGNED_IN,
    ("accounts.revoke_token", "POST"): SIGNED_IN,
    ("accounts.ops_users", "GET"): OPERATOR,
    ("accounts.ops_user", "GET"): OPERATOR,
    ("accounts.ops_user", "POST"): OPERATOR,
    ("accounts.ops_revoke_role", "POST"): OPERATOR,
    ("catalog.catalogue", "GET"): PUBLIC,
    ("catalog.product", "GET"): PUBLIC,
    ("catalog.photo", "GET"): PUBLIC,
    ("catalog.new_product", "GET"): STAFF,
    ("catalog.new_product", "POST"): STAFF,
    ("catalog.edit_product", "GET"): STAFF,
    ("catalog.edit_product", "POST"): STAFF,
    ("catalog.upload_photo", "POST"): STAFF,
    ("catalog.delete_photo", "POST"): STAFF,
    ("cooperatives.dashboard", "GET"): STAFF_ONLY,
    ("catalog.cooperative_home", "GET"): STAFF,
    ("cooperatives.edit_profile", "GET"): STAFF,
    ("cooperatives.edit_profile", "POST"): STAFF,
    ("cooperatives.ops_list", "GET"): OPERATOR,
    ("cooperatives.ops_new", "GET"): OPERATOR,
    ("cooperatives.ops_new", "POST"): OPERATOR,
    ("cooperatives.ops_edit", "GET"): OPERATOR,
    ("cooperatives.ops_edit", "POST"): OPERATOR,
    ("cooperatives.ops_set_status", "POST"): OPERATOR,
    ("accounts_api.create_token", "POST"): PUBLIC,
    ("accounts_api.list_tokens", "GET"): SIGNED_IN,
    ("accounts_api.revoke_token", "DELETE"): SIGNED_IN,
    ("accounts_api.me", "GET"): SIGNED_IN,
    ("accounts_api.list_users", "GET"): OPERATOR,
    ("accounts_api.grant_role", "POST"): OPERATOR,
    ("accounts_api.revoke_role", "DELETE"): OPERATOR,
    ("catalog_api.list_products", "GET"): PUBLIC,
    ("catalog_api.get_product", "GET"): PUBLIC,
    ("catalog_api.create_product", "POST"): STAFF,
    ("catalog_api.update_product", "PATCH"): STAFF,
    ("catalog_api.upload_photo", "POST"): STAFF,
    ("catalog_api.delete_photo", "DELETE"): STAFF,
    ("cooperatives_api.list_cooperatives", "GET"): PUBLIC,
    ("cooperatives_api.get_cooperative", "GET"): PUBLIC,
    ("cooperatives_api.get_profile", "GET"): STAFF,
    ("cooperatives_api.create_cooperative", "POST"): OPERATOR,
    ("cooperatives_api.update_cooperative", "PATCH"): STAFF,
    ("cooperatives_api.suspend", "POST"): OPERATOR,
    ("cooperatives_api.reinstate", "POST"): OPERATOR,
    ("regions_api.list_regions", "GET"): PUBLIC,
    # Certification
    ("catalog.certified_directory", "GET"): PUBLIC,
    ("catalog.certified_directory_csv", "GET"): PUBLIC,
    ("certification.verify", "GET"): PUBLIC,
    ("certification.verify_form", "GET"): PUBLIC,
    ("certification.qr_code", "GET"): PUBLIC,
    ("certification.notices", "GET"): PUBLIC,
    ("certification.applications", "GET"): roles(
        Role.COOPERATIVE_STAFF, Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER, Role.OPERATOR
    ),
    ("certification.new_application", "GET"): STAFF_ONLY,
    ("certification.new_application", "POST"): STAFF_ONLY,
    ("certification.application", "GET"): SIGNED_IN,
    ("certification.application", "POST"): SIGNED_IN,
    ("certification.upload_document", "POST"): STAFF_ONLY,
    ("certification.document", "GET"): SIGNED_IN,
    ("certification.transition", "POST"): SIGNED_IN,
    ("certification.object_to", "POST"): SIGNED_IN,
    ("certification.queue", "GET"): REVIEWERS,
    ("certification.certificates", "GET"): STAFF_ONLY,
    ("certification.calendar", "GET"): OPERATOR,
    ("certification.calendar", "POST"): OPERATOR,
    ("certification.tick", "POST"): OPERATOR,
    ("certificates_api.verify_certificate", "GET"): PUBLIC,
    ("certification_api.create_application", "POST"): STAFF_ONLY,
    ("certification_api.list_applications", "GET"): SIGNED_IN,
    ("certification_api.get_application", "GET"): SIGNED_IN,
    ("certification_api.update_application", "PATCH"): STAFF_ONLY,
    ("certification_api.upload_document", "POST"): STAFF_ONLY,
    ("certification_api.download_document", "GET"): SIGNED_IN,
    ("certification_api.transition", "POST"): SIGNED_IN,
    ("certification_api.raise_objection", "POST"): SIGNED_IN,
    ("certification_api.review_queue", "GET"): REVIEWERS,
    ("certification_api.run_tick", "POST"): OPERATOR,
    ("certification_api.calendar", "GET"): SIGNED_IN,
    ("certification_api.set_calendar_day", "PUT"): OPERATOR,
    # Cart and orders
    ("orders_api.get_cart", "GET"): BUYERS,
    ("orders_api.set_cart_item", "POST"): BUYERS,
    ("orders_api.place_order", "POST"): BUYERS,
    ("orders_api.list_orders", "GET"): BUYERS,
    ("orders_api.get_order", "GET"): SIGNED_IN,
    ("orders_api.ship", "POST"): STAFF_ONLY,
    ("orders_api.confirm_receipt", "POST"): BUYERS,
    ("orders_api.cancel", "POST"): BUYERS,
    ("orders_api.pay", "POST"): BUYERS,
    ("orders_api.request_refund", "POST"): roles(Role.CONSUMER, Role.OPERATOR),
    ("orders_api.approve_refund", "POST"): STAFF,
    ("orders_api.reject_refund", "POST"): STAFF,
    ("payments_api.stripe_webhook", "POST"): PUBLIC,
    # Cart, checkout and order pages (guests keep a cart in the session)
    ("cart.show", "GET"): PUBLIC,
    ("cart.add", "POST"): PUBLIC,
    ("cart.buy_now", "POST"): PUBLIC,
    ("cart.update", "POST"): PUBLIC,
    ("cart.remove", "POST"): PUBLIC,
    ("orders.checkout", "GET"): BUYERS,
    ("orders.checkout", "POST"): BUYERS,
    ("orders.my_orders", "GET"): BUYERS,
    ("orders.detail", "GET"): SIGNED_IN,
    ("orders.pay", "GET"): BUYERS,
    ("orders.pay", "POST"): BUYERS,
    ("orders.cancel", "POST"): BUYERS,
    ("orders.confirm_receipt", "POST"): BUYERS,
    ("orders.to_ship", "GET"): STAFF_ONLY,
    ("orders.ship", "POST"): STAFF_ONLY,
    ("orders.ops_orders", "GET"): OPERATOR,
    ("orders.request_refund", "POST"): BUYERS,
    ("orders.refunds_to_decide", "GET"): STAFF_ONLY,
    ("orders.approve_refund", "POST"): STAFF,
    ("orders.reject_refund", "POST"): STAFF,
    ("orders.operator_refund", "POST"): OPERATOR,
    # Households and benefit links (personal data: who sees it unmasked is decided by shop.households.privacy)
    ("households.index", "GET"): HOUSEHOLD_READERS,
    ("households.import_page", "GET"): DECIDERS,
    ("households.import_page", "POST"): DECIDERS,
    ("households.detail", "GET"): HOUSEHOLD_VIEWERS,
    ("households.pending", "GET"): DECIDERS,
    ("households.act_on_link", "POST"): LINK_PARTIES,
    ("households.my_links", "GET"): STAFF_ONLY,
    ("households.cooperative_links", "GET"): STAFF,
    ("households.cooperative_links", "POST"): STAFF,
    ("households.product_households", "GET"): STAFF,
    ("households.product_households", "POST"): STAFF,
    ("households_api.list_households", "GET"): HOUSEHOLD_VIEWERS,
    ("households_api.get_household", "GET"): HOUSEHOLD_VIEWERS,
    ("households_api.import_households", "POST"): DECIDERS,
    ("households_api.cooperative_links", "GET"): STAFF,
    ("households_api.propose_link", "POST"): STAFF,
    ("households_api.list_links", "GET"): LINK_PARTIES,
    ("households_api.confirm_link", "POST"): DECIDERS,
    ("households_api.reject_link", "POST"): DECIDERS,
    ("households_api.end_link", "POST"): LINK_PARTIES,
    ("households_api.get_sourcing", "GET"): STAFF,
    ("households_api.set_sourcing", "PUT"): STAFF,
    # Settlement, household ledgers (一户一台账) and payouts
    ("settlement_api.start_run", "POST"): OPERATOR,
    ("settlement_api.household_ledger", "GET"): DECIDERS,
    ("settlement_api.cooperative_settlements", "GET"): STAFF,
    ("settlement_api.set_cooperative_share", "PUT"): STAFF,
    ("settlement_api.set_product_share", "PUT"): STAFF,
    ("payouts_api.create_batch", "POST"): OPERATOR,
    ("payouts_api.list_batches", "GET"): OPERATOR,
    ("payouts_api.get_batch", "GET"): OPERATOR,
    ("payouts_api.batch_csv", "GET"): OPERATOR,
    ("payouts_api.record_paid", "POST"): OPERATOR,
    ("settlement.household_ledger", "GET"): DECIDERS,
    ("settlement.household_ledger_csv", "GET"): DECIDERS,
    ("settlement.cooperative_settlements", "GET"): STAFF,
    ("settlement.cooperative_share", "GET"): STAFF,
    ("settlement.cooperative_share", "POST"): STAFF,
    ("settlement.ops_settlement", "GET"): OPERATOR,
    ("settlement.ops_settlement", "POST"): OPERATOR,
    ("payouts.batches", "GET"): OPERATOR,
    ("payouts.batches", "POST"): OPERATOR,
    ("payouts.batch", "GET"): OPERATOR,
    ("payouts.batch_csv", "GET"): OPERATOR,
    ("payouts.record_outcome", "POST"): OPERATOR,
    # Organizations, their people and years (shop/organizations/)
    # (end of organizations)
    #
    #
    # Bulk orders (shop/bulk/)
    # (end of bulk)
    #
    #
    # Bank transfers (shop/transfers/)
    # (end of transfers)
    #
    #
    # Acceptance, ratings and invoices (shop/acceptance/, shop/invoices/)
    # (end of acceptance)
    #
    #
    # Reserved share and impact (shop/impact/)
    # (end of impact)
    #
    #
}

SAMPLE_ARGS = {
    "filename": "css/app.css",
    "code": "en",
    "stored_name": "missing.jpg",
    "status": "suspended",
    "certificate_no": "FP13-2026-999999",
    "fmt": "svg",
}
MISSING_ID = 987654


def registered_routes(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        args = {name: SAMPLE_ARGS.get(name, MISSING_ID) for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def test_every_route_declares_the_reviewed_rule(app):
    declared = {(endpoint, method): rule_for(app, endpoint, method) for endpoint, method, _ in registered_routes(app)}
    undeclared = sorted(key for key, rule in declared.items() if rule is None)
    assert undeclared == [], f"routes without an access rule: {undeclared}"
    assert set(declared) == set(EXPECTED), (
        f"new routes: {sorted(set(declared) - set(EXPECTED))}; gone: {sorted(set(EXPECTED) - set(declared))}"
    )
    changed = {key: (str(EXPECTED[key]), str(rule)) for key, rule in declared.items() if rule != EXPECTED[key]}
    assert changed == {}, f"rules differ from the reviewed table (expected, declared): {changed}"


IDENTITIES = ["anonymous", *[role.value for role in Role]]


@pytest.fixture
def identities(app, make):
    cooperative_id = make.cooperative()
    organization_id = make.organization()
    scopes = {
        Role.COOPERATIVE_STAFF: {"cooperative_id": cooperative_id},
        Role.ORG_ADMIN: {"organization_id": organization_id},
        Role.ORG_PURCHASER: {"organization_id": organization_id},
        Role.ORG_APPROVER: {"organization_id": organization_id},
        Role.COUNTY_REVIEWER: {"region_code": RAOYANG},
        Role.PROVINCE_REVIEWER: {"region_code": "130000"},
    }
    clients = {"anonymous": (app.test_client(), None)}
    for role in Role:
        user_id = make.user((role, scopes.get(role, {})))
        client = app.test_client()
        from shop.accounts.models import User

        login(client, make.get(User, user_id).email)
        clients[role.value] = (client, make.token(user_id))
    return clients


def _refused(response, is_api: bool) -> bool:
    if is_api:
        return response.status_code in (401, 403)
    if response.status_code == 302:
        return "/login" in response.headers["Location"]
    return response.status_code in (401, 403)


def test_each_identity_is_admitted_or_refused_as_declared(app, identities):
    failures = []
    for endpoint, method, url in registered_routes(app):
        rule = EXPECTED[(endpoint, method)]
        is_api = url.startswith("/api/")
        for identity in IDENTITIES:
            client, token = identities[identity]
            english = {"Accept-Language": "en"}  # the refusal's wording is matched below
            if is_api:
                # The API ignores session cookies: a fresh client with only the bearer token.
                headers = {"Authorization": f"Bearer {token}", **english} if token else english
                response = app.test_client().open(url, method=method, headers=headers, json={})
            else:
                response = client.open(url, method=method, data={}, headers=english)
            if identity == "anonymous":
                admitted = rule.kind == "public"
            else:
                admitted = rule.kind in ("public", "signed_in") or Role(identity) in rule.roles
            refused = _refused(response, is_api)
            body = response.get_data(as_text=True)
            if admitted and refused and "Your roles do not allow this" not in body and response.status_code == 403:
                refused = False  # a service refused a missing object's scope, not the access rule
            if admitted == refused:
                failures.append((identity, method, url, response.status_code))
            assert response.status_code < 500, (identity, method, url, body[:300])
    assert failures == [], f"(identity, method, url, status) not as declared: {failures}"


def test_anonymous_api_calls_get_401_with_the_error_envelope(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]["code"] == "unauthenticated"


def test_the_api_ignores_the_session_cookie(app, make):
    """A signed-in browser session must not authenticate API calls (that would open the API to CSRF)."""
    user_id = make.user(Role.OPERATOR)
    from shop.accounts.models import User

    client = app.test_client()
    login(client, make.get(User, user_id).email)
    assert client.get("/ops/users").status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    # Nor is the session opened under /api/: no answer reads, renews or sets the cookie (the page language
    # chosen in the session does not apply either; the API follows Accept-Language).
    assert client.get("/lang/en").status_code == 302  # the pages are in English from now on
    listing = client.get("/api/v1/products", headers={"Accept-Language": "zh-CN"})
    assert listing.status_code == 200 and "Set-Cookie" not in listing.headers
    refused = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert "Set-Cookie" not in refused.headers
    assert not refused.json["error"]["message"].startswith("A valid API token")  # in Chinese, as asked
    assert client.get("/ops/users").status_code == 200  # the pages still have their session


def test_role_groups_are_defined_once_in_the_access_module():
    """Every route names a group of shop.access; no module builds its own group of roles."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    builders = [
        str(path.relative_to(root))
        for area in ("shop", "certification")
        for path in (root / area).rglob("*.py")
        if path.name != "access.py" and re.search(r"(?<![\w.])roles\(", path.read_text(encoding="utf-8"))
    ]
    assert builders == []
