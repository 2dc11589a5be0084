"""Rows for tests, made through the same services the shop uses, each committed like a finished request."""

from __future__ import annotations

import itertools
from datetime import timedelta

from certification import applications, reviews
from certification.models import Application
from certification.rules import Action
from shop.accounts import services as accounts
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.cooperatives import services as cooperatives
from shop.cooperatives.credit_code import with_check_character
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.timeutil import business_date

PASSWORD = "correct horse battery"
RAOYANG = "131124"
SHENZHOU = "131182"
ZAOYANG = "420683"
_sequence = itertools.count(1)
PDF = b"%PDF-1.4\n% a quality inspection report\n"
COMPLETE_EVIDENCE = {
    "production_base_address": "村东头果园 120 亩",
    "annual_output": 200000,
    "output_unit": "kg",
    "supply_capacity": "每月可供 10 吨",
    "declared_price_fen": 880,
    "market_price_fen": 900,
    "market_price_source": "县农产品批发市场 2026 年 6 月均价",
    "linkage_type": "produce_purchase",
    "linkage_description": "订单收购 35 户脱贫户的鲜桃，保底价每斤 3 元",
    "linked_households": 35,
}


class Factories:
    def __init__(self, app):
        self.app = app
        self._operator_id: int | None = None
        self._reviewers: dict = {}
        self._staff: dict = {}

    def _commit(self, obj):
        db.session.commit()
        db.session.refresh(obj)
        return obj

    def user(self, *role_specs, email: str | None = None, password: str = PASSWORD) -> User:
        """A user with roles: Role, or (Role, {"cooperative_id": …} / {"region_code": …})."""
        with self.app.app_context():
            n = next(_sequence)
            user = accounts.create_user(email or f"user{n}@example.com", password, f"User {n}")
            for spec in role_specs:
                role, scope = spec if isinstance(spec, tuple) else (spec, {})
                accounts.grant_role(None, user, role, **scope)
            user_id = self._commit(user).id
        return user_id

    def token(self, user_id: int) -> str:
        with self.app.app_context():
            _token, plaintext = accounts.issue_token(db.session.get(User, user_id), "test")
            db.session.commit()
        return plaintext

    def operator_id(self) -> int:
        """The operator that creates the factories' rows (one per test)."""
        if self._operator_id is None:
            self._operator_id = self.user(Role.OPERATOR)
        return self._operator_id

    def credit_code(self, county: str = RAOYANG) -> str:
        return with_check_character(f"93{county}MA0TK{next(_sequence):04d}")

    def cooperative(self, county: str = RAOYANG, **fields) -> int:
        with self.app.app_context():
            actor = db.session.get(User, self.operator_id())
            data = {
                "name": f"测试合作社{next(_sequence)}",
                "credit_code": self.credit_code(county),
                "county_code": county,
                **fields,
            }
            cooperative = cooperatives.create_cooperative(actor, data)
            return self._commit(cooperative).id

    def organization(self, county: str = RAOYANG, **fields) -> int:
        """A buyer organization (a county bureau with its own canteen), written directly: the organizations area's
        own tests create them through its services."""
        from shop.organizations.models import Organization

        number = next(_sequence)
        with self.app.app_context():
            organization = Organization(
                name=fields.pop("name", f"测试单位{number}"),
                credit_code=with_check_character(f"11{county}MB{number:07d}"),
                kind=fields.pop("kind", "government_agency"),
                region_code=county,
                invitation_code=f"INV{number:08d}",
                **fields,
            )
            db.session.add(organization)
            return self._commit(organization).id

    def staff(self, cooperative_id: int, **kwargs) -> int:
        return self.user((Role.COOPERATIVE_STAFF, {"cooperative_id": cooperative_id}), **kwargs)

    def _reviewer_id(self, role: Role, region_code: str) -> int:
        key = (role, region_code)
        if key not in self._reviewers:
            self._reviewers[key] = self.user((role, {"region_code": region_code}))
        return self._reviewers[key]

    def _staff_id(self, cooperative_id: int) -> int:
        if cooperative_id not in self._staff:
            self._staff[cooperative_id] = self.staff(cooperative_id)
        return self._staff[cooperative_id]

    def application(self, product_id: int, up_to: str = "draft", **evidence) -> int:
        """An application taken through the real workflow up to a state: draft, submitted, county_approved,
        public_notice (its notice began 30 days ago, so it has ended) or certified."""
        with self.app.app_context():
            product = db.session.get(Product, product_id)
            county, cooperative_id = (
                evidence.get("origin_county_code", product.origin_county_code),
                product.cooperative_id,
            )
        # Users first, each committed on its own, before the application's own transaction starts.
        staff_id = self._staff_id(cooperative_id)
        county_id = self._reviewer_id(Role.COUNTY_REVIEWER, county)
        province_id = self._reviewer_id(Role.PROVINCE_REVIEWER, county[:2] + "0000")
        with self.app.app_context():
            staff, county_reviewer, province_reviewer = (
                db.session.get(User, i) for i in (staff_id, county_id, province_id)
            )
            data = {**COMPLETE_EVIDENCE, "origin_county_code": county, **evidence}
            application_id = applications.create_application(staff, product_id, data).id
            applications.add_document(staff, application_id, "quality_report", "质检报告.pdf", PDF)
            steps = [
                ("submitted", staff, Action.SUBMIT),
                ("county_approved", county_reviewer, Action.COUNTY_APPROVE),
                ("public_notice", province_reviewer, Action.PROVINCE_APPROVE),
            ]
            started = business_date() - timedelta(days=30)
            order = ["draft", "submitted", "county_approved", "public_notice", "certified"]
            for state, actor, action in steps:
                if order.index(up_to) < order.index(state):
                    break
                reviews.apply_transition(actor, application_id, action, today=started)
            if up_to == "certified":
                ends = db.session.get(Application, application_id).notice_ends_on
                reviews.apply_transition(None, application_id, Action.END_NOTICE, today=ends + timedelta(days=1))
            db.session.commit()
        return application_id

    def certify(self, product_id: int) -> int:
        return self.application(product_id, up_to="certified")

    def product(self, cooperative_id: int | None = None, certified: bool = True, **fields) -> int:
        with self.app.app_context():
            if cooperative_id is None:
                cooperative_id = self.cooperative()
            actor = db.session.get(User, self.operator_id())
            cooperative = db.session.get(Cooperative, cooperative_id)
            data = {
                "name": f"测试产品{next(_sequence)}",
                "category": "fruit",
                "unit": "斤",
                "price_fen": 1000,
                "stock": 100,
                "origin_county_code": cooperative.county_code,
                **fields,
            }
            product_id = self._commit(catalog.create_product(actor, cooperative_id, data)).id
        if certified:
            self.certify(product_id)
        return product_id

    def get(self, model, ident):
        with self.app.app_context():
            obj = db.session.get(model, ident)
            if obj is not None:
                db.session.expunge(obj)
            return obj

    # --- Households and benefit links (settlement) ---------------------------------------------------

    def id_number(self, county: str = RAOYANG, birth: str = "19800101") -> str:
        """A valid 18-character resident ID number (check digit from stdnum.cn.ric)."""
        from stdnum.cn import ric

        body = f"{county}{birth}{next(_sequence) % 1000:03d}"
        return body + ric.calc_check_digit(body + "?")  # stdnum computes over all but the last character

    def household(self, county: str = RAOYANG, **fields) -> int:
        from shop.households.models import Household

        with self.app.app_context():
            n = next(_sequence)
            values = {
                "registry_number": f"{county}-{n:06d}",
                "head_name": f"王{n}",
                "id_number": self.id_number(county),
                "county_code": county,
                "village": "东村",
                "township": "城关镇",
                "members": 3,
                "payout_bank_name": "农村信用社",
                "payout_account_name": f"王{n}",
                "payout_account_number": f"6228{n:015d}",
            } | fields
            household = Household(**values)
            db.session.add(household)
            return self._commit(household).id

    def link(
        self,
        cooperative_id: int,
        household_id: int,
        link_type: str = "produce_purchase",
        weight: int = 1,
        confirmed: bool = True,
    ) -> int:
        from shop.households.models import BenefitLink, LinkStatus
        from shop.types import utcnow

        with self.app.app_context():
            link = BenefitLink(
                cooperative_id=cooperative_id,
                household_id=household_id,
                link_type=link_type,
                weight=weight,
                status=LinkStatus.CONFIRMED if confirmed else LinkStatus.PROPOSED,
                decided_at=utcnow() if confirmed else None,
            )
            db.session.add(link)
            return self._commit(link).id


__all__ = ["PASSWORD", "Factories", "Product"]
