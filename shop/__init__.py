"""Fupin Shop: the application factory."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, request, session
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from shop.config import load_config
from shop.extensions import api, babel, csrf, db, limiter, login_manager, migrate
from shop.web.inputs import RowIdConverter, refuse_unstorable_input
from shop.web.sessions import PagesOnlySessionInterface

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    instance_path = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance")).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(load_config(instance_path))
    if config:
        app.config.update(config)

    app.json.ensure_ascii = False  # Chinese stays readable in API answers
    app.session_interface = PagesOnlySessionInterface()
    _init_extensions(app)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added: every <int:…> is a row id
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    _register_template_helpers(app)
    _connect_signals(app)
    return app


def _connect_signals(app: Flask) -> None:
    """Areas that listen to another area's announcements subscribe here, once, so the announcing area imports
    none of them (orders listens to payments, settlement to orders). Connecting again (a second app) changes
    nothing."""
    from shop.orders import paying
    from shop.orders.refunds import connect_signals as connect_refund_signals
    from shop.settlement.services import connect_signals as connect_settlement_signals

    paying.connect(app)
    connect_refund_signals()
    connect_settlement_signals()


def _select_locale() -> str:
    locales = ["zh", "en"]
    if not has_request_context():
        return "en"  # CLI output and logs
    chosen = session.get("locale")
    if chosen in locales:
        return chosen
    return request.accept_languages.best_match(locales) or "zh"


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=_select_locale, default_translation_directories=str(ROOT / "shop" / "translations")
    )
    from shop.catalog.api import answer_anonymous_listing_early

    app.before_request(answer_anonymous_listing_early)  # before the limiter's own hook: see its docstring
    limiter.init_app(app)
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "Fupin Shop JSON API. Authenticate with a personal token: "
                "`Authorization: Bearer <token>` (POST /api/v1/auth/tokens)."
            }
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})

    from shop.accounts.models import User

    @login_manager.user_loader
    def load_user(session_token: str):
        """The user a cookie names by its session token (User.get_id); a token replaced since names nobody."""
        user = db.session.scalar(select(User).where(User.session_token == session_token))
        return user if user is not None and user.active else None


def _register_blueprints(app: Flask) -> None:
    import shop.models  # noqa: F401  (complete metadata before anything asks for it)
    from certification import api as certification_api
    from certification import views as certification_views
    from shop.accounts import api as accounts_api
    from shop.accounts import views as accounts_views
    from shop.cart import views as cart_views
    from shop.catalog import api as catalog_api
    from shop.catalog import views as catalog_views
    from shop.cooperatives import api as cooperatives_api
    from shop.cooperatives import views as cooperatives_views
    from shop.households import api as households_api
    from shop.households import views as households_views
    from shop.orders import api as orders_api
    from shop.orders import views as orders_views
    from shop.organizations import views as organizations_views
    from shop.payments import api as payments_api
    from shop.payouts import api as payouts_api
    from shop.payouts import views as payouts_views
    from shop.regions import api as regions_api
    from shop.settlement import api as settlement_api
    from shop.settlement import views as settlement_views
    from shop.web import views as web_views

    for blueprint in (
        accounts_api.blp,
        catalog_api.blp,
        cooperatives_api.blp,
        regions_api.blp,
        certification_api.blp,
        certification_api.certificates_blp,
        orders_api.blp,
        payments_api.blp,
        households_api.blp,
        settlement_api.blp,
        payouts_api.blp,
    ):
        api.register_blueprint(blueprint)
    for blueprint in (web_views.bp, accounts_views.bp, catalog_views.bp, cooperatives_views.bp, certification_views.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(cart_views.bp)
    app.register_blueprint(orders_views.bp)
    app.register_blueprint(settlement_views.bp)
    app.register_blueprint(payouts_views.bp)
    app.register_blueprint(households_views.bp)
    app.register_blueprint(organizations_views.bp)


def _register_hooks(app: Flask) -> None:
    from shop.access import enforce_access_rule
    from shop.accounts.services import user_for_token
    from shop.api_errors import error_response

    @app.before_request
    def authenticate_api_request():
        """Under /api/ only a bearer token counts: the session cookie is ignored, so no CSRF is possible."""
        if not request.path.startswith("/api/"):
            return None
        header = request.headers.get("Authorization", "")
        if not header:
            g._login_user = AnonymousUserMixin()
            return None
        scheme, _space, token = header.partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            return error_response(401, "unauthenticated", _("The API token is missing, malformed, revoked or unknown."))
        g._login_user = user
        return None

    app.before_request(enforce_access_rule)

    @app.before_request
    def check_csrf_token():
        """Forms carry a CSRF token. Checked after the access rule, so an anonymous POST gets 401, not 400.

        The API is exempt: it authenticates by bearer token only, never by cookie.
        """
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not request.path.startswith("/api/"):
            csrf.protect()

    app.before_request(refuse_unstorable_input)  # after the access and CSRF checks, before any view reads input

    @app.after_request
    def finish_transaction(response):
        """One use case, one transaction: the request commits once, and only when it succeeded."""
        if not db.session.registry.has():
            return response  # the request never used the database session (e.g. a cached answer)
        if response.status_code < 400 and not g.get("use_case_failed"):
            db.session.commit()
            if g.get("outbox_has_mail"):
                from shop.notifications.outbox import send_pending

                send_pending()  # after the commit; a failure leaves the mail in the outbox, never undoes the order
        else:
            db.session.rollback()
        return response

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request.endpoint))
        return response


def content_security_policy(endpoint: str | None) -> str:
    """The policy, built from config: our own origin, plus exactly the Stripe.js origin (script, connect, frame).

    Swagger UI's page (from flask-smorest) carries an inline script; no page of ours has one.
    """
    from shop.payments.gateway import stripe_js_url

    return _policy_for(stripe_js_url(), endpoint == "api-docs.openapi_swagger_ui")


@functools.lru_cache(maxsize=16)
def _policy_for(stripe_js_url: str, inline_scripts: bool) -> str:
    parts = urlsplit(stripe_js_url)
    stripe_origin = f"{parts.scheme}://{parts.netloc}"
    script_src = "'self' 'unsafe-inline'" if inline_scripts else f"'self' {stripe_origin}"
    return (
        f"default-src 'self'; script-src {script_src}; connect-src 'self' {stripe_origin}; "
        f"frame-src {stripe_origin}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )


def _register_cli(app: Flask) -> None:
    from certification.cli import certification_cli
    from shop.demo.cli import seed_demo
    from shop.orders.cli import orders_cli
    from shop.payments.cli import notifications_cli, payments_cli
    from shop.settlement.cli import ledger_cli, settle_command

    app.cli.add_command(seed_demo)
    app.cli.add_command(certification_cli)
    app.cli.add_command(orders_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(settle_command)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from certification.labels import ACTION_LABELS, EVIDENCE_LABELS, LINKAGE_LABELS, STATE_LABELS
    from shop.accounts.forms import ROLE_LABELS
    from shop.catalog.forms import CATEGORY_LABELS
    from shop.money import format_fen
    from shop.references import order_reference
    from shop.regions.services import region_full_name

    app.jinja_env.filters["fen"] = format_fen
    app.jinja_env.filters["order_reference"] = order_reference
    app.jinja_env.filters["region"] = region_full_name
    app.jinja_env.globals["category_labels"] = CATEGORY_LABELS
    app.jinja_env.globals["state_labels"] = STATE_LABELS
    app.jinja_env.globals["action_labels"] = ACTION_LABELS
    app.jinja_env.globals["linkage_labels"] = LINKAGE_LABELS
    app.jinja_env.globals["evidence_labels"] = EVIDENCE_LABELS
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
