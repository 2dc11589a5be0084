"""The JSON API fuzzed from its own OpenAPI document (schemathesis), with a token of each role.

For every role a world is seeded through the services and the API (a certified product with a photo and a
certificate, an application under review, orders paid, delivered and settled through the real Stripe emulator, a
refund awaiting a decision, a household with its link, a payout batch). Then every operation of the document is
called as that role: with its share of schemathesis' coverage cases (each parameter's edges and invalid values,
dealt out to the roles in turn), and with cases generated from the schema, valid and invalid, in two passes: one
where every parameter is made up (ids then mostly name nothing), and one where the path's ids name the seeded
rows, so that answers about real objects are checked too. No answer may be a server error, and each one's status,
content type and body must be what the document says for that operation.

The world is seeded once per role and changes as the cases run (orders get cancelled, products edited): each case
meets the state the previous ones left, as a client's would. Failures are collected rather than raised (a case
cannot be shrunk against a world that has moved on), and reported together with a curl command each. Two
operations could take the caller's own access away (revoking a token; an operator revoking a role): they run only
against a spare token of the caller and against another user's role.

Bounded for `make test` (about a minute and a half per database): API_FUZZ_EXAMPLES generated cases per operation
and pass (default 8), derandomized, no example database. A longer run, e.g. before a release:
API_FUZZ_EXAMPLES=100 .venv/bin/pytest tests/platform/test_api_fuzz.py
"""

from __future__ import annotations

import io
import itertools
import os
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select, update

from certification.models import Certificate, Document
from shop.accounts.models import ApiToken, User, UserRole
from shop.accounts.roles import Role
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.payouts.services import create_batch
from shop.settlement import check
from shop.settlement.services import settle_due
from shop.timeutil import business_date
from shop.types import utcnow
from tests.factories import SHENZHOU
from tests.payments.helpers import ADDRESS, bearer
from tests.payments.test_gateway import browser_token

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Taking the caller's own access away would leave the rest of the run answering 401/403: these run pinned only.
PINNED_ONLY = {("DELETE", "/api/v1/auth/tokens/{token_id}"), ("DELETE", "/api/v1/users/{user_id}/roles/{role_id}")}
ROLES = (Role.OPERATOR, Role.COOPERATIVE_STAFF, Role.CONSUMER, Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER)
# Operations each role must have had answered with 2xx at least once: proof the run reached real objects.
MUST_SUCCEED = {
    Role.OPERATOR: {"GET /api/v1/me", "GET /api/v1/users", "GET /api/v1/payouts/batches/{batch_id}"},
    Role.COOPERATIVE_STAFF: {"GET /api/v1/me", "GET /api/v1/cooperatives/{cooperative_id}/profile"},
    Role.CONSUMER: {"GET /api/v1/me", "GET /api/v1/orders", "GET /api/v1/orders/{order_id}"},
    Role.COUNTY_REVIEWER: {"GET /api/v1/me", "GET /api/v1/certification/queue"},
    Role.PROVINCE_REVIEWER: {"GET /api/v1/me", "GET /api/v1/certification/applications"},
}


@dataclass
class World:
    tokens: dict[Role, str]
    spare_tokens: dict[Role, int]  # another token of each role's user, for the token revocation
    ids: dict[str, list]  # path parameter name -> seeded values


