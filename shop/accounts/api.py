"""JSON API of accounts: personal tokens, the current user, operators' role management."""

from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import OPERATORS, PUBLIC, SIGNED_IN, allow
from shop.accounts import services
from shop.accounts.schemas import (
    NewTokenSchema,
    RoleGrantSchema,
    RoleRevokeSchema,
    TokenRequestSchema,
    TokenSchema,
    UserQuerySchema,
    UserRoleSchema,
    UserSchema,
)
from shop.extensions import limiter

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Tokens, the current user, roles")
BEARER = [{"bearerAuth": []}]


@blp.route("/auth/tokens", methods=["POST"])
@allow(PUBLIC)
@limiter.limit("10 per minute")
@blp.arguments(TokenRequestSchema)
@blp.response(201, NewTokenSchema)
def create_token(payload):
    """Exchange e-mail and password for a personal API token (shown once)."""
    user = services.authenticate(payload["email"], payload["password"])
    token, plaintext = services.issue_token(user, payload["name"])
    fields = ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    return {**{name: getattr(token, name) for name in fields}, "token": plaintext}


@blp.route("/auth/tokens", methods=["GET"])
@allow(SIGNED_IN)
@blp.response(200, TokenSchema(many=True))
@blp.doc(security=BEARER)
def list_tokens():
    """The current user's tokens (without their secrets)."""
    return services.tokens_of(current_user)


@blp.route("/auth/tokens/<int:token_id>", methods=["DELETE"])
@allow(SIGNED_IN)
@blp.response(204)
@blp.doc(security=BEARER)
def revoke_token(token_id):
    """Revoke one of the current user's tokens."""
    services.revoke_token(current_user, token_id)


@blp.route("/me", methods=["GET"])
@allow(SIGNED_IN)
@blp.response(200, UserSchema)
@blp.doc(security=BEARER)
def me():
    """The user the token belongs to, with roles."""
    return current_user


@blp.route("/users", methods=["GET"])
@allow(OPERATORS)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
@blp.doc(security=BEARER)
def list_users(query):
    """Users, searchable by e-mail or name (operators)."""
    return services.list_users(query["q"])


@blp.route("/users/<int:user_id>/roles", methods=["POST"])
@allow(OPERATORS)
@blp.arguments(RoleGrantSchema)
@blp.response(201, UserRoleSchema)
@blp.doc(security=BEARER)
def grant_role(payload, user_id):
    """Grant a role with its scope (operators); recorded as a grant event."""
    user = services.get_user(user_id)
    role = payload.pop("role")
    return services.grant_role(current_user, user, role, **payload)


@blp.route("/users/<int:user_id>/roles/<int:role_id>", methods=["DELETE"])
@allow(OPERATORS)
@blp.arguments(RoleRevokeSchema, location="query")
@blp.response(204)
@blp.doc(security=BEARER)
def revoke_role(query, user_id, role_id):
    """Revoke a role (operators); recorded as a revocation event."""
    services.revoke_role(current_user, services.get_user(user_id), role_id, query["reason"])
