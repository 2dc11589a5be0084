"""Two reviewers acting on the same application at the same moment: one wins, the other gets 409."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from certification import services
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
            services.apply_transition(db.session.get(User, first), application_id, Action.COUNTY_APPROVE)
            first_has_written.set()  # holds the row lock until it commits
            _wait_until_blocked(app, time.monotonic() + DEADLINE_SECONDS)
            db.session.commit()
            outcome["first"] = "approved"

    def second_reviewer():
        assert first_has_written.wait(DEADLINE_SECONDS)
        with app.app_context():
            try:
                # It read the state before the first committed: its UPDATE waits on the lock, then finds nothing.
                services.apply_transition(db.session.get(User, second), application_id, Action.RETURN, "补充材料")
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
