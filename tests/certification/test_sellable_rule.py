"""The sellable rule exists twice, as SQL for the catalogue and as Python; they must always agree."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certification.certificates import holds_valid_certificate
from certification.models import Application, Certificate, State
from certification.rules import certificate_is_valid
from shop.catalog.models import Product
from shop.extensions import db
from tests.factories import SHENZHOU

DAY0 = date(2026, 6, 1)
CLOSED_STATES = [State.CERTIFIED, State.SUSPENDED, State.REVOKED, State.EXPIRED, State.SUPERSEDED]
certificate = st.tuples(st.sampled_from(CLOSED_STATES), st.integers(-400, 400), st.integers(0, 800))


def test_sql_and_python_agree_on_random_certificates(app, make):
    coop = make.cooperative(county=SHENZHOU)
    products = [make.product(coop, certified=False) for _ in range(4)]
    user_id = make.user()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.lists(certificate, max_size=3), min_size=4, max_size=4), st.integers(-500, 1300))
    def check(per_product, on_offset):
        on = DAY0 + timedelta(days=on_offset)
        with app.app_context():
            expected = {}
            number = 0
            for product_id, certificates in zip(products, per_product, strict=True):
                expected[product_id] = False
                for state, start, length in certificates:
                    number += 1
                    valid_from = DAY0 + timedelta(days=start)
                    valid_until = valid_from + timedelta(days=length)
                    application = Application(
                        product_id=product_id,
                        cooperative_id=coop,
                        product_name="p",
                        cooperative_name="c",
                        origin_county_code=SHENZHOU,
                        state=state,
                        created_by_id=user_id,
                    )
                    db.session.add(application)
                    db.session.flush()
                    db.session.add(
                        Certificate(
                            certificate_no=f"FP13-2026-{number:06d}",
                            application_id=application.id,
                            product_id=product_id,
                            product_name="p",
                            cooperative_name="c",
                            origin_county_code=SHENZHOU,
                            valid_from=valid_from,
                            valid_until=valid_until,
                        )
                    )
                    expected[product_id] |= certificate_is_valid(state, valid_from, valid_until, on)
            db.session.flush()
            sellable = set(
                db.session.scalars(
                    sa.select(Product.id).where(Product.id.in_(products), holds_valid_certificate(Product.id, on))
                )
            )
            db.session.rollback()
        assert sellable == {p for p, valid in expected.items() if valid}

    check()
