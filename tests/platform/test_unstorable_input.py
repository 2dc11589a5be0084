"""No answer >= 500 for any input (issue #12): text no database can store, numbers no column can hold, JSON that
Python's parser gives up on. Each is refused with a 4xx that names the field, on every route of the URL map,
pages and API, signed in or not (shop/web/inputs.py is the one place that checks)."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.extensions import db
from tests.catalog.test_api_writes import image_bytes
from tests.conftest import csrf_token, login
from tests.factories import RAOYANG
from tests.payments.helpers import ADDRESS, bearer

BEYOND_ROW_IDS = [2**31, 2**63, 10**20]  # past Integer on PostgreSQL, past 64 bits (SQLite), past both
DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def everyone(app, make):
    """A user holding every role, so each route's access rule admits them: the route's own input check is what
    answers. Signed in on `client` (pages) and with a token (API)."""
    coop = make.cooperative()
    user = make.user(
        Role.OPERATOR,
        Role.CONSUMER,
        (Role.COOPERATIVE_STAFF, {"cooperative_id": coop}),
        (Role.COUNTY_REVIEWER, {"region_code": RAOYANG}),
        (Role.PROVINCE_REVIEWER, {"region_code": RAOYANG[:2] + "0000"}),
    )
    return {"id": user, "token": make.token(user), "coop": coop}


@pytest.fixture
def signed_in(client, everyone):
    login(client, _email(client, everyone["id"]))
    return {**everyone, "csrf": csrf_token(client, "/account/tokens")}


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


WEBHOOK = "/api/v1/payments/stripe/webhook"


def _api_writes(app):
    """The API's writes whose JSON body the input check reads: all but the provider's webhook, which verifies
    its body's signature first and loads it by its own schema (tests/payments/test_webhook_trust.py)."""
    for rule, method in _routes(app):
        if method != "GET" and rule.rule.startswith("/api/") and rule.rule != WEBHOOK:
            yield rule, method


def _is_int(rule, argument) -> bool:
    return isinstance(rule._converters[argument], IntegerConverter)


def _url(rule, ints=1, text="FP1", **values) -> str:
    arguments = {a: (ints if _is_int(rule, a) else text) for a in rule.arguments}
    return rule.build({**arguments, **values}, append_unknown=False)[1]


def _send(client, who, rule, method, url, **kwargs):
    """A request as `who` would send it: the API with the bearer token, a page form with the CSRF token."""
    if rule.rule.startswith("/api/"):
        kwargs.setdefault("headers", bearer(who["token"]))
    elif method != "GET":
        data = kwargs.setdefault("data", {})
        data.setdefault("csrf_token", who["csrf"])
    return client.open(url, method=method, **kwargs)


def _names(response, field: str) -> bool:
    """The 4xx answer names the field: in the JSON envelope, or on the HTML error page."""
    if response.is_json:
        return field in response.json["error"]["fields"]
    return f"<strong>{field}</strong>" in response.get_data(as_text=True)


# --- Row ids beyond the column ------------------------------------------------------------------------------


def test_a_row_id_beyond_the_integer_column_finds_no_route_anywhere(app, client, signed_in):
    wrong = []
    for rule, method in _routes(app):
        for argument in [a for a in rule.arguments if _is_int(rule, a)]:
            for big in BEYOND_ROW_IDS:
                url = _url(rule, **{argument: big})
                answer = _send(client, signed_in, rule, method, url)
                if answer.status_code != 404:
                    wrong.append((method, url, answer.status_code))
    assert wrong == []


def test_strangers_get_404_for_a_row_id_beyond_the_column(app, client):
    wrong = []
    for rule, method in _routes(app):
        if method != "GET" and not rule.rule.startswith("/api/"):
            continue  # a page's form POST without a CSRF token is refused with 400 before anything else
        for argument in [a for a in rule.arguments if _is_int(rule, a)]:
            answer = client.open(_url(rule, **{argument: 2**31}), method=method)
            if answer.status_code != 404:
                wrong.append((method, rule.rule, answer.status_code))
    assert wrong == []


