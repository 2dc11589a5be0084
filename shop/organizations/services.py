"""Use cases of buyer organizations: who they are, their people, their years."""

from __future__ import annotations

from sqlalchemy import select

from shop.extensions import db
from shop.organizations.models import Organization


def organization_exists(organization_id: int) -> bool:
    """Whether a role grant may name this organization (it exists and is active)."""
    return bool(
        db.session.scalar(
            select(Organization.id).where(Organization.id == organization_id, Organization.active.is_(True))
        )
    )