@dataclass
class Outcome:
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: dict[tuple, str] = field(default_factory=dict)  # (operation, kind, status) -> first example

    def record(self, label: str, status: int) -> None:
        self.statuses[label][status] += 1

    def fail(self, label: str, kind: str, status: int | str, detail: str) -> None:
        self.failures.setdefault((label, kind, status), detail)

    def succeeded(self) -> set[str]:
        return {label for label, counts in self.statuses.items() if any(200 <= s < 300 for s in counts)}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def seed_world(app, client, make, stripe_base_url: str) -> World:
    """Everything the API's operations can name, made the way the shop makes it."""
    coop = make.cooperative(county=SHENZHOU, shipping_fee_fen=1000)
    with app.app_context():
        db.session.execute(
            update(Cooperative)
            .where(Cooperative.id == coop)
            .values(
                household_share_bp=1000,
                payout_bank_name="深州农商银行",
                payout_account_name="深州市蜜桃专业合作社",
                payout_account_number="6230580000012345678",
            )
        )
        db.session.commit()
    users = {
        Role.OPERATOR: make.operator_id(),
        Role.COOPERATIVE_STAFF: make.staff(coop),
        Role.CONSUMER: make.user(Role.CONSUMER),
        Role.COUNTY_REVIEWER: make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU})),
        Role.PROVINCE_REVIEWER: make.user((Role.PROVINCE_REVIEWER, {"region_code": SHENZHOU[:2] + "0000"})),
    }
    tokens = {role: make.token(user) for role, user in users.items()}
    spare_tokens = {}
    for role, user in users.items():
        make.token(user)
        with app.app_context():
            spare_tokens[role] = db.session.scalar(
                select(ApiToken.id).where(ApiToken.user_id == user).order_by(ApiToken.id.desc()).limit(1)
            )

    product = make.product(coop, name="深州蜜桃礼盒", price_fen=8800, stock=500, unit="箱")
    other_product = make.product(coop, certified=False, name="深州鸭梨", price_fen=3000, stock=200)
    submitted = make.application(other_product, up_to="submitted")
    staff, buyer = bearer(tokens[Role.COOPERATIVE_STAFF]), bearer(tokens[Role.CONSUMER])
    photo = client.post(
        f"/api/v1/products/{product}/photos",
        data={"photo": (io.BytesIO(_png()), "peach.png")},
        content_type="multipart/form-data",
        headers=staff,
    )
    assert photo.status_code == 201, photo.json
    household = make.household(county=SHENZHOU)
    link = make.link(coop, household)

    def order(key: str, pay: bool = True) -> dict:
        answer = client.post(
            "/api/v1/orders",
            json={"checkout_key": key, "lines": [{"product_id": product, "quantity": 2}], **ADDRESS},
            headers=buyer,
        )
        assert answer.status_code == 201, answer.json
        if not pay:
            return answer.json
        card = browser_token(stripe_base_url)["id"]
        paid = client.post(f"/api/v1/orders/{answer.json['id']}/payment", json={"card": card}, headers=buyer)
        assert paid.status_code == 200 and paid.json["status"] == "paid", paid.json
        return paid.json

    delivered = order("fuzz-delivered")
    shipped = client.post(
        f"/api/v1/orders/{delivered['id']}/shipments",
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
        headers=staff,
    )
    assert shipped.status_code == 200, shipped.json
    assert client.post(f"/api/v1/orders/{delivered['id']}/receipt", headers=buyer).status_code == 200
    with app.app_context():
        settle_due(now=utcnow() + timedelta(days=8))  # past the refund window
        db.session.commit()
    with app.app_context():
        batch = create_batch(db.session.get(User, users[Role.OPERATOR]), business_date(), business_date()).id
        db.session.commit()
    disputed = order("fuzz-disputed")
    line = disputed["shipments"][0]["lines"][0]["id"]
    refund = client.post(
        f"/api/v1/orders/{disputed['id']}/refunds",
        json={"lines": [{"order_line_id": line, "quantity": 1}], "reason": "坏果"},
        headers=buyer,
    )
    assert refund.status_code == 201, refund.json
    unpaid = order("fuzz-unpaid", pay=False)

    with app.app_context():
        certificate_no = db.session.scalar(select(Certificate.certificate_no).where(Certificate.product_id == product))
        certified_application = db.session.scalar(
            select(Certificate.application_id).where(Certificate.product_id == product)
        )
        document = db.session.scalar(select(Document.id).where(Document.application_id == submitted))
        # Another user's role, never the caller's: the role revocation runs against these only.
        other_roles = db.session.execute(
            select(UserRole.user_id, UserRole.id).where(UserRole.user_id == users[Role.CONSUMER])
        ).one()
    ids = {
        "cooperative_id": [coop],
        "product_id": [product, other_product],
        "photo_id": [photo.json["id"]],
        "application_id": [submitted, certified_application],
        "document_id": [document],
        "certificate_no": [certificate_no],
        "order_id": [delivered["id"], disputed["id"], unpaid["id"]],
        "refund_id": [refund.json["id"]],
        "household_id": [household],
        "link_id": [link],
        "batch_id": [batch],
        "user_id": [other_roles[0]],
        "role_id": [other_roles[1]],
    }
    return World(tokens=tokens, spare_tokens=spare_tokens, ids=ids)


