"""Pages of certification: cooperatives apply, reviewers review, anyone verifies a certificate."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certification import jobs
from certification.applications import (
    add_document,
    changes_since_previous_version,
    create_application,
    get_application,
    get_document,
    list_applications,
    missing_evidence,
    product_name,
    product_origin,
    update_application,
)
from certification.certificates import certificate_by_number, certificates_of, verification_of
from certification.forms import (
    ApplicationForm,
    CalendarDayForm,
    DocumentForm,
    ObjectionForm,
    TransitionForm,
)
from certification.labels import DOCUMENT_LABELS, LINKAGE_LABELS
from certification.models import EDITABLE_STATES, Application, State
from certification.notices import calendar_days, open_objections, public_notices, set_calendar_day
from certification.reviews import allowed_actions, apply_transition, review_queue
from certification.rules import Action
from shop import uploads
from shop.access import COOPERATIVE_STAFF, HOUSEHOLD_VIEWERS, OPERATORS, PUBLIC, REVIEWERS, SIGNED_IN, allow
from shop.accounts.forms import EmptyForm
from shop.errors import DomainError
from shop.extensions import limiter
from shop.money import fen_to_yuan
from shop.timeutil import business_date
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error
from shop.web.inputs import row_id

bp = Blueprint("certification", __name__)


@bp.route("/verify", methods=["GET"])
@allow(PUBLIC)
def verify_form():
    number = request.args.get("no", "").strip()
    if number:
        return redirect(url_for("certification.verify", certificate_no=number[:30]))
    return render_template("certification/verify.html", result=None, number="")


@bp.route("/verify/<certificate_no>")
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
def verify(certificate_no: str):
    try:
        result = verification_of(certificate_by_number(certificate_no))
    except DomainError as error:
        return render_template(
            "certification/verify.html", result=None, number=certificate_no, error=error.message
        ), 404
    return render_template(
        "certification/verify.html", result=result, number=certificate_no, on_sale=_on_sale(result["product_id"])
    )


def _on_sale(product_id: int) -> bool | None:
    """Whether the shop sells the product now, by the catalogue's listing rule, which the catalogue registers
    (certification does not import it); None when there is no catalogue to ask."""
    product_on_sale = current_app.extensions.get("certification", {}).get("product_on_sale")
    return product_on_sale(product_id) if product_on_sale else None


@bp.route("/verify/<certificate_no>/qr.<fmt>")
@allow(PUBLIC)
def qr_code(certificate_no: str, fmt: str):
    """A QR code of the verification page's address, for printing on packaging."""
    if fmt not in ("svg", "png"):
        return redirect(url_for("certification.qr_code", certificate_no=certificate_no, fmt="svg"))
    certificate = certificate_by_number(certificate_no)
    code = segno.make(
        url_for("certification.verify", certificate_no=certificate.certificate_no, _external=True), error="m"
    )
    buffer = io.BytesIO()
    if fmt == "svg":
        code.save(buffer, kind="svg", scale=8, border=2)
        mimetype = "image/svg+xml"
    else:
        code.save(buffer, kind="png", scale=10, border=2)
        mimetype = "image/png"
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=mimetype,
        as_attachment=request.args.get("download") == "1",
        download_name=f"{certificate.certificate_no}.{fmt}",
    )


@bp.route("/notices")
@allow(PUBLIC)
def notices():
    """Applications under public notice (公示): anyone signed in may object."""
    return render_template("certification/notices.html", applications=public_notices())


@bp.route("/certification/")
@allow(HOUSEHOLD_VIEWERS)
def applications():
    state = request.args.get("state") or None
    return render_template(
        "certification/list.html",
        applications=list_applications(current_user, state),
        state=state,
        states=list(State),
    )


@bp.route("/certification/new", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF)
def new_application():
    product_id = request.args.get("product_id", type=row_id)
    form = ApplicationForm()
    if not form.is_submitted() and product_id:
        form.origin_county_code.data = product_origin(product_id)
    if form.validate_on_submit():
        try:
            application = create_application(current_user, product_id or 0, form.evidence())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Draft saved. Attach the quality report, then submit."), "success")
            return redirect(url_for("certification.application", application_id=application.id))
    return render_form(
        "certification/new.html",
        form,
        product_id=product_id,
        product_name=product_name(product_id) if product_id else None,
    )


