"""Rows for tests, made through the same services the shop uses, each committed like a finished request."""

from __future__ import annotations

import itertools

from shop.accounts import services as accounts
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.cooperatives import services as cooperatives
from shop.cooperatives.credit_code import with_check_character
from shop.cooperatives.models import Cooperative
from shop.extensions import db

PASSWORD = "correct horse battery"
RAOYANG = "131124"
SHENZHOU = "131182"
ZAOYANG = "420683"
_sequence = itertools.count(1)


class Factories:
    def __init__(self, app):
        self.app = app
        self._operator_id: int | None = None

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

    def staff(self, cooperative_id: int, **kwargs) -> int:
        return self.user((Role.COOPERATIVE_STAFF, {"cooperative_id": cooperative_id}), **kwargs)

    def product(self, cooperative_id: int | None = None, **fields) -> int:
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
            product = catalog.create_product(actor, cooperative_id, data)
            return self._commit(product).id

    def get(self, model, ident):
        with self.app.app_context():
            obj = db.session.get(model, ident)
            if obj is not None:
                db.session.expunge(obj)
            return obj


__all__ = ["PASSWORD", "Factories", "Product"]