def _settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,  # nothing written to .hypothesis/
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the world changes between runs of a case
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )


def _run_cases(strategy, pins: dict[str, list], call) -> None:
    """EXAMPLES cases of one operation; `pins` draws the path's ids from the seeded ones."""

    @_settings()
    @hypothesis.given(case=strategy, data=st.data())
    def run(case, data):
        if pins:
            case.path_parameters = {name: data.draw(st.sampled_from(values)) for name, values in pins.items()}
        call(case)

    run()


def _call(case: schemathesis.Case, headers: dict, label: str, outcome: Outcome) -> None:
    try:
        response = case.call(headers=headers)
    except Exception as error:  # TESTING propagates the app's exceptions: each is a server error
        where = traceback.extract_tb(error.__traceback__)[-1]
        detail = f"{error!r} at {where.filename}:{where.lineno}\n{case.as_curl_command()}"
        outcome.fail(label, f"exception {type(error).__name__}", 500, detail)
        return
    outcome.record(label, response.status_code)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        for failure in group.exceptions:
            outcome.fail(label, failure.title, response.status_code, f"{failure.message}\n{case.as_curl_command()}")


def fuzz(schema, world: World, role: Role) -> Outcome:
    """Every operation as `role`: its share of the coverage cases, then generated cases free and pinned."""
    outcome = Outcome()
    headers = bearer(world.tokens[role])
    pinned_ids = {**world.ids, "token_id": [world.spare_tokens[role]]}
    share = itertools.count()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        names = [p.name for p in operation.path_parameters]
        passes = [False, True] if names else [False]
        pinned_only = (operation.method.upper(), operation.path) in PINNED_ONLY
        if pinned_only:
            passes = [True]
        # The coverage cases (each parameter's edges and invalid values) are many: the roles take turns.
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        modes = list(schemathesis.GenerationMode)
        for case in schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=generation):
            if next(share) % len(ROLES) != ROLES.index(role):
                continue
            if pinned_only:
                case.path_parameters = {name: pinned_ids[name][0] for name in names}
            _call(case, headers, label, outcome)
        for pinned in passes:
            strategy = st.one_of(
                operation.as_strategy(generation_mode=mode, headers=headers) for mode in schemathesis.GenerationMode
            )
            pins = {name: pinned_ids[name] for name in names} if pinned else {}
            _run_cases(strategy, pins, lambda case, label=label: _call(case, headers, label, outcome))
    return outcome


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _report(outcome: Outcome) -> str:
    return "\n\n".join(
        f"{label}: {kind} (status {status})\n{detail[:1500]}"
        for (label, kind, status), detail in outcome.failures.items()
    )


@pytest.mark.parametrize("role", ROLES)
def test_fuzzed_api_answers_as_documented(app, client, make, stripe_config, localstripe_server, api_schema, role):
    """No server error, and every answer as documented, whatever a client with this role sends."""
    world = seed_world(app, client, make, localstripe_server)
    outcome = fuzz(api_schema, world, role)

    assert not outcome.failures, f"{len(outcome.failures)} kinds of failure:\n\n{_report(outcome)}"
    operations = {f"{o.ok().method.upper()} {o.ok().path}" for o in api_schema.get_all_operations()}
    assert set(outcome.statuses) == operations  # every operation was called
    assert MUST_SUCCEED[role] <= outcome.succeeded(), outcome.succeeded()
    assert len(outcome.succeeded()) >= 15, outcome.succeeded()  # the seeded world was within reach
    with app.app_context():
        assert check.breaches() == []  # the ledger's invariants survived the fuzzing
