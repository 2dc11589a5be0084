"""Use cases of certification: applications, the one transition function, the tick job, verification.

Products and cooperatives are read through light table constructs by foreign key: this package never
imports the shop's commerce (catalogue, orders, payments, ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from certification.labels import ACTION_LABELS, ACTOR_REFUSALS, STATE_LABELS
from certification.models import (
    EDITABLE_STATES,
    EVIDENCE_FIELDS,
    Application,
    CalendarDay,
    Certificate,
    CertificateSequence,
    Document,
    DocumentKind,
    Event,
    LinkageType,
    Objection,
    State,
)
from certification.rules import TRANSITIONS, Action, Actor, Move, add_working_days, certificate_number, validity_end
from shop import uploads
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.regions.services import require_region
from shop.timeutil import business_date
from shop.types import utcnow

# The commerce tables, by name and foreign key only.
PRODUCTS = sa.table("products", sa.column("id"), sa.column("cooperative_id"), sa.column("name"))
COOPERATIVES = sa.table("cooperatives", sa.column("id"), sa.column("name"))

MAX_TEXT = {"production_base_address": 200, "supply_capacity": 200, "market_price_source": 200,
            "linkage_description": 5000, "output_unit": 8}  # fmt: skip
MAX_AMOUNT = 10**12


# --- What the shop asks: is this product certified today? -------------------------------------------------


def holds_valid_certificate(product_id: ColumnElement, on: date) -> ColumnElement[bool]:
    """THE sellable rule of certification as one SQL expression (twin: rules.certificate_is_valid)."""
    return exists().where(
        Certificate.product_id == product_id,
        Certificate.application_id == Application.id,
        Application.state == State.CERTIFIED,
        Certificate.valid_from <= on,
        Certificate.valid_until >= on,
    )


def certificate_problem(product_id: int, on: date | None = None) -> str | None:
    """Why a product holds no valid certificate on a date, in words for its cooperative; None when it does."""
    on = on or business_date()
    latest = db.session.scalar(
        select(Certificate).where(Certificate.product_id == product_id).order_by(Certificate.id.desc()).limit(1)
    )
    if latest is None:
        return _("The product is not certified yet.")
    state = latest.application.state
    if state == State.SUSPENDED:
        return _("Its certificate %(no)s is suspended.", no=latest.certificate_no)
    if state == State.REVOKED:
        return _("Its certificate %(no)s was revoked.", no=latest.certificate_no)
    if state == State.EXPIRED or latest.valid_until < on:
        return _("Its certificate %(no)s expired on %(day)s.", no=latest.certificate_no, day=latest.valid_until)
    if latest.valid_from > on:
        return _("Its certificate %(no)s is valid from %(day)s.", no=latest.certificate_no, day=latest.valid_from)
    if state != State.CERTIFIED:
        return _("Its certificate %(no)s is no longer valid.", no=latest.certificate_no)
    return None


def current_certificate(product_id: int, on: date | None = None) -> Certificate | None:
    """The certificate that makes the product sellable on a date (the newest, should two overlap), or None."""
    return current_certificates([product_id], on).get(product_id)


def current_certificates(product_ids: list[int], on: date | None = None) -> dict[int, Certificate]:
    """`current_certificate` of several products in one query (a page of the catalogue)."""
    if not product_ids:
        return {}
    on = on or business_date()
    certificates = db.session.scalars(
        select(Certificate)
        .join(Certificate.application)
        .where(
            Certificate.product_id.in_(product_ids),
            Application.state == State.CERTIFIED,
            Certificate.valid_from <= on,
            Certificate.valid_until >= on,
        )
        .order_by(Certificate.id)
    )
    return {certificate.product_id: certificate for certificate in certificates}  # the newest wins


# --- Who may act ----------------------------------------------------------------------------------------


def acting_role(actor: Actor, user: User | None, application: Application) -> str | None:
    """The role in which this user may act as `actor` on this application, or None."""
    if actor == Actor.JOB:
        return "job" if user is None else None
    if user is None or not user.is_authenticated:
        return None
    if actor == Actor.APPLICANT and application.cooperative_id in user.cooperative_ids():
        return Role.COOPERATIVE_STAFF
    if actor == Actor.COUNTY_REVIEWER and application.origin_county_code in user.region_codes(Role.COUNTY_REVIEWER):
        return Role.COUNTY_REVIEWER
    province_reviewer = application.province_code in user.region_codes(Role.PROVINCE_REVIEWER)
    if actor in (Actor.PROVINCE_REVIEWER, Actor.SUPERVISOR) and province_reviewer:
        return Role.PROVINCE_REVIEWER
    if actor == Actor.SUPERVISOR and user.has_role(Role.OPERATOR):
        return Role.OPERATOR
    if actor == Actor.SIGNED_IN:
        return "signed_in"
    return None


def can_view(user: User | None, application: Application) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(Role.OPERATOR) or application.state == State.PUBLIC_NOTICE:
        return True
    return any(
        acting_role(actor, user, application)
        for actor in (Actor.APPLICANT, Actor.COUNTY_REVIEWER, Actor.PROVINCE_REVIEWER)
    )


def get_application(user: User, application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or not can_view(user, application):
        raise NotFound(_("No such application."))
    return application


def _county_approver_id(application: Application) -> int | None:
    approvals = [e for e in application.events if e.action == Action.COUNTY_APPROVE]
    return approvals[-1].actor_id if approvals else None


def _separation_of_duties(user: User | None, application: Application) -> str | None:
    if user is not None and user.id == _county_approver_id(application):
        return _("The reviewer who approved at county level cannot also approve at province level.")
    return None


def allowed_actions(user: User | None, application: Application) -> list[Action]:
    """The actions this user may take on this application now (for the UI)."""
    actions = []
    for (state, action), move in TRANSITIONS.items():
        if state != application.state or move.actor == Actor.JOB:
            continue
        if acting_role(move.actor, user, application) is None:
            continue
        if action == Action.PROVINCE_APPROVE and _separation_of_duties(user, application):
            continue
        if action in (Action.UPHOLD_OBJECTION, Action.DISMISS_OBJECTION) and not open_objections(application):
            continue
        actions.append(action)
    return actions


# --- Applications: create, edit, documents ------------------------------------------------------------


def _product(product_id: int, *, lock: bool = False):
    query = (
        select(PRODUCTS.c.id, PRODUCTS.c.cooperative_id, PRODUCTS.c.name, COOPERATIVES.c.name.label("cooperative"))
        .join(COOPERATIVES, COOPERATIVES.c.id == PRODUCTS.c.cooperative_id)
        .where(PRODUCTS.c.id == product_id)
    )
    if lock:
        query = query.with_for_update(of=PRODUCTS)
    row = db.session.execute(query).one_or_none()
    if row is None:
        raise ValidationFailed.on("product_id", _("No such product."))
    return row


def _check_evidence(changes: dict) -> dict:
    clean = {}
    for field, value in changes.items():
        if field not in EVIDENCE_FIELDS:
            raise ValidationFailed.on(field, _("Unknown field."))
        clean[field] = value.strip() if isinstance(value, str) else value
    if "origin_county_code" in clean:
        clean["origin_county_code"] = require_region(
            clean["origin_county_code"], level="county", field="origin_county_code"
        )
    if "linkage_type" in clean and clean["linkage_type"] not in {t.value for t in LinkageType}:
        raise ValidationFailed.on("linkage_type", _("Unknown type of benefit linkage."))
    for field, limit in MAX_TEXT.items():
        if field in clean and (not isinstance(clean[field], str) or len(clean[field]) > limit):
            raise ValidationFailed.on(field, _("At most %(n)d characters.", n=limit))
    for field in ("annual_output", "declared_price_fen", "market_price_fen", "linked_households"):
        if field in clean:
            value = clean[field]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
                raise ValidationFailed.on(field, _("A whole number from 0 to 10^12."))
    return clean


def create_application(user: User, product_id: int, evidence: dict) -> Application:
    """A draft application of a cooperative for one of its products."""
    product = _product(product_id)
    if product.cooperative_id not in user.cooperative_ids():
        raise NotAllowed(_("Only staff of the product's cooperative may apply for it."))
    clean = _check_evidence(evidence)
    if "origin_county_code" not in clean:
        raise ValidationFailed.on("origin_county_code", _("This field is required."))
    open_one = db.session.scalar(
        select(Application.id).where(
            Application.product_id == product_id,
            Application.state.in_(
                [State.DRAFT, State.SUBMITTED, State.COUNTY_APPROVED, State.RETURNED, State.PUBLIC_NOTICE]
            ),
        )
    )
    if open_one is not None:
        raise Conflict(
            _("This product already has an application in progress (no. %(id)d).", id=open_one),
            fields={"product_id": [_("An application is already in progress.")]},
        )
    application = Application(
        product_id=product_id,
        cooperative_id=product.cooperative_id,
        product_name=product.name,
        cooperative_name=product.cooperative,
        created_by_id=user.id,
        **clean,
    )
    db.session.add(application)
    db.session.flush()
    return application


def _require_editable(user: User, application: Application) -> None:
    if acting_role(Actor.APPLICANT, user, application) is None:
        raise NotAllowed(str(ACTOR_REFUSALS[Actor.APPLICANT]))
    if application.state not in EDITABLE_STATES:
        raise InvalidTransition(
            _(
                "The application is “%(state)s” (%(code)s): it can be edited only as a draft or when returned.",
                state=STATE_LABELS[application.state],
                code=application.state,
            )
        )


def update_application(user: User, application_id: int, changes: dict) -> Application:
    application = get_application(user, application_id)
    _require_editable(user, application)
    for field, value in _check_evidence(changes).items():
        setattr(application, field, value)
    db.session.flush()
    return application


def add_document(user: User, application_id: int, kind: str, filename: str, data: bytes) -> Document:
    application = get_application(user, application_id)
    _require_editable(user, application)
    if kind not in {k.value for k in DocumentKind}:
        raise ValidationFailed.on("kind", _("Unknown kind of document."))
    checked = uploads.inspect_document(data, field="file")  # images re-encoded: no metadata, no trailing bytes
    document = Document(
        application=application,
        kind=kind,
        original_name=(filename or "document")[-200:],
        stored_name=uploads.store("certification", checked.data, checked.extension),
        content_type=checked.content_type,
        size_bytes=len(checked.data),
        uploaded_by_id=user.id,
    )
    db.session.add(document)
    db.session.flush()
    return document


def get_document(user: User, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if (
        document is None
        or not can_view(user, document.application)
        or (document.application.state == State.PUBLIC_NOTICE and not _is_party(user, document.application))
    ):
        raise NotFound(_("No such document."))
    return document


def _is_party(user: User, application: Application) -> bool:
    return user.has_role(Role.OPERATOR) or any(
        acting_role(actor, user, application)
        for actor in (Actor.APPLICANT, Actor.COUNTY_REVIEWER, Actor.PROVINCE_REVIEWER)
    )


def missing_evidence(application: Application) -> dict[str, list[str]]:
    """What a submission still lacks, by field."""
    missing = {}
    required = _("Required before submitting.")
    for field in ("production_base_address", "supply_capacity", "market_price_source", "linkage_description"):
        if not getattr(application, field):
            missing[field] = [required]
    for field in ("annual_output", "declared_price_fen", "market_price_fen", "linked_households"):
        if not getattr(application, field):
            missing[field] = [_("Must be more than zero.")]
    if not any(d.kind == DocumentKind.QUALITY_REPORT for d in application.documents):
        missing["quality_report"] = [_("Attach the quality inspection report.")]
    return missing


def evidence_of(application: Application) -> dict:
    return {field: getattr(application, field) for field in EVIDENCE_FIELDS}


def changes_since_previous_version(application: Application) -> list[dict]:
    """What the applicant changed between the last two submissions (what a reviewer re-reads)."""
    if len(application.versions) < 2:
        return []
    before, after = application.versions[-2], application.versions[-1]
    changes = [
        {"field": field, "before": before.evidence.get(field), "after": after.evidence.get(field)}
        for field in EVIDENCE_FIELDS
        if before.evidence.get(field) != after.evidence.get(field)
    ]
    added = sorted(set(after.document_ids) - set(before.document_ids))
    if added:
        changes.append({"field": "documents", "before": before.document_ids, "after": after.document_ids})
    return changes


# --- The one transition function ------------------------------------------------------------------------


def open_objections(application: Application) -> list[Objection]:
    return [o for o in application.objections if o.status == "open"]


def _calendar(start: date, days: int) -> tuple[set[date], set[date]]:
    rows = db.session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(
            CalendarDay.day > start, CalendarDay.day <= start + timedelta(days=days)
        )
    ).all()
    return {d for d, k in rows if k == "holiday"}, {d for d, k in rows if k == "workday"}


def notice_end(start: date, working_days: int) -> date:
    """The last day of a public notice that starts the working day after `start`."""
    holidays, workdays = _calendar(start, working_days * 7 + 60)
    return add_working_days(start, working_days, holidays, workdays)


def _next_certificate_number(province_code: str, year: int) -> str:
    """Numbers per province and year, handed out under the sequence row's lock (no gaps from races)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(CertificateSequence)
        .values(province_prefix=province_code[:2], year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["province_prefix", "year"],
            set_={"last_number": CertificateSequence.last_number + 1},
        )
        .returning(CertificateSequence.last_number)
    )
    return certificate_number(province_code, year, db.session.execute(statement).scalar_one())


