from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.roles import Role
from shop.extensions import db
from shop.types import UTCDateTime, sql_in, utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the session and "remember me" cookies name the user by (see get_id); replaced on sign-out.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="UserRole.id",
        foreign_keys="UserRole.user_id",
    )

    def get_id(self) -> str:
        """Flask-Login's "alternative token": cookies carry this random token instead of the user's id, so
        a new one (accounts.services.end_all_sessions) makes every cookie issued before it name nobody."""
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot sign in
        return self.active

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.roles)

    def has_role(self, role: Role) -> bool:
        return role in self.role_set

    def cooperative_ids(self) -> set[int]:
        return {r.cooperative_id for r in self.roles if r.role == Role.COOPERATIVE_STAFF and r.cooperative_id}

    def region_codes(self, role: Role) -> set[str]:
        return {r.region_code for r in self.roles if r.role == role and r.region_code}


class UserRole(db.Model):
    """A role held by a user, with the one scope the role needs (cooperative, organization or region)."""

    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_key", name="uq_user_roles_user_role_scope"),
        CheckConstraint(sql_in("role", Role), name="role_known"),
        CheckConstraint("(role = 'cooperative_staff') = (cooperative_id IS NOT NULL)", name="cooperative_scope"),
        CheckConstraint(
            "(role IN ('county_reviewer', 'province_reviewer')) = (region_code IS NOT NULL)",
            name="region_scope",
        ),
        CheckConstraint(
            "(role IN ('org_admin', 'org_purchaser', 'org_approver')) = (organization_id IS NOT NULL)",
            name="organization_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    # One string naming the scope, so the unique key works where NULLs would compare distinct.
    scope_key: Mapped[str] = mapped_column(String(40), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])


class RoleGrantEvent(db.Model):
    """Every grant and revocation of a role, kept forever: who, what, by whom, when."""

    __tablename__ = "role_grant_events"
    __table_args__ = (CheckConstraint("action IN ('grant', 'revoke')", name="action_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    scope_key: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 digest is stored, so a lookup is one indexed query."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
