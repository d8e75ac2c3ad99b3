"""The staff sidebar: one list of (label, endpoint, permission), filtered by the user's role."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
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
    """The entries the user may open; the one whose URL is the longest prefix of this page is current."""
    items = [{"label": n.label, "url": url_for(n.endpoint)} for n in NAV if has_permission(current_user, n.permission)]
    matches = [i for i in items if i["url"] != "/" and request.path.startswith(i["url"])]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["current"] = True
    return items
