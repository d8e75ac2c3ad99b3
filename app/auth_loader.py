"""Flask-Login user loader for the two kinds of user (staff and members).

Session ids are ``"<kind>:<id>"``. Each kind has its loader in ``LOADERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_login import current_user

from app.extensions import db
from app.models.users import StaffUser


def _load_staff(pk: int) -> StaffUser | None:
    user = db.session.get(StaffUser, pk)
    return user if user is not None and user.active else None


def _load_member(pk: int) -> Any:
    from app.models.members import MemberLogin

    login = db.session.get(MemberLogin, pk)
    return login if login is not None and login.active else None


LOADERS: dict[str, Callable[[int], Any]] = {"staff": _load_staff, "member": _load_member}


def load_user(user_id: str) -> Any:
    kind, _, raw = (user_id or "").partition(":")
    loader = LOADERS.get(kind)
    if loader is None or not raw.isdigit():
        return None
    return loader(int(raw))


def current_staff() -> StaffUser:
    """The signed-in staff user as the model row (services want the row, not Flask-Login's proxy)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]
