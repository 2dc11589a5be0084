from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from shop.access import OPERATORS, PUBLIC, SIGNED_IN, allow
from shop.accounts import services
from shop.accounts.forms import ROLE_LABELS, EmptyForm, LoginForm, RegisterForm, RoleGrantForm, TokenForm
from shop.accounts.roles import Role
from shop.errors import DomainError
from shop.extensions import limiter
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error
from shop.web.views import safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("20 per hour", methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_consumer(form.email.data, form.password.data, form.display_name.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            login_user(user)
            flash(_("Welcome, %(name)s!", name=user.display_name), "success")
            return redirect(url_for("catalog.home"))
    return render_form("accounts/register.html", form)


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("30 per 10 minutes", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            form.form_errors.append(error.message)
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("catalog.home")))
    return render_form("accounts/login.html", form)


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    if EmptyForm().validate_on_submit():
        # Forgetting the user in this cookie is not enough: a copy of it saved earlier would still be signed in.
        services.end_all_sessions(current_user)
        logout_user()
    return redirect(url_for("catalog.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@allow(SIGNED_IN)
def tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = services.issue_token(current_user, form.name.data)
        form = TokenForm(formdata=None)
    return render_template(
        "accounts/tokens.html",
        form=form,
        tokens=services.tokens_of(current_user),
        new_token=new_token,
        revoke_form=EmptyForm(),
    ), (422 if form.errors else 200)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(SIGNED_IN)
def revoke_token(token_id: int):
    if EmptyForm().validate_on_submit():
        services.revoke_token(current_user, token_id)
        flash(_("The token was revoked."), "success")
    return redirect(url_for("accounts.tokens"))


@bp.route("/ops/users")
@allow(OPERATORS)
def ops_users():
    search = request.args.get("q", "")[:100]
    return render_template(
        "accounts/ops_users.html", users=services.list_users(search), q=search, role_labels=ROLE_LABELS
    )


@bp.route("/ops/users/<int:user_id>", methods=["GET", "POST"])
@allow(OPERATORS)
def ops_user(user_id: int):
    user = services.get_user(user_id)
    form = RoleGrantForm()
    if form.validate_on_submit():
        try:
            services.grant_role(
                current_user,
                user,
                Role(form.role.data),
                cooperative_id=form.cooperative_id.data,
                region_code=form.region_code.data or None,
                organization_id=form.organization_id.data,
                reason=form.reason.data or "",
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Role granted."), "success")
            return redirect(url_for("accounts.ops_user", user_id=user.id))
    return render_form(
        "accounts/ops_user.html",
        form,
        user=user,
        events=services.grant_events(user),
        revoke_form=EmptyForm(),
        role_labels=ROLE_LABELS,
    )


@bp.route("/ops/users/<int:user_id>/roles/<int:role_id>/revoke", methods=["POST"])
@allow(OPERATORS)
def ops_revoke_role(user_id: int, role_id: int):
    if EmptyForm().validate_on_submit():
        try:
            services.revoke_role(current_user, services.get_user(user_id), role_id, request.form.get("reason", ""))
        except DomainError as error:
            return redirect_after_refusal(error, url_for("accounts.ops_user", user_id=user_id))
        flash(_("Role revoked."), "success")
    return redirect(url_for("accounts.ops_user", user_id=user_id))