@dataclass(frozen=True)
class TransitionResult:
    application: Application
    event: Event


def apply_transition(
    user: User | None,
    application_id: int,
    action: Action | str,
    comment: str = "",
    *,
    objection_id: int | None = None,
    today: date | None = None,
) -> TransitionResult:
    """Apply one move of the transition table: check state, actor, comment and guards; write state and event.

    The state is written by a conditional UPDATE (… WHERE state = <the state we checked>): of two reviewers
    acting at once, one wins and the other gets 409.
    """
    today = today or business_date()
    comment = (comment or "").strip()
    try:
        action = Action(action)
    except ValueError:
        raise ValidationFailed.on("action", _("Unknown action.")) from None
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound(_("No such application."))
    origin = State(application.state)
    move: Move | None = TRANSITIONS.get((origin, action))
    if move is None:
        raise InvalidTransition(
            _(
                "“%(action)s” is not possible while the application is “%(state)s” (%(code)s).",
                action=ACTION_LABELS[action],
                state=STATE_LABELS[origin],
                code=origin.value,
            ),
            fields={"state": [origin.value]},
        )
    role = acting_role(move.actor, user, application)
    if role is None:
        raise NotAllowed(str(ACTOR_REFUSALS[move.actor]))
    if move.comment_required and not comment:
        raise ValidationFailed.on("comment", _("Say why (a comment is required for this action)."))
    values: dict = {}
    objection = None
    if action == Action.SUBMIT:
        missing = missing_evidence(application)
        if missing:
            raise ValidationFailed(_("The application is not complete."), fields=missing)
        # Locked: the catalogue refuses to rename a product under review, and locks it to check (see
        # shop.catalog.services.update_product), so the name copied here is the one that stays.
        product = _product(application.product_id, lock=True)
        values.update(
            version_count=application.version_count + 1,
            submitted_at=utcnow(),
            product_name=product.name,
            cooperative_name=product.cooperative,
        )
    elif action == Action.PROVINCE_APPROVE:
        refusal = _separation_of_duties(user, application)
        if refusal:
            raise NotAllowed(refusal)
        values["notice_ends_on"] = notice_end(today, current_app.config["NOTICE_WORKING_DAYS"])
    elif action in (Action.UPHOLD_OBJECTION, Action.DISMISS_OBJECTION):
        objection = _the_open_objection(application, objection_id)
    elif action == Action.END_NOTICE:
        if open_objections(application):
            raise InvalidTransition(_("An objection is still open."))
        if application.notice_ends_on is None or today <= application.notice_ends_on:
            raise InvalidTransition(_("The public notice has not ended yet."))
    elif action == Action.EXPIRE and (application.certificate is None or application.certificate.valid_until >= today):
        raise InvalidTransition(_("The certificate is still valid."))

    changed = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.state == origin)
        .values(state=move.to, state_changed_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(_("Someone else acted on this application just now; reload it."))
    db.session.expire(application)

    event = Event(
        application_id=application.id,
        action=action,
        from_state=origin,
        to_state=move.to,
        actor_id=user.id if user else None,
        actor_role=str(role),
        comment=comment,
    )
    db.session.add(event)
    if action == Action.SUBMIT:
        db.session.add(_version_of(application, user))
    elif action == Action.OBJECT:
        db.session.add(Objection(application_id=application.id, raised_by_id=user.id, reason=comment))
    elif objection is not None:
        objection.status = "upheld" if action == Action.UPHOLD_OBJECTION else "dismissed"
        objection.resolved_by_id, objection.resolved_at, objection.resolution = user.id, utcnow(), comment
    elif action == Action.END_NOTICE:
        _issue_certificate(application, today)
    db.session.flush()
    return TransitionResult(application, event)


def _version_of(application: Application, user: User):
    from certification.models import Version

    return Version(
        application_id=application.id,
        number=application.version_count,
        evidence=evidence_of(application),
        document_ids=[d.id for d in application.documents],
        submitted_by_id=user.id,
    )


def _the_open_objection(application: Application, objection_id: int | None) -> Objection:
    candidates = open_objections(application)
    if objection_id is not None:
        candidates = [o for o in candidates if o.id == objection_id]
    if len(candidates) != 1:
        raise ValidationFailed.on(
            "objection_id",
            _("Name the open objection this decides.") if candidates else _("There is no such open objection."),
        )
    return candidates[0]


def _issue_certificate(application: Application, today: date) -> Certificate:
    years = current_app.config["CERTIFICATE_VALIDITY_YEARS"]
    certificate = Certificate(
        certificate_no=_next_certificate_number(application.province_code, today.year),
        application_id=application.id,
        product_id=application.product_id,
        product_name=application.product_name,
        cooperative_name=application.cooperative_name,
        origin_county_code=application.origin_county_code,
        valid_from=today,
        valid_until=validity_end(today, years),
    )
    db.session.add(certificate)
    db.session.flush()
    earlier = db.session.scalars(
        select(Application.id).where(
            Application.product_id == application.product_id,
            Application.id != application.id,
            Application.state.in_([State.CERTIFIED, State.SUSPENDED]),
        )
    ).all()
    for earlier_id in earlier:
        apply_transition(None, earlier_id, Action.SUPERSEDE, certificate.certificate_no, today=today)
    return certificate


# --- The scheduled job -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickResult:
    certified: list[str]
    expired: list[str]


def tick(today: date | None = None) -> TickResult:
    """End public notices that are over (no open objection) and expire certificates past their validity.

    Idempotent: a second run the same day finds nothing to do.
    """
    today = today or business_date()
    due_notices = db.session.scalars(
        select(Application.id)
        .where(
            Application.state == State.PUBLIC_NOTICE,
            Application.notice_ends_on < today,
            ~exists().where(Objection.application_id == Application.id, Objection.status == "open"),
        )
        .order_by(Application.id)
    ).all()
    certified = []
    for application_id in due_notices:
        try:
            result = apply_transition(None, application_id, Action.END_NOTICE, today=today)
        except InvalidTransition:
            continue  # another run took it meanwhile
        certified.append(result.application.certificate.certificate_no)
    due_expiry = db.session.execute(
        select(Application.id, Certificate.certificate_no)
        .join(Certificate, Certificate.application_id == Application.id)
        .where(Application.state.in_([State.CERTIFIED, State.SUSPENDED]), Certificate.valid_until < today)
        .order_by(Application.id)
    ).all()
    expired = []
    for application_id, number in due_expiry:
        try:
            apply_transition(None, application_id, Action.EXPIRE, today=today)
        except InvalidTransition:
            continue
        expired.append(number)
    return TickResult(certified=certified, expired=expired)


# --- Lists, queues, verification ---------------------------------------------------------------------


def _scope(user: User) -> ColumnElement[bool]:
    if user.has_role(Role.OPERATOR):
        return sa.true()
    province_prefixes = [code[:2] for code in user.region_codes(Role.PROVINCE_REVIEWER)]
    return or_(
        Application.cooperative_id.in_(user.cooperative_ids()),
        Application.origin_county_code.in_(user.region_codes(Role.COUNTY_REVIEWER)),
        func.substr(Application.origin_county_code, 1, 2).in_(province_prefixes),
        Application.state == State.PUBLIC_NOTICE,
    )


def list_applications(
    user: User, state: str | None = None, county: str | None = None, cooperative_id: int | None = None
) -> list[Application]:
    query = select(Application).where(_scope(user)).order_by(Application.id.desc())
    if state:
        query = query.where(Application.state == state)
    if county:
        query = query.where(Application.origin_county_code == county)
    if cooperative_id:
        query = query.where(Application.cooperative_id == cooperative_id)
    return list(db.session.scalars(query.limit(500)))


@dataclass(frozen=True)
class QueueItem:
    application: Application
    stage: str
    days_waiting: int


def review_queue(user: User, today: date | None = None) -> list[QueueItem]:
    """What waits for this reviewer, oldest first: county stage, province stage, notices with objections."""
    today = today or business_date()
    county_codes = user.region_codes(Role.COUNTY_REVIEWER)
    prefixes = [code[:2] for code in user.region_codes(Role.PROVINCE_REVIEWER)]
    in_province = func.substr(Application.origin_county_code, 1, 2).in_(prefixes)
    has_open_objection = exists().where(Objection.application_id == Application.id, Objection.status == "open")
    query = (
        select(Application)
        .where(
            or_(
                sa.and_(Application.state == State.SUBMITTED, Application.origin_county_code.in_(county_codes)),
                sa.and_(Application.state == State.COUNTY_APPROVED, in_province),
                sa.and_(Application.state == State.PUBLIC_NOTICE, in_province, has_open_objection),
            )
        )
        .order_by(Application.state_changed_at, Application.id)
    )
    items = []
    for application in db.session.scalars(query):
        stage = {"submitted": "county", "county_approved": "province"}.get(application.state, "objection")
        waiting = (today - business_date(application.state_changed_at)).days
        items.append(QueueItem(application, stage, waiting))
    return items


def certificate_by_number(number: str) -> Certificate:
    certificate = db.session.scalar(select(Certificate).where(Certificate.certificate_no == number.strip().upper()))
    if certificate is None:
        raise NotFound(_("No certificate has the number %(no)s. Check the number on the package.", no=number))
    return certificate


def certificates_of(cooperative_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .join(Certificate.application)
            .where(Application.cooperative_id == cooperative_id)
            .order_by(Certificate.id.desc())
        )
    )