def test_the_examples_of_the_issue_answer_404(client):
    api = client.get("/api/v1/products/2147483648")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
    assert client.get("/products/2147483648").status_code == 404
    assert client.get("/products/99999999999999999999").status_code == 404


def test_the_api_documents_the_range_of_path_ids(client):
    spec = client.get("/api/v1/openapi.json").json
    (param,) = spec["paths"]["/api/v1/products/{product_id}"]["parameters"]
    assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_a_buy_now_link_to_a_product_id_beyond_the_column_is_an_unusable_link(client, make):
    login(client, _email(client, make.user(Role.CONSUMER)))
    for product in ("99999999999999999999", "2147483648"):
        page = client.get(f"/checkout?product={product}&quantity=1")
        assert page.status_code == 302 and page.headers["Location"].endswith("/products")


def test_the_product_form_refuses_a_product_id_beyond_the_column(client, make):
    login(client, _email(client, make.user(Role.CONSUMER)))
    token = csrf_token(client, "/cart")
    for path in ("/cart/items", "/buy-now"):
        answer = client.post(path, data={"product_id": "2147483648", "quantity": "1", "csrf_token": token})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/products")


def test_ids_beyond_the_column_in_a_body_or_query_are_refused_by_name(client, make):
    staff = bearer(make.token(make.user(Role.OPERATOR)))
    product = make.product(certified=False)
    sourcing = client.put(f"/api/v1/products/{product}/sourcing", json={"household_ids": [2**31]}, headers=staff)
    assert sourcing.status_code == 422 and "household_ids" in sourcing.json["error"]["fields"]
    households = client.get("/api/v1/households?page=99999999999999999999", headers=staff)
    assert households.status_code == 422 and "page" in households.json["error"]["fields"]
    buyer = bearer(make.token(make.user(Role.CONSUMER)))
    line = {"checkout_key": "too-big-0001", **ADDRESS, "lines": [{"product_id": 2**31, "quantity": 1}]}
    order = client.post("/api/v1/orders", json=line, headers=buyer)
    assert order.status_code == 422 and "lines" in order.json["error"]["fields"]


# --- NUL and unpaired surrogates ----------------------------------------------------------------------------


def test_a_nul_in_a_path_segment_finds_nothing(app, client, signed_in):
    wrong = []
    for rule, method in _routes(app):
        if all(_is_int(rule, a) for a in rule.arguments):
            continue
        url = _url(rule, text="FP\x00")
        answer = _send(client, signed_in, rule, method, url)
        if answer.status_code != 404:
            wrong.append((method, url, answer.status_code))
    assert wrong == []


def test_a_nul_in_any_query_parameter_is_refused_by_name_on_every_route(app, client, signed_in):
    wrong = []
    for rule, method in _routes(app):
        answer = _send(client, signed_in, rule, method, _url(rule) + "?q=a%00")
        if answer.status_code != 422 or not _names(answer, "q"):
            wrong.append((method, rule.rule, answer.status_code))
    assert wrong == []


def test_a_nul_in_any_form_field_is_refused_by_name_on_every_page(app, client, signed_in):
    wrong = []
    for rule, method in _routes(app):
        if method == "GET" or rule.rule.startswith("/api/"):
            continue
        answer = _send(client, signed_in, rule, method, _url(rule), data={"name": "a\x00"})
        if answer.status_code != 422 or not _names(answer, "name"):
            wrong.append((method, rule.rule, answer.status_code))
    assert wrong == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "a\\u0000"}', "name"),
        ('{"name": "\\ud800"}', "name"),
        ('{"lines": [{"detail": "x"}, {"detail": "\\udfff"}]}', "lines.1.detail"),
        ('{"na\\u0000me": 1}', "na\\u0000me"),
        ('{"quantity": 99999999999999999999}', "quantity"),
    ],
    ids=["nul", "surrogate", "nested", "in-a-key", "beyond-64-bits"],
)
def test_every_api_write_refuses_an_unstorable_value_by_name(app, client, everyone, body, field):
    wrong = []
    for rule, method in _api_writes(app):
        answer = _send(client, everyone, rule, method, _url(rule), data=body, content_type="application/json")
        if answer.status_code != 422 or field not in answer.json["error"]["fields"]:
            wrong.append((method, rule.rule, answer.status_code))
    assert wrong == []
    assert client.post(WEBHOOK, data=body, content_type="application/json").status_code == 400  # unsigned


