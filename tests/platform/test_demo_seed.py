"""`flask seed-demo` loads a working demo through the services, twice without harm, with a sound ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.extensions import db
from shop.households.models import BenefitLink, Household
from shop.ledger.models import Account
from shop.settlement.check import breaches


def test_the_demo_loads_twice_and_its_settled_sale_reached_households(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 48
        assert (
            db.session.scalar(select(func.count()).select_from(BenefitLink).where(BenefitLink.status == "confirmed"))
            == 48
        )
        earning = db.session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.kind == "household_payable", Account.balance_fen > 0)
        )
        assert earning >= 8
        assert breaches() == []
    assert runner.invoke(args=["ledger", "check"]).exit_code == 0
