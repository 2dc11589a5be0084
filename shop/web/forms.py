"""Helpers shared by every page with a form."""

from __future__ import annotations

from flask import flash, g, redirect, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from shop.errors import DomainError
from shop.money import parse_yuan


def yuan_amount(form, field):
    """A field validator: an amount written in yuan (12.50), which the form turns into fen."""
    if parse_yuan(field.data) is None:
        raise ValidationError(_l("Write the price in yuan, e.g. 12.50."))


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it names (or above the form)."""
    placed = False
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), *messages]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def render_form(template: str, form: FlaskForm, **context):
    """A form page: 200 when first shown, 422 when a submission was refused (so nothing is committed)."""
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


def redirect_after_refusal(error: DomainError, target: str):
    """Flash a refusal and go back; the use case's partial work is rolled back, not committed."""
    g.use_case_failed = True
    flash(error.message, "error")
    return redirect(target)
