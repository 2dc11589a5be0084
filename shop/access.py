"""Access rules: every page and API route declares who may use it, in one visible place.

A view is decorated with `@allow(...)`; a before-request hook enforces the rule of the endpoint being
called, and refuses any endpoint that declares none (default deny). The route × role test walks the URL map
with `rule_for`, so a new route without a rule fails CI.

Rules say *which roles* may call a route. *Which objects* a user may touch (their own cooperative, their
county) is decided by the services, which raise NotAllowed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.roles import Role
from shop.api_errors import error_response, is_api_request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessRule:
    kind: str  # "public", "signed_in" or "roles"
    roles: frozenset[Role] = frozenset()

    def admits(self, user) -> bool:
        if self.kind == "public":
            return True
        if not user.is_authenticated:
            return False
        return self.kind == "signed_in" or bool(self.roles & user.role_set)

    def __str__(self) -> str:
        return self.kind if self.kind != "roles" else "roles:" + ",".join(sorted(self.roles))


PUBLIC = AccessRule("public")
SIGNED_IN = AccessRule("signed_in")


def roles(*allowed: Role) -> AccessRule:
    return AccessRule("roles", frozenset(allowed))


# The role groups of the shop's routes, named by who is in them; defined here once, imported by every view and API.
BUYERS = roles(Role.CONSUMER)
BUYERS_AND_OPERATORS = roles(Role.CONSUMER, Role.OPERATOR)
OPERATORS = roles(Role.OPERATOR)
COOPERATIVE_STAFF = roles(Role.COOPERATIVE_STAFF)
COOPERATIVE_STAFF_AND_OPERATORS = roles(Role.COOPERATIVE_STAFF, Role.OPERATOR)
COUNTY_REVIEWERS_AND_OPERATORS = roles(Role.COUNTY_REVIEWER, Role.OPERATOR)
REVIEWERS = roles(Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER)
REVIEWERS_AND_OPERATORS = roles(Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER, Role.OPERATOR)
LINK_PARTIES = roles(Role.COOPERATIVE_STAFF, Role.COUNTY_REVIEWER, Role.OPERATOR)
HOUSEHOLD_VIEWERS = roles(Role.COUNTY_REVIEWER, Role.PROVINCE_REVIEWER, Role.COOPERATIVE_STAFF, Role.OPERATOR)
# Buyer organizations (which organization a member may act for is the services' question).
ORGANIZATION_ADMINS = roles(Role.ORG_ADMIN)
ORGANIZATION_ADMINS_AND_OPERATORS = roles(Role.ORG_ADMIN, Role.OPERATOR)
ORGANIZATION_MEMBERS = roles(Role.ORG_ADMIN, Role.ORG_PURCHASER, Role.ORG_APPROVER)
ORGANIZATION_MEMBERS_AND_OPERATORS = roles(Role.ORG_ADMIN, Role.ORG_PURCHASER, Role.ORG_APPROVER, Role.OPERATOR)
PURCHASERS = roles(Role.ORG_PURCHASER)
APPROVERS = roles(Role.ORG_APPROVER)
PURCHASERS_AND_APPROVERS = roles(Role.ORG_PURCHASER, Role.ORG_APPROVER)


def allow(rule: AccessRule) -> Callable:
    """Declare who may call this view (function, or method of a MethodView)."""

    def mark(view: Callable) -> Callable:
        view.__access_rule__ = rule
        return view

    return mark


# Endpoints that Flask and flask-smorest register themselves.
BUILTIN_RULES: dict[str, AccessRule] = {
    "static": PUBLIC,
    "api-docs.openapi_json": PUBLIC,
    "api-docs.openapi_swagger_ui": PUBLIC,
}


def rule_for(app: Flask, endpoint: str, method: str) -> AccessRule | None:
    if endpoint in BUILTIN_RULES:
        return BUILTIN_RULES[endpoint]
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        name = "get" if method == "HEAD" else method.lower()
        handler = getattr(view_class, name, None)
        return getattr(handler, "__access_rule__", None) or getattr(view_class, "__access_rule__", None)
    return getattr(view, "__access_rule__", None)


def enforce_access_rule():
    """before_request hook: answer 401/403 (or send to the sign-in page) when the rule does not admit."""
    if request.endpoint is None or request.method == "OPTIONS":
        return None  # 404 / 405 / automatic OPTIONS: nothing is exposed.
    rule = rule_for(current_app, request.endpoint, request.method)
    if rule is None:
        log.error("endpoint %s declares no access rule; refused", request.endpoint)
        return error_response(403, "forbidden", _("This route declares no access rule."))
    if rule.admits(current_user):
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            return error_response(401, "unauthenticated", _("A valid API token is required (Authorization: Bearer …)."))
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return error_response(403, "forbidden", _("Your roles do not allow this."))
