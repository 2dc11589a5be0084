"""The scheduled job (`flask certification tick`): end public notices that are over, expire certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select

from certification.models import Application, Certificate, Objection, State
from certification.reviews import apply_transition
from certification.rules import Action
from shop.errors import InvalidTransition
from shop.extensions import db
from shop.timeutil import business_date


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
