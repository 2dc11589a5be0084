"""The certification workflow through its services: every move of the table, who may make it, and what it does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from certification import applications, certificates, jobs, reviews
from certification.models import Application, Certificate, Event, Objection, State, Version
from certification.rules import TRANSITIONS, Action
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import InvalidTransition, NotAllowed, ValidationFailed
from shop.extensions import db
from shop.timeutil import business_date
from tests.factories import COMPLETE_EVIDENCE, PDF, RAOYANG, SHENZHOU, ZAOYANG

TODAY = business_date()
LONG_AGO = TODAY - timedelta(days=40)


@pytest.fixture
def world(make):
    """A Shenzhou (Hebei) product, its staff, and reviewers in and out of its region."""
    coop = make.cooperative(county=SHENZHOU)
    ids = {
        "coop": coop,
        "product": make.product(coop, certified=False, name="深州蜜桃"),
        "staff": make.staff(coop),
        "other_staff": make.staff(make.cooperative(county=SHENZHOU)),
        "county": make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU})),
        "other_county": make.user((Role.COUNTY_REVIEWER, {"region_code": RAOYANG})),
        "province": make.user((Role.PROVINCE_REVIEWER, {"region_code": "130000"})),
        "other_province": make.user((Role.PROVINCE_REVIEWER, {"region_code": "420000"})),
        "operator": make.user(Role.OPERATOR),
        "consumer": make.user(Role.CONSUMER),
    }
    return ids


class Flow:
    """Drives one application with real users, each call like one request."""

    def __init__(self, world):
        self.world = world
        self.application_id = None

    def user(self, name: str) -> User:
        return db.session.get(User, self.world[name])

    def act(self, who: str | None, action, comment: str = "", **kwargs):
        user = self.user(who) if who else None
        result = reviews.apply_transition(user, self.application_id, action, comment, **kwargs)
        db.session.commit()
        return result

    def start(self, **evidence):
        application = applications.create_application(
            self.user("staff"), self.world["product"], {**COMPLETE_EVIDENCE, "origin_county_code": SHENZHOU, **evidence}
        )
        applications.add_document(self.user("staff"), application.id, "quality_report", "report.pdf", PDF)
        db.session.commit()
        self.application_id = application.id
        return self

    @property
    def application(self) -> Application:
        db.session.expire_all()
        return db.session.get(Application, self.application_id)

    def bring_to(self, state: str) -> Flow:
        self.start()
        path = {
            "draft": [],
            "submitted": [("staff", Action.SUBMIT)],
            "returned": [("staff", Action.SUBMIT), ("county", Action.RETURN, "补充质检报告")],
            "county_approved": [("staff", Action.SUBMIT), ("county", Action.COUNTY_APPROVE)],
            "public_notice": [
                ("staff", Action.SUBMIT),
                ("county", Action.COUNTY_APPROVE),
                ("province", Action.PROVINCE_APPROVE),
            ],
        }
        steps = path.get(state, path["public_notice"])
        for who, action, *comment in steps:
            self.act(who, action, *comment, today=LONG_AGO)
        if state in ("certified", "suspended"):
            self.act(None, Action.END_NOTICE, today=self.application.notice_ends_on + timedelta(days=1))
        if state == "suspended":
            self.act("province", Action.SUSPEND, "抽检不合格")
        assert self.application.state == state
        return self


@pytest.fixture
def flow(app_ctx, world):
    return Flow(world)


ACTORS_OF = {
    "applicant": "staff",
    "county_reviewer": "county",
    "province_reviewer": "province",
    "supervisor": "operator",
    "signed_in": "consumer",
    "job": None,
}


def _steps(state: State, action: Action):
    return [(state.value, action.value, move) for (s, a), move in TRANSITIONS.items() if (s, a) == (state, action)]


PEOPLE_MOVES = [(s, a) for (s, a), m in TRANSITIONS.items() if "job" not in m.actors and a != Action.SUPERSEDE]


@pytest.mark.parametrize(("origin", "action"), PEOPLE_MOVES, ids=[f"{s}-{a}" for s, a in PEOPLE_MOVES])
def test_every_move_of_a_person_works_for_its_actor_and_is_recorded(flow, origin, action):
    move = TRANSITIONS[(origin, action)]
    flow.bring_to(origin)
    if action in (Action.UPHOLD_OBJECTION, Action.DISMISS_OBJECTION):
        flow.act("consumer", Action.OBJECT, "这不是本地产品")
    (actor,) = move.actors
    who = ACTORS_OF[actor]
    result = flow.act(who, action, "理由" if move.reason_required else "")
    assert flow.application.state == move.to
    event = result.event
    assert (event.from_state, event.to_state, event.action) == (origin, move.to, action)
    assert event.actor_id == flow.world[who]
    assert event.actor_role in {"cooperative_staff", "county_reviewer", "province_reviewer", "operator", "signed_in"}


@pytest.mark.parametrize("origin", ["certified", "suspended"])
def test_operators_supervise_certificates_too(flow, origin):
    flow.bring_to(origin)
    flow.act("operator", Action.REVOKE, "假冒产地")
    assert flow.application.state == "revoked"
    assert flow.application.events[-1].actor_role == "operator"


# (state, action, who) that must be refused, and how: 403 (wrong actor) or 409 (not from this state).
FORBIDDEN = [
    ("draft", Action.COUNTY_APPROVE, "county", InvalidTransition),
    ("draft", Action.SUBMIT, "other_staff", NotAllowed),
    ("draft", Action.SUBMIT, "county", NotAllowed),
    ("submitted", Action.SUBMIT, "staff", InvalidTransition),
    ("submitted", Action.COUNTY_APPROVE, "other_county", NotAllowed),
    ("submitted", Action.COUNTY_APPROVE, "province", NotAllowed),
    ("submitted", Action.COUNTY_APPROVE, "staff", NotAllowed),
    ("submitted", Action.COUNTY_APPROVE, "operator", NotAllowed),
    ("submitted", Action.PROVINCE_APPROVE, "province", InvalidTransition),
    ("submitted", Action.RETURN, "province", NotAllowed),
    ("county_approved", Action.PROVINCE_APPROVE, "county", NotAllowed),
    ("county_approved", Action.PROVINCE_APPROVE, "other_province", NotAllowed),
    ("county_approved", Action.RETURN, "county", NotAllowed),
    ("county_approved", Action.COUNTY_APPROVE, "county", InvalidTransition),
    ("public_notice", Action.END_NOTICE, "province", NotAllowed),
    ("public_notice", Action.END_NOTICE, "operator", NotAllowed),
    ("public_notice", Action.SUSPEND, "province", InvalidTransition),
    ("public_notice", Action.DISMISS_OBJECTION, "consumer", NotAllowed),
    ("certified", Action.SUSPEND, "county", NotAllowed),
    ("certified", Action.SUSPEND, "other_province", NotAllowed),
    ("certified", Action.REVOKE, "staff", NotAllowed),
    ("certified", Action.EXPIRE, "operator", NotAllowed),
    ("certified", Action.SUBMIT, "staff", InvalidTransition),
    ("suspended", Action.SUSPEND, "province", InvalidTransition),
    ("returned", Action.COUNTY_APPROVE, "county", InvalidTransition),
]


@pytest.mark.parametrize(
    ("origin", "action", "who", "error"), FORBIDDEN, ids=[f"{s}-{a}-{w}" for s, a, w, _ in FORBIDDEN]
)
def test_forbidden_moves_are_refused_and_change_nothing(flow, origin, action, who, error):
    flow.bring_to(origin)
    events_before = len(flow.application.events)
    with pytest.raises(error) as refused:
        flow.act(who, action, "理由")
    db.session.rollback()
    if error is InvalidTransition:
        assert origin in refused.value.message
    assert flow.application.state == origin
    assert len(flow.application.events) == events_before


def test_someone_outside_the_workflow_is_told_who_may_act(flow):
    flow.bring_to("submitted")
    with pytest.raises(NotAllowed, match="county reviewer of the product's origin county"):
        flow.act("consumer", Action.COUNTY_APPROVE)


def test_someone_who_may_never_take_an_action_learns_nothing_of_the_state(flow):
    flow.bring_to("draft")
    with pytest.raises(NotAllowed, match="county reviewer of the product's origin county"):
        flow.act("consumer", Action.COUNTY_APPROVE)


def test_a_reviewer_of_the_other_stage_is_told_whose_stage_it_is(flow):
    flow.bring_to("county_approved")
    with pytest.raises(NotAllowed, match="province reviewer of the product's province"):
        flow.act("county", Action.RETURN, "补充材料")


def test_the_county_approver_cannot_also_approve_for_the_province(flow, make):
    both = make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}), (Role.PROVINCE_REVIEWER, {"region_code": "13"}))
    flow.world["both"] = both
    flow.bring_to("submitted")
    flow.act("both", Action.COUNTY_APPROVE)
    assert Action.PROVINCE_APPROVE not in reviews.allowed_actions(flow.user("both"), flow.application)
    with pytest.raises(NotAllowed, match="county level"):
        flow.act("both", Action.PROVINCE_APPROVE)
    db.session.rollback()
    flow.act("province", Action.PROVINCE_APPROVE)
    assert flow.application.state == "public_notice"


@pytest.mark.parametrize("action", [Action.RETURN, Action.REJECT])
def test_returning_or_rejecting_needs_a_comment(flow, action):
    flow.bring_to("submitted")
    with pytest.raises(ValidationFailed) as refused:
        flow.act("county", action, "   ")
    assert "comment" in refused.value.fields


def test_an_incomplete_application_cannot_be_submitted(flow):
    application = applications.create_application(
        flow.user("staff"), flow.world["product"], {"origin_county_code": SHENZHOU, "production_base_address": "果园"}
    )
    db.session.commit()
    flow.application_id = application.id
    with pytest.raises(ValidationFailed) as refused:
        flow.act("staff", Action.SUBMIT)
    assert {"quality_report", "linked_households", "market_price_fen"} <= set(refused.value.fields)


def test_evidence_is_editable_only_as_draft_or_returned_and_every_submission_is_kept(flow):
    flow.bring_to("returned")
    applications.update_application(
        flow.user("staff"), flow.application_id, {"linked_households": 52, "market_price_fen": 950}
    )
    db.session.commit()
    flow.act("staff", Action.SUBMIT)
    application = flow.application
    assert [v.number for v in application.versions] == [1, 2]
    assert application.versions[0].evidence["linked_households"] == 35
    changes = {c["field"]: (c["before"], c["after"]) for c in applications.changes_since_previous_version(application)}
    assert changes == {"linked_households": (35, 52), "market_price_fen": (900, 950)}
    with pytest.raises(InvalidTransition, match="submitted"):
        applications.update_application(flow.user("staff"), flow.application_id, {"linked_households": 1})


def test_one_application_in_progress_per_product(flow):
    flow.bring_to("submitted")
    with pytest.raises(Exception) as refused:
        applications.create_application(
            flow.user("staff"), flow.world["product"], dict(COMPLETE_EVIDENCE, origin_county_code=SHENZHOU)
        )
    assert getattr(refused.value, "status", None) == 409


def test_staff_apply_only_for_their_own_products(flow):
    with pytest.raises(NotAllowed):
        applications.create_application(
            flow.user("other_staff"), flow.world["product"], {"origin_county_code": SHENZHOU}
        )


def test_the_notice_lasts_five_working_days_from_the_calendar(flow):
    flow.bring_to("county_approved")
    flow.act("province", Action.PROVINCE_APPROVE, today=date(2026, 9, 29))
    # Wed 30 Sep, then National Day (1–7 Oct, seeded), Thu 8, Fri 9, Sat 10 (make-up working day), Mon 12.
    assert flow.application.notice_ends_on == date(2026, 10, 12)


def test_tick_certifies_after_the_notice_and_is_idempotent(flow):
    flow.bring_to("public_notice")
    ends = flow.application.notice_ends_on
    assert jobs.tick(ends).certified == []  # the last day of the notice still belongs to it
    first = jobs.tick(ends + timedelta(days=1))
    db.session.commit()
    assert first.certified == [f"FP13-{(ends + timedelta(days=1)).year}-000001"]
    assert jobs.tick(ends + timedelta(days=1)).certified == []
    certificate = flow.application.certificate
    assert certificate.valid_from == ends + timedelta(days=1)
    assert certificate.valid_until == date(
        certificate.valid_from.year + 2, certificate.valid_from.month, certificate.valid_from.day
    ) - timedelta(days=1)
    assert flow.application.events[-1].actor_id is None and flow.application.events[-1].actor_role == "job"


def test_an_open_objection_holds_the_notice_until_it_is_decided(flow):
    flow.bring_to("public_notice")
    after = flow.application.notice_ends_on + timedelta(days=1)
    flow.act("consumer", Action.OBJECT, "该合作社并未带动贫困户")
    assert jobs.tick(after).certified == []
    with pytest.raises(ValidationFailed):
        flow.act("province", Action.DISMISS_OBJECTION, "")
    db.session.rollback()
    flow.act("province", Action.DISMISS_OBJECTION, "经核实，带贫机制真实")
    assert db.session.scalar(sa.select(Objection.status)) == "dismissed"
    assert len(jobs.tick(after).certified) == 1


def test_an_upheld_objection_rejects_the_application(flow):
    flow.bring_to("public_notice")
    flow.act("consumer", Action.OBJECT, "价格远高于市场价")
    flow.act("province", Action.UPHOLD_OBJECTION, "核实属实")
    assert flow.application.state == "rejected"
    assert jobs.tick(TODAY + timedelta(days=30)).certified == []


def test_certificates_are_numbered_per_province_and_year(make, app_ctx):
    hebei = [make.product(make.cooperative(county=SHENZHOU), certified=False) for _ in range(2)]
    hubei = make.product(make.cooperative(county=ZAOYANG), certified=False)
    numbers = []
    for product in [*hebei, hubei]:
        application_id = make.application(product, up_to="public_notice")
        ends = db.session.get(Application, application_id).notice_ends_on
        numbers += jobs.tick(ends + timedelta(days=1)).certified
        db.session.commit()
    year = numbers[0].split("-")[1]
    assert numbers == [f"FP13-{year}-000001", f"FP13-{year}-000002", f"FP42-{year}-000001"]


def test_expiry_takes_the_certificate_and_the_product_off(flow):
    flow.bring_to("certified")
    valid_until = flow.application.certificate.valid_until
    assert jobs.tick(valid_until).expired == []
    assert jobs.tick(valid_until + timedelta(days=1)).expired == [flow.application.certificate.certificate_no]
    db.session.commit()
    assert flow.application.state == "expired"


def test_a_renewal_supersedes_the_old_certificate(flow, make):
    flow.bring_to("certified")
    old_no = flow.application.certificate.certificate_no
    renewal = make.application(flow.world["product"], up_to="certified")
    assert flow.application.state == "superseded"
    assert db.session.get(Application, renewal).certificate.certificate_no != old_no
    assert certificates.current_certificate(flow.world["product"]).application_id == renewal


def test_events_cannot_be_edited_or_deleted_through_the_orm(flow):
    flow.bring_to("submitted")
    event = db.session.scalar(sa.select(Event))
    event.comment = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(sa.select(Event)))
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_the_database_itself_refuses_to_change_events(flow):
    flow.bring_to("submitted")
    for statement in ("UPDATE certification_events SET comment = 'x'", "DELETE FROM certification_events"):
        with pytest.raises((sa.exc.DBAPIError, sa.exc.IntegrityError), match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()


def test_versions_are_kept_per_submission(flow):
    flow.bring_to("returned")
    flow.act("staff", Action.SUBMIT)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Version)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