def _detail_context(application: Application, form: ApplicationForm | None = None, status: int = 200):
    editable = (
        application.state in EDITABLE_STATES
        and current_user.is_authenticated
        and (application.cooperative_id in current_user.cooperative_ids())
    )
    if editable and form is None:
        form = ApplicationForm(obj=application)
        form.declared_price_yuan.data = fen_to_yuan(application.declared_price_fen)
        form.market_price_yuan.data = fen_to_yuan(application.market_price_fen)
    actions = allowed_actions(current_user, application)
    return render_template(
        "certification/detail.html",
        application=application,
        form=form if editable else None,
        document_form=DocumentForm(formdata=None) if editable else None,
        actions=actions,
        transition_form=TransitionForm(formdata=None),
        objection_form=ObjectionForm(formdata=None),
        changes=changes_since_previous_version(application),
        linkage_labels=LINKAGE_LABELS,
        document_labels=DOCUMENT_LABELS,
        missing=missing_evidence(application) if editable else {},
        open_objections=open_objections(application),
        Action=Action,
        can_object=Action.OBJECT in actions,
    ), status


@bp.route("/certification/<int:application_id>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def application(application_id: int):
    item = get_application(current_user, application_id)
    if request.method == "GET":
        return _detail_context(item)
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            update_application(current_user, application_id, form.evidence())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("certification.application", application_id=application_id))
    return _detail_context(item, form, 422)


@bp.route("/certification/<int:application_id>/documents", methods=["POST"])
@allow(COOPERATIVE_STAFF)
def upload_document(application_id: int):
    form = DocumentForm()
    target = url_for("certification.application", application_id=application_id)
    if not form.validate_on_submit():
        return redirect_after_refusal(DomainError(_("Choose a PDF, JPEG or PNG file.")), target)
    try:
        add_document(current_user, application_id, form.kind.data, form.file.data.filename or "", form.file.data.read())
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Document attached."), "success")
    return redirect(target)


@bp.route("/certification/documents/<int:document_id>")
@allow(SIGNED_IN)
def document(document_id: int):
    item = get_document(current_user, document_id)
    return send_file(
        uploads.upload_dir("certification") / item.stored_name,
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.original_name,
    )


@bp.route("/certification/<int:application_id>/transitions", methods=["POST"])
@allow(SIGNED_IN)
def transition(application_id: int):
    form = TransitionForm()
    target = url_for("certification.application", application_id=application_id)
    if not form.validate_on_submit():
        return redirect_after_refusal(DomainError(_("The form expired: please try again.")), target)
    try:
        apply_transition(
            current_user, application_id, form.action.data, form.comment.data or "", objection_id=form.objection_id.data
        )
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Done."), "success")
    return redirect(target)


@bp.route("/certification/<int:application_id>/objections", methods=["POST"])
@allow(SIGNED_IN)
def object_to(application_id: int):
    form = ObjectionForm()
    target = url_for("certification.application", application_id=application_id)
    if not form.validate_on_submit():
        return redirect_after_refusal(DomainError(_("Say what your objection is.")), target)
    try:
        apply_transition(current_user, application_id, Action.OBJECT, form.reason.data)
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Your objection was recorded; the province reviewers will decide on it."), "success")
    return redirect(target)


@bp.route("/certification/queue")
@allow(REVIEWERS)
def queue():
    return render_template("certification/queue.html", items=review_queue(current_user))


@bp.route("/certification/certificates")
@allow(COOPERATIVE_STAFF)
def certificates():
    cooperative_ids = sorted(current_user.cooperative_ids())
    items = [c for cooperative_id in cooperative_ids for c in certificates_of(cooperative_id)]
    return render_template("certification/certificates.html", certificates=items)


@bp.route("/certification/calendar", methods=["GET", "POST"])
@allow(OPERATORS)
def calendar():
    year = request.args.get("year", type=int) or business_date().year
    form = CalendarDayForm()
    if form.validate_on_submit():
        try:
            set_calendar_day(current_user, form.day.data, form.kind.data or None, form.name.data or "")
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Calendar saved."), "success")
            return redirect(url_for("certification.calendar", year=form.day.data.year))
    return render_form("certification/calendar.html", form, year=year, days=calendar_days(year), tick_form=EmptyForm())


@bp.route("/certification/tick", methods=["POST"])
@allow(OPERATORS)
def tick():
    if EmptyForm().validate_on_submit():
        result = jobs.tick()
        flash(_("Certified: %(c)d; expired: %(e)d.", c=len(result.certified), e=len(result.expired)), "success")
    return redirect(url_for("certification.calendar"))
