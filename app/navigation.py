"""The staff sidebar: one list of (label, endpoint, permission), filtered by the user's role."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user

from app.permissions import has_permission


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: str


NAV: list[NavItem] = [
    NavItem("General ledger", "ledger.index", "ledger.view"),
    NavItem("Loans", "loans.index", "loans.view"),
    NavItem("Staff users", "staff.users", "users.view"),
    NavItem("Audit log", "staff.audit_log", "audit.view"),
]


def add(item: NavItem, before: str | None = None) -> None:
    """Add a sidebar entry (a blueprint calls this when it registers)."""
    if any(n.endpoint == item.endpoint for n in NAV):
        return
    index = next((i for i, n in enumerate(NAV) if n.endpoint == before), len(NAV))
    NAV.insert(index, item)


def staff_nav() -> list[dict]:
    return [{"label": n.label, "url": url_for(n.endpoint)} for n in NAV if has_permission(current_user, n.permission)]
