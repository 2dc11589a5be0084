"""Operators' pages of payout batches: make one, download the bank file, record what the bank paid."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import OPERATORS, allow
from shop.errors import DomainError
from shop.money import format_fen
from shop.payouts import services
from shop.payouts.forms import BatchForm, OutcomeForm
from shop.timeutil import business_date
from shop.web.downloads import csv_download
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error

bp = Blueprint("payouts", __name__, url_prefix="/ops/payouts")


@bp.route("/", methods=["GET", "POST"])
@allow(OPERATORS)
def batches():
    form = BatchForm()
    if not form.is_submitted():
        today = business_date()
        form.period_start.data, form.period_end.data = today.replace(day=1), today
    if form.validate_on_submit():
        try:
            batch = services.create_batch(current_user, form.period_start.data, form.period_end.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(
                _(
                    "Batch %(ref)s: %(n)d payees, %(amount)s.",
                    ref=batch.reference,
                    n=len(batch.lines),
                    amount=format_fen(batch.total_fen),
                ),
                "success",
            )
            return redirect(url_for("payouts.batch", batch_id=batch.id))
    return render_form("payouts/batches.html", form, batches=services.list_batches(current_user))


@bp.route("/<int:batch_id>")
@allow(OPERATORS)
def batch(batch_id: int):
    return render_template("payouts/batch.html", batch=services.get_batch(current_user, batch_id), form=OutcomeForm())


@bp.route("/<int:batch_id>.csv")
@allow(OPERATORS)
def batch_csv(batch_id: int):
    found = services.get_batch(current_user, batch_id)
    return csv_download(services.batch_file_rows(found), f"{found.reference}.csv")


@bp.route("/<int:batch_id>/outcomes", methods=["POST"])
@allow(OPERATORS)
def record_outcome(batch_id: int):
    form = OutcomeForm()
    target = url_for("payouts.batch", batch_id=batch_id)
    if not form.validate_on_submit():
        flash(_("Choose paid or failed."), "error")
        return redirect(target)
    try:
        if form.line_id.data:
            services.record_outcomes(
                current_user, batch_id, {int(form.line_id.data): form.outcome.data}, form.note.data or ""
            )
        else:
            services.mark_all_paid(current_user, batch_id, form.note.data or "")
    except (DomainError, ValueError) as error:
        if isinstance(error, ValueError):
            error = DomainError(_("Unknown payout line."))
        return redirect_after_refusal(error, target)
    flash(_("Recorded."), "success")
    return redirect(target)
