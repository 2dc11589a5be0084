"""One place per rule: the platform fee + household share limit is one function over one BASIS_POINTS
constant, the database's CHECK constraints agree with it, and the household share choice (a product's own, or
else its cooperative's) gives the same answer in Python and in the SQL of a settlement run, on both databases."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.settlement import shares, sql
from shop.settlement.models import LineSettlement
from shop.settlement.rules import (
    BASIS_POINTS,
    HOUSEHOLD_SHARE_SQL,
    fee_and_share_fit,
    household_share_bp,
    share_problem,
)
from tests.factories import SHENZHOU

basis_points = st.integers(-2 * BASIS_POINTS, 2 * BASIS_POINTS)


@pytest.mark.parametrize(
    ("fee", "share", "fits"),
    [
        (0, 0, True),
        (0, BASIS_POINTS, True),
        (BASIS_POINTS, 0, True),
        (500, BASIS_POINTS - 500, True),
        (500, BASIS_POINTS - 499, False),
        (-1, 0, False),
        (0, -1, False),
        (BASIS_POINTS + 1, 0, False),
    ],
)
def test_a_fee_and_a_share_fit_when_neither_is_negative_and_together_they_are_at_most_the_whole(fee, share, fits):
    assert fee_and_share_fit(fee, share) is fits


@given(fee=st.integers(0, BASIS_POINTS), share=basis_points)
def test_the_share_setting_refuses_exactly_the_shares_that_do_not_fit(fee, share):
    assert (share_problem(share, fee) is None) == fee_and_share_fit(fee, share)


@pytest.mark.parametrize(
    ("model", "constraint"),
    [
        (Cooperative, "ck_cooperatives_household_share_in_range"),
        (Product, "ck_products_household_share_in_range"),
        (LineSettlement, "ck_line_settlements_weights_in_range"),
    ],
)
def test_the_databases_check_constraints_name_the_same_whole(app_ctx, model, constraint):
    """The CHECK constraints keep their literal (a migration wrote it); it is the rules' BASIS_POINTS."""
    [check] = [c for c in model.__table__.constraints if c.name == constraint]
    assert re.findall(r"\d{4,}", str(check.sqltext)) and set(re.findall(r"\d{4,}", str(check.sqltext))) == {
        str(BASIS_POINTS)
    }
    if db.engine.dialect.name == "sqlite":
        # A CHECK in the table, or (where a migration could not add one to a table) the triggers named after it.
        stored = " ".join(
            db.session.scalars(
                sa.text("SELECT sql FROM sqlite_master WHERE tbl_name = :t AND (type = 'table' OR name LIKE :c)"),
                {"t": model.__tablename__, "c": f"{constraint}%"},
            )
        )
        stored = stored if constraint in stored else ""
    else:
        stored = db.session.scalar(
            sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :c"), {"c": constraint}
        )
    assert stored and str(BASIS_POINTS) in stored


def test_the_database_takes_a_share_of_the_whole_and_refuses_one_more(app, make):
    cooperative = make.cooperative(county=SHENZHOU)
    product = make.product(cooperative, certified=False)
    with app.app_context():
        for model, row_id in ((Cooperative, cooperative), (Product, product)):
            db.session.execute(update(model).where(model.id == row_id).values(household_share_bp=BASIS_POINTS))
            with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
                db.session.execute(update(model).where(model.id == row_id).values(household_share_bp=BASIS_POINTS + 1))
        db.session.rollback()


def test_the_settlement_sql_takes_the_share_choice_and_the_whole_from_the_rules():
    assert HOUSEHOLD_SHARE_SQL.format(product="p", cooperative="c") in sql.FIND_DUE_LINES
    assert f"a * fee_bp / {BASIS_POINTS} AS f0" in sql.SPLIT_LINES
    assert "10000" not in sql.FIND_DUE_LINES.replace(str(BASIS_POINTS), "")


@pytest.fixture
def catalogue(app, make) -> dict[int, list[int]]:
    """Three cooperatives with three products each: the generated shares are written onto them."""
    cooperatives = [make.cooperative(county=SHENZHOU) for _ in range(3)]
    return {c: [make.product(c, certified=False) for _ in range(3)] for c in cooperatives}


shares_of_a_catalogue = st.tuples(
    st.lists(st.integers(0, BASIS_POINTS), min_size=3, max_size=3),
    st.lists(st.none() | st.integers(0, BASIS_POINTS), min_size=9, max_size=9),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=shares_of_a_catalogue)
def test_the_share_choice_is_the_same_in_python_and_in_the_settlement_sql(app, catalogue, generated):
    cooperative_shares, product_shares = generated
    with app.app_context():
        expected = {}
        products = [(c, p) for c in catalogue for p in catalogue[c]]
        for cooperative, share in zip(catalogue, cooperative_shares, strict=True):
            db.session.execute(
                update(Cooperative).where(Cooperative.id == cooperative).values(household_share_bp=share)
            )
        for (cooperative, product), share in zip(products, product_shares, strict=True):
            db.session.execute(update(Product).where(Product.id == product).values(household_share_bp=share))
            expected[product] = household_share_bp(share, cooperative_shares[list(catalogue).index(cooperative)])
        in_sql = dict(
            db.session.execute(
                sa.text(
                    f"SELECT p.id, {HOUSEHOLD_SHARE_SQL.format(product='p', cooperative='c')} "
                    "FROM products p JOIN cooperatives c ON c.id = p.cooperative_id"
                )
            ).all()
        )
        assert in_sql == expected
        db.session.expire_all()
        assert {p: shares.effective_share_bp(db.session.get(Product, p)) for _c, p in products} == expected
        db.session.rollback()
