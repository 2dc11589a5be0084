"""The public notice (公示): how long it lasts by the working-day calendar, and the objections raised during it."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from certification.models import Application, CalendarDay, Objection, State
from certification.rules import add_working_days
from shop.accounts.models import User
from shop.errors import ValidationFailed
from shop.extensions import db

# --- Objections ------------------------------------------------------------------------------------------


def open_objections(application: Application) -> list[Objection]:
    return [o for o in application.objections if o.status == "open"]


def the_open_objection(application: Application, objection_id: int | None) -> Objection:
    """The open objection a decision is about: the one named, or the only one open."""
    candidates = open_objections(application)
    if objection_id is not None:
        candidates = [o for o in candidates if o.id == objection_id]
    if len(candidates) != 1:
        raise ValidationFailed.on(
            "objection_id",
            _("Name the open objection this decides.") if candidates else _("There is no such open objection."),
        )
    return candidates[0]


def public_notices() -> list[Application]:
    return list(
        db.session.scalars(
            select(Application).where(Application.state == State.PUBLIC_NOTICE).order_by(Application.notice_ends_on)
        )
    )


# --- The working-day calendar ------------------------------------------------------------------------------


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