@pytest.mark.parametrize(
    "body",
    [DEEP_JSON, '{"quantity": ' + "9" * 5000 + "}", '{"price_fen": NaN}', "[" * 40 + "]" * 40],
    ids=["nested-100000-deep", "5000-digits", "nan", "nested-40-deep"],
)
def test_every_api_write_refuses_json_it_cannot_use_with_400(app, client, everyone, body):
    wrong = []
    for rule, method in _api_writes(app):
        answer = _send(client, everyone, rule, method, _url(rule), data=body, content_type="application/json")
        if answer.status_code != 400 or "json" not in answer.json["error"]["fields"]:
            wrong.append((method, rule.rule, answer.status_code))
    assert wrong == []
    assert client.post(WEBHOOK, data=body, content_type="application/json").status_code == 400  # unsigned


def test_strangers_get_a_named_refusal_for_a_nul_where_the_issue_found_500s(client):
    """The examples of the issue, without signing in."""
    listing = client.get("/api/v1/products?q=%00")
    assert listing.status_code == 422 and "q" in listing.json["error"]["fields"]
    assert client.get("/verify/FP%00").status_code == 404
    assert client.get("/api/v1/certificates/FP%00").status_code == 404
    catalogue = client.get("/products?q=%00")
    assert catalogue.status_code == 422 and _names(catalogue, "q")
    for form in ("/login", "/register"):
        data = {"email": "a\x00@example.com", "password": "a\x00", "csrf_token": csrf_token(client, form)}
        answer = client.post(form, data=data)
        assert answer.status_code == 422 and _names(answer, "email") and _names(answer, "password"), form
    body = '{"email": "a\\u0000@example.com", "password": "x", "name": "\\ud800"}'
    token = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")
    assert token.status_code == 422 and {"email", "name"} <= set(token.json["error"]["fields"])


def test_a_file_name_with_a_nul_is_refused_by_name(client, signed_in, make):
    import io

    product = make.product(signed_in["coop"], certified=False)
    upload = (io.BytesIO(image_bytes()), "photo\x00.png")
    answer = client.post(
        f"/api/v1/products/{product}/photos",
        data={"photo": upload},
        headers=bearer(signed_in["token"]),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "photo" in answer.json["error"]["fields"]


# --- A direct order line without its product --------------------------------------------------------------------


def test_an_order_line_without_its_product_is_refused_by_name(client, make):
    buyer = bearer(make.token(make.user(Role.CONSUMER)))
    body = {"checkout_key": "no-product-0001", **ADDRESS, "lines": [{"quantity": 1}]}
    answer = client.post("/api/v1/orders", json=body, headers=buyer)
    assert answer.status_code == 422
    assert list(answer.json["error"]["fields"]["lines"]["0"]) == ["product_id"]


def _email(client, user_id) -> str:
    with client.application.app_context():
        return db.session.get(User, user_id).email


def test_a_line_that_is_no_object_next_to_a_repeated_product_is_refused_by_name(client, make):
    """marshmallow keys the broken line by its index (an int) and the repeated product by "_schema" (a str)."""
    buyer = bearer(make.token(make.user(Role.CONSUMER)))
    lines = [{"product_id": 2, "quantity": 1}, 0, {"product_id": 2, "quantity": 1}]
    answer = client.post(
        "/api/v1/orders", json={"checkout_key": "mixed-0001", **ADDRESS, "lines": lines}, headers=buyer
    )
    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]["lines"]) == {"1", "_schema"}


def test_a_household_count_beyond_its_column_is_refused_by_name(client, make):
    """The fuzzer's last find: linked_households of 10**12 passed the schema and overflowed the column (500)."""
    staff = {"Authorization": f"Bearer {make.token(make.staff(make.cooperative()))}"}
    answer = client.patch("/api/v1/certification/applications/1", json={"linked_households": 10**12}, headers=staff)
    assert answer.status_code == 422 and "linked_households" in answer.json["error"]["fields"]
