"""Certificates: the sellable rule the shop asks, numbering and issue, the directory and public verification.

A certificate's status is its application's state: the moves that change it (suspend, revoke, expire,
supersede) are the workflow's, in `certification.reviews`.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from certification.models import Application, Certificate, CertificateSequence, Event, State
from certification.rules import Action, certificate_number, validity_end
from shop.errors import NotFound
from shop.extensions import db
from shop.timeutil import business_date

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


# --- Numbering and issue -------------------------------------------------------------------------------------


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


def issue_certificate(application: Application, today: date) -> Certificate:
    """The certificate of an application just certified: numbered, valid from today for the configured years,
    printing the names the reviewers certified."""
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
    return certificate


def earlier_certified_applications(application: Application) -> list[int]:
    """The product's other applications whose certificate still holds (a renewal supersedes them)."""
    return list(
        db.session.scalars(
            select(Application.id).where(
                Application.product_id == application.product_id,
                Application.id != application.id,
                Application.state.in_([State.CERTIFIED, State.SUSPENDED]),
            )
        )
    )


# --- Lists and the public directory ---------------------------------------------------------------------------


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


# --- Public verification ---------------------------------------------------------------------------------


def _event_day(application: Application, action: Action) -> date | None:
    events: list[Event] = [e for e in application.events if e.action == action]
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
