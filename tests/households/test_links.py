"""Benefit links: a cooperative proposes, the county reviewer of the household's county confirms or rejects."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import update

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import InvalidTransition
from shop.extensions import db
from shop.households import links
from shop.households.models import BenefitLink, LinkStatus
from tests.factories import RAOYANG, SHENZHOU


@pytest.fixture
def household(make):
    return make.household(county=RAOYANG, registry_number="1311240000123", head_name="李四光")


def propose(client, people, registry_number="1311240000123", link_type="wages", weight=2, who="staff"):
    return client.post(
        f"/api/v1/cooperatives/{people['cooperative']}/links",
        headers=people[who],
        json={"registry_number": registry_number, "link_type": link_type, "weight": weight, "note": "车间务工"},
    )


def act(client, people, link_id, action, who, note=""):
    return client.post(f"/api/v1/links/{link_id}/{action}", headers=people[who], json={"note": note})


def test_staff_propose_and_the_county_reviewer_of_the_households_county_confirms(app, client, people, household):
    proposed = propose(client, people)
    assert proposed.status_code == 201, proposed.json
    link = proposed.json
    assert (link["status"], link["link_type"], link["weight"]) == ("proposed", "wages", 2)
    # Naming a registry number teaches the proposer nothing personal.
    assert link["household"]["head_name"] == "李**" and "李四光" not in proposed.get_data(as_text=True)
    assert link["allowed_actions"] == ["end"]
    pending = client.get("/api/v1/links?status=proposed", headers=people["county"]).json
    assert [item["id"] for item in pending] == [link["id"]] and pending[0]["allowed_actions"] == [
        "confirm",
        "reject",
        "end",
    ]

    wrong_county = act(client, people, link["id"], "confirm", "other_county")
    assert wrong_county.status_code == 403
    assert act(client, people, link["id"], "confirm", "staff").status_code == 403  # the access rule: not a reviewer
    confirmed = act(client, people, link["id"], "confirm", "county", note="已核实")
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert confirmed.json["household"]["head_name"] == "李四光"  # the county reviewer sees it in full
    again = act(client, people, link["id"], "confirm", "county")
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"
    with app.app_context():
        stored = db.session.get(BenefitLink, link["id"])
        assert stored.status == LinkStatus.CONFIRMED and stored.decided_by_id == people["county_id"]
        assert stored.decision_note == "已核实" and stored.proposed_by_id == people["staff_id"]


def test_a_rejection_needs_a_note_and_a_rejected_link_can_be_proposed_again(client, people, household):
    link_id = propose(client, people).json["id"]
    assert act(client, people, link_id, "reject", "county").status_code == 422
    rejected = act(client, people, link_id, "reject", "operator", note="未见务工记录")
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert act(client, people, link_id, "end", "staff").status_code == 409
    assert propose(client, people).status_code == 201


def test_a_duplicate_or_unknown_proposal_is_refused(client, people, household):
    assert propose(client, people).status_code == 201
    duplicate = propose(client, people)
    assert duplicate.status_code == 409 and "registry_number" in duplicate.json["error"]["fields"]
    assert propose(client, people, link_type="dividend").status_code == 201  # another kind of link
    unknown = propose(client, people, registry_number="999")
    assert unknown.status_code == 422 and "registry_number" in unknown.json["error"]["fields"]
    assert propose(client, people, weight=0).status_code == 422
    assert propose(client, people, link_type="charity").status_code == 422


def test_staff_propose_only_for_their_own_cooperative(client, make, people, household):
    other = make.cooperative(county=SHENZHOU)
    response = client.post(
        f"/api/v1/cooperatives/{other}/links",
        headers=people["staff"],
        json={"registry_number": "1311240000123", "link_type": "wages"},
    )
    assert response.status_code == 403


def test_a_confirmed_link_is_ended_by_its_cooperative_and_shares_nothing_after(app, client, make, people, household):
    link_id = make.link(people["cooperative"], household)
    ended = act(client, people, link_id, "end", "staff", note="合同到期")
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    assert [(step["to_status"], step["actor_role"], step["note"]) for step in ended.json["history"]] == [
        ("ended", "cooperative", "合同到期")  # the factory's link has no earlier events
    ]
    with app.app_context():
        confirmed = db.session.scalars(sa.select(BenefitLink).where(BenefitLink.status == "confirmed")).all()
        assert confirmed == []


def test_every_step_of_a_link_is_kept_who_when_why_and_the_history_cannot_be_rewritten(app, client, people, household):
    link_id = propose(client, people).json["id"]
    assert act(client, people, link_id, "confirm", "county", note="已核实").status_code == 200
    ended = act(client, people, link_id, "end", "staff", note="合同到期")
    assert ended.status_code == 200
    assert [(step["to_status"], step["actor_role"], step["note"]) for step in ended.json["history"]] == [
        ("proposed", "cooperative", "车间务工"),
        ("confirmed", "county_reviewer", "已核实"),
        ("ended", "cooperative", "合同到期"),
    ]
    with app.app_context():
        stored = db.session.get(BenefitLink, link_id)
        # Ending it did not overwrite who confirmed it.
        assert (stored.decided_by_id, stored.decision_note) == (people["county_id"], "已核实")
        staff, county = people["staff_id"], people["county_id"]
        assert [event.actor_id for event in stored.events] == [staff, county, staff]
        for statement in ("UPDATE benefit_link_events SET note = 'x'", "DELETE FROM benefit_link_events"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        stored = db.session.get(BenefitLink, link_id)
        stored.events[0].note = "rewritten"
        with pytest.raises(ValueError, match="append-only"):
            db.session.flush()
        db.session.rollback()


def test_the_confirmation_is_a_conditional_update_so_a_stale_read_loses(app, make, people, household):
    """What a second reviewer sees when the first confirmed between its read and its write."""
    link_id = make.link(people["cooperative"], household, confirmed=False)
    with app.app_context():
        reviewer = db.session.get(User, people["county_id"])
        db.session.get(BenefitLink, link_id)  # read as proposed
        db.session.execute(
            update(BenefitLink)
            .where(BenefitLink.id == link_id)
            .values(status=LinkStatus.CONFIRMED)
            .execution_options(synchronize_session=False)
        )
        with pytest.raises(InvalidTransition):
            links.apply_link_action(reviewer, link_id, "confirm")
        db.session.rollback()


@pytest.mark.postgres_only
def test_two_county_reviewers_confirm_at_once_one_wins(app, make, people, household):
    link_id = make.link(people["cooperative"], household, confirmed=False)
    second_id = make.user((Role.COUNTY_REVIEWER, {"region_code": RAOYANG}))
    first_has_written = threading.Event()
    outcome: dict[str, object] = {}

    def first():
        with app.app_context():
            links.apply_link_action(db.session.get(User, people["county_id"]), link_id, "confirm")
            first_has_written.set()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                waiting = db.session.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar()
                if waiting:
                    break
                time.sleep(0.05)
            db.session.commit()
            outcome["first"] = "confirmed"

    def second():
        assert first_has_written.wait(20)
        with app.app_context():
            try:
                links.apply_link_action(db.session.get(User, second_id), link_id, "confirm")
                db.session.commit()
                outcome["second"] = "confirmed"
            except InvalidTransition:
                db.session.rollback()
                outcome["second"] = 409

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome == {"first": "confirmed", "second": 409}