def valid_certificates(province: str | None = None, county: str | None = None, on: date | None = None):
    """A query of the certificates valid on a date (the public directory, 扶贫产品目录), for callers to extend."""
    on = on or business_date()
    query = (
        select(Certificate)
        .join(Certificate.application)
        .where(Application.state == State.CERTIFIED, Certificate.valid_from <= on, Certificate.valid_until >= on)
        .order_by(Certificate.certificate_no)
    )
    if province:
        query = query.where(func.substr(Certificate.origin_county_code, 1, 2) == province[:2])
    if county:
        query = query.where(Certificate.origin_county_code == county)
    return query


# --- The holiday calendar -------------------------------------------------------------------------------


def calendar_days(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


def set_calendar_day(user: User, day: date, kind: str | None, name: str = "") -> CalendarDay | None:
    """Mark a day as a holiday or a make-up working day (kind None: an ordinary day again)."""
    if kind not in (None, "holiday", "workday"):
        raise ValidationFailed.on("kind", _("Choose holiday or workday."))
    existing = db.session.get(CalendarDay, day)
    if kind is None:
        if existing is not None:
            db.session.delete(existing)
        db.session.flush()
        return None
    if existing is None:
        existing = CalendarDay(day=day)
        db.session.add(existing)
    existing.kind, existing.name = kind, name.strip()[:40]
    db.session.flush()
    return existing


# --- Public verification ---------------------------------------------------------------------------------


def _event_day(application: Application, action: Action) -> date | None:
    events = [e for e in application.events if e.action == action]
    return business_date(events[-1].at) if events else None


def verification_of(certificate: Certificate, on: date | None = None) -> dict:
    """What a buyer holding a package needs to know, in plain words."""
    from shop.regions.models import Region

    on = on or business_date()
    application = certificate.application
    state = State(application.state)
    if state == State.CERTIFIED and certificate.valid_from <= on <= certificate.valid_until:
        text = _("Certified, valid until %(day)s.", day=certificate.valid_until.isoformat())
    elif state == State.CERTIFIED and on < certificate.valid_from:
        text = _("Certified, valid from %(day)s.", day=certificate.valid_from.isoformat())
    elif state == State.SUSPENDED:
        text = _(
            "Suspended since %(day)s: this product may not be sold as certified.",
            day=_event_day(application, Action.SUSPEND),
        )
    elif state == State.REVOKED:
        text = _("Revoked on %(day)s: this certificate is no longer valid.", day=_event_day(application, Action.REVOKE))
    elif state == State.SUPERSEDED:
        text = _("Replaced by a newer certificate on %(day)s.", day=_event_day(application, Action.SUPERSEDE))
    else:
        text = _("Expired on %(day)s.", day=certificate.valid_until.isoformat())
    region = db.session.get(Region, certificate.origin_county_code)
    return {
        "certificate_no": certificate.certificate_no,
        "status": state.value,
        "status_text": text,
        "is_valid": state == State.CERTIFIED and certificate.valid_from <= on <= certificate.valid_until,
        "product_id": certificate.product_id,
        "product_name": certificate.product_name,
        "cooperative_name": certificate.cooperative_name,
        "origin_county_code": certificate.origin_county_code,
        "origin": region.full_name if region else certificate.origin_county_code,
        "valid_from": certificate.valid_from,
        "valid_until": certificate.valid_until,
    }


def public_notices() -> list[Application]:
    return list(
        db.session.scalars(
            select(Application).where(Application.state == State.PUBLIC_NOTICE).order_by(Application.notice_ends_on)
        )
    )


def product_name(product_id: int) -> str | None:
    return db.session.scalar(select(PRODUCTS.c.name).where(PRODUCTS.c.id == product_id))


def product_origin(product_id: int) -> str | None:
    products = sa.table("products", sa.column("id"), sa.column("origin_county_code"))
    return db.session.scalar(select(products.c.origin_county_code).where(products.c.id == product_id))


def latest_applications(product_ids: list[int]) -> dict[int, Application]:
    """The newest application of each product (for a cooperative's overview)."""
    latest: dict[int, Application] = {}
    query = select(Application).where(Application.product_id.in_(product_ids)).order_by(Application.id)
    for application in db.session.scalars(query):
        latest[application.product_id] = application
    return latest
