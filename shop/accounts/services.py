"""Use cases of accounts: registration, sign-in, API tokens, roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from shop.accounts.models import ApiToken, RoleGrantEvent, User, UserRole, new_session_token
from shop.accounts.roles import ROLE_SCOPE, Role
from shop.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from shop.extensions import db
from shop.types import utcnow

MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "fps_"  # noqa: S105  (a visible prefix, not a secret)
# Writing last_used_at on every API call would turn reads into writes; once an hour is enough to tell
# a forgotten token from a live one.
TOKEN_TOUCH_INTERVAL = timedelta(hours=1)


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed.on("email", _("This is not a valid e-mail address.")) from error


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(email: str, password: str, display_name: str) -> User:
    email = normalize_email(email)
    check_password_rules(password)
    if user_by_email(email) is not None:
        raise Conflict(_("An account with this e-mail already exists."), fields={"email": [_("Already registered.")]})
    user = User(email=email, password_hash=hash_password(password), display_name=display_name.strip())
    db.session.add(user)
    db.session.flush()
    return user


def register_consumer(email: str, password: str, display_name: str) -> User:
    """Self-registration: a new account that holds the consumer role."""
    user = create_user(email, password, display_name)
    grant_role(actor=None, user=user, role=Role.CONSUMER, reason="self-registration")
    return user


def authenticate(email: str, password: str) -> User:
    user = user_by_email(email)
    # Hash even when the user is unknown, so timing does not tell which e-mails are registered.
    stored = user.password_hash if user else hash_password("unknown-user")
    if not check_password_hash(stored, password) or user is None or not user.active:
        raise Unauthenticated(_("Wrong e-mail or password."))
    return user


def end_all_sessions(user: User) -> None:
    """Sign the user out of every browser: session and "remember me" cookies name the user by a session token
    (User.get_id), and a new token leaves every cookie issued before it naming nobody.

    Sign-out calls it, so a copy of the cookie kept from before is worthless; a password change must call it
    too, then sign its own session in again with login_user(user) if it should stay. API tokens are separate
    credentials with their own revocation and are not touched.
    """
    user.session_token = new_session_token()
    db.session.flush()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal API token; the plaintext is returned once and never stored."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip() or "API", digest=_digest(plaintext), prefix=plaintext[:10])
    db.session.add(token)
    db.session.flush()
    return token, plaintext


def user_for_token(plaintext: str) -> User | None:
    # One statement for the token, its user and the user's roles (the access rule reads them next): this runs
    # before every API request.
    token = (
        db.session.scalars(
            select(ApiToken)
            .join(ApiToken.user)
            .options(contains_eager(ApiToken.user).joinedload(User.roles))
            .where(ApiToken.digest == _digest(plaintext), ApiToken.revoked_at.is_(None))
        )
        .unique()
        .one_or_none()
    )
    if token is None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token.user


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


SCOPE_FIELD = {
    "cooperative": "cooperative_id",
    "organization": "organization_id",
    "county": "region_code",
    "province": "region_code",
}


def _scope_exists(scope: str, key: int) -> bool:
    """Whether the cooperative or organization a grant names exists. Accounts are a foundation and import
    no area: the area that owns the scope registers its check (`app.extensions["accounts"]["grant_scopes"]`); a
    scope nobody checks is refused."""
    check = current_app.extensions.get("accounts", {}).get("grant_scopes", {}).get(scope)
    return bool(check and check(key))


def _scope_for(role: Role, cooperative_id: int | None, region_code: str | None, organization_id: int | None):
    """Check that a grant names exactly the scope its role needs; return the scope key."""
    from shop.regions.services import require_region

    scope = ROLE_SCOPE[role]
    wanted = SCOPE_FIELD.get(scope)
    given = {"cooperative_id": cooperative_id, "organization_id": organization_id, "region_code": region_code or None}
    for field, value in given.items():
        if value is not None and field != wanted:
            raise ValidationFailed.on(field, _("The role %(role)s takes no %(field)s.", role=role.value, field=field))
    if wanted is not None and given[wanted] is None:
        raise ValidationFailed.on(wanted, _("The role %(role)s needs a %(field)s.", role=role.value, field=wanted))
    if scope == "cooperative":
        if not _scope_exists("cooperative", cooperative_id):
            raise ValidationFailed.on("cooperative_id", _("No such cooperative."))
        return f"coop:{cooperative_id}"
    if scope in ("county", "province"):
        return f"region:{require_region(region_code, level=scope, field='region_code')}"
    if scope == "organization":
        if not _scope_exists("organization", organization_id):
            raise ValidationFailed.on("organization_id", _("No such organization."))
        return f"org:{organization_id}"
    return ""


def grant_role(
    actor: User | None,
    user: User,
    role: Role,
    *,
    cooperative_id: int | None = None,
    region_code: str | None = None,
    organization_id: int | None = None,
    reason: str = "",
) -> UserRole:
    """Give a user a role (idempotent for the same scope) and record the grant."""
    scope_key = _scope_for(role, cooperative_id, region_code, organization_id)
    if scope_key.startswith("region:"):
        region_code = scope_key.removeprefix("region:")  # normalized, e.g. "13" → "130000"
    existing = next((r for r in user.roles if r.role == role and r.scope_key == scope_key), None)
    if existing is not None:
        return existing
    user_role = UserRole(
        role=role.value,
        cooperative_id=cooperative_id,
        region_code=region_code or None,
        organization_id=organization_id,
        scope_key=scope_key,
        granted_by_id=actor.id if actor else None,
    )
    user.roles.append(user_role)
    db.session.add(
        RoleGrantEvent(
            user=user,
            role=role.value,
            scope_key=scope_key,
            action="grant",
            actor_id=actor.id if actor else None,
            reason=reason,
        )
    )
    db.session.flush()
    return user_role


def revoke_role(actor: User, user: User, user_role_id: int, reason: str = "") -> None:
    user_role = db.session.get(UserRole, user_role_id)
    if user_role is None or user_role.user_id != user.id:
        raise NotFound(_("No such role grant."))
    if user_role.user_id == actor.id and user_role.role == Role.OPERATOR:
        raise Conflict(_("Operators cannot revoke their own operator role."))
    db.session.add(
        RoleGrantEvent(
            user=user,
            role=user_role.role,
            scope_key=user_role.scope_key,
            action="revoke",
            actor_id=actor.id,
            reason=reason,
        )
    )
    user.roles.remove(user_role)
    db.session.flush()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def list_users(search: str = "", limit: int = 200) -> list[User]:
    query = select(User).order_by(User.id).limit(limit)
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(User.email.like(like) | User.display_name.like(like))
    return list(db.session.scalars(query))


def grant_events(user: User) -> list[RoleGrantEvent]:
    return list(
        db.session.scalars(select(RoleGrantEvent).where(RoleGrantEvent.user_id == user.id).order_by(RoleGrantEvent.id))
    )
