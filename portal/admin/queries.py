"""Read models of the admin's people pages: everyone with an account, filtered."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import User


def people(text: str = "", status: str = "active") -> list[User]:
    """Return the accounts matching ``text`` (email or name) and ``status`` (active, inactive, else all), staff first (one query)."""
    query = select(User).options(joinedload(User.client))
    if text:
        # autoescape: "%" and "_" typed in the box are searched for, not wildcards
        query = query.where(or_(User.email.contains(text.lower(), autoescape=True), User.name.icontains(text, autoescape=True)))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "inactive":
        query = query.where(User.active.is_(False))
    return list(db.session.scalars(query.order_by(User.role, User.name, User.email)).all())
