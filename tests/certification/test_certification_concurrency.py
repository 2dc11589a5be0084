"""Two reviewers acting on the same application at the same moment: one wins, the other gets 409."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from certification import reviews
from certification.models import Application, Event
from certification.rules import Action
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import InvalidTransition
from shop.extensions import db
from tests.factories import SHENZHOU

DEADLINE_SECONDS = 20


def _wait_until_blocked(app, deadline: float) -> None:
    """Poll PostgreSQL until some backend waits on a row lock (the second reviewer's UPDATE)."""
    with app.app_context():
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            db.session.rollback()
            if waiting:
                return
        raise AssertionError("the second reviewer never reached the row lock")


@pytest.mark.postgres_only
def test_two_county_reviewers_approve_at_once_one_wins_the_other_gets_409(app, make):
    product = make.product(make.cooperative(county=SHENZHOU), certified=False)
    application_id = make.application(product, up_to="submitted")
    first = make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}))
    second = make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}))
    first_has_written = threading.Event()
    outcome: dict[str, object] = {}

    def first_reviewer():
        with app.app_context():
            reviews.apply_transition(db.session.get(User, first), application_id, Action.COUNTY_APPROVE)
            first_has_written.set()  # holds the row lock until it commits
            _wait_until_blocked(app, time.monotonic() + DEADLINE_SECONDS)
            db.session.commit()
            outcome["first"] = "approved"

    def second_reviewer():
        assert first_has_written.wait(DEADLINE_SECONDS)
        with app.app_context():
            try:
                # It read the state before the first committed: its UPDATE waits on the lock, then finds nothing.
                reviews.apply_transition(db.session.get(User, second), application_id, Action.RETURN, "补充材料")
                db.session.commit()
                outcome["second"] = "returned"
            except InvalidTransition as refusal:
                db.session.rollback()
                outcome["second"] = refusal.status

    threads = [threading.Thread(target=first_reviewer), threading.Thread(target=second_reviewer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 5)
    assert outcome == {"first": "approved", "second": 409}
    with app.app_context():
        assert db.session.get(Application, application_id).state == "county_approved"
        actions = db.session.scalars(sa.select(Event.action).where(Event.application_id == application_id)).all()
        assert actions == ["submit", "county_approve"]


@pytest.mark.postgres_only
def test_a_rename_racing_a_submission_waits_for_it_and_is_refused(app, make):
    """The submission copies the product's name for the reviewers; a rename at that moment must not slip in after
    the copy (the reviewers would certify a name the shop no longer sells)."""
    from shop.catalog import services as catalog
    from shop.catalog.models import Product
    from shop.errors import Conflict

    coop = make.cooperative(county=SHENZHOU)
    product = make.product(coop, certified=False, name="深州蜜桃")
    application_id = make.application(product, up_to="draft")
    staff = make.staff(coop)
    submitted = threading.Event()
    outcome: dict[str, object] = {}

    def submission():
        with app.app_context():
            reviews.apply_transition(db.session.get(User, staff), application_id, Action.SUBMIT)
            submitted.set()  # holds the product's row lock until it commits
            _wait_until_blocked(app, time.monotonic() + DEADLINE_SECONDS)
            db.session.commit()
            outcome["submission"] = "submitted"

    def rename():
        assert submitted.wait(DEADLINE_SECONDS)
        with app.app_context():
            try:
                catalog.update_product(db.session.get(User, staff), product, {"name": "深州水蜜桃"})
                db.session.commit()
                outcome["rename"] = "renamed"
            except Conflict as refusal:
                db.session.rollback()
                outcome["rename"] = (refusal.status, list(refusal.fields))

    threads = [threading.Thread(target=submission), threading.Thread(target=rename)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 5)
    assert outcome == {"submission": "submitted", "rename": (409, ["name"])}
    with app.app_context():
        assert db.session.get(Product, product).name == "深州蜜桃"
        assert db.session.get(Application, application_id).product_name == "深州蜜桃"
