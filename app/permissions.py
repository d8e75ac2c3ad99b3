"""Permissions as data: one table of permission → roles, and the decorators every route uses.

Every view function carries a ``_permission`` attribute: a permission name from
``PERMISSIONS``, ``PUBLIC`` for pages anyone may open, ``MEMBER`` for the member portal,
or ``AUTHENTICATED`` for pages any signed-in staff user may open (their own password, 2FA).
A test walks ``app.url_map`` and fails for any route without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.models.users import ROLES

PUBLIC = "public"
MEMBER = "member"
AUTHENTICATED = "authenticated"

ALL_STAFF = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    # Foundation
    "dashboard.view": ALL_STAFF,
    "users.view": frozenset({"admin", "auditor"}),
    "users.manage": frozenset({"admin"}),
    "audit.view": frozenset({"admin", "auditor", "manager"}),
    "approvals.view": ALL_STAFF,
    "approvals.decide": frozenset({"admin", "manager"}),
    # Ledger
    "ledger.view": frozenset({"admin", "manager", "accountant", "auditor"}),
    "ledger.post_voucher": frozenset({"accountant", "manager"}),
    "ledger.approve": frozenset({"manager", "admin"}),
    "ledger.coa_manage": frozenset({"admin", "accountant"}),
    "ledger.backdate": frozenset({"manager", "admin"}),
    "ledger.reverse": frozenset({"accountant", "manager"}),
    "day.manage": frozenset({"manager", "admin"}),
    "jobs.manage": frozenset({"admin"}),  # the failed-job registry: see and retry
    "reports.view": frozenset({"admin", "manager", "accountant", "auditor"}),
    "yearend.prepare": frozenset({"accountant", "manager"}),
    "yearend.approve": frozenset({"manager", "admin"}),
    # Members
    "members.view": frozenset({"admin", "manager", "accountant", "clerk", "cashier", "auditor"}),
    "members.manage": frozenset({"clerk", "manager"}),
    "kyc.review": frozenset({"manager"}),
    "kyc.documents.view": frozenset({"manager", "clerk", "auditor"}),
    "shares.manage": frozenset({"clerk", "cashier", "manager"}),
    "shares.approve": frozenset({"manager"}),
    # Deposits and the counter
    "accounts.view": frozenset({"admin", "manager", "accountant", "clerk", "cashier", "auditor"}),
    "accounts.open": frozenset({"clerk", "cashier", "manager"}),  # cashiers take the cash of a new deposit
    "accounts.manage": frozenset({"manager"}),
    "accounts.approve": frozenset({"manager"}),
    "products.manage": frozenset({"admin", "manager"}),
    "products.approve": frozenset({"admin", "manager"}),
    "teller.operate": frozenset({"cashier"}),
    "teller.approve": frozenset({"manager"}),
    "transfers.create": frozenset({"clerk", "cashier", "manager"}),
    # Loans
    "loans.view": frozenset({"admin", "manager", "accountant", "clerk", "auditor"}),
    "loans.manage": frozenset({"clerk", "manager"}),
    "loans.approve": frozenset({"manager", "admin"}),  # sanction within the role's limit for the product
    "loans.disburse": frozenset({"clerk", "cashier", "manager"}),
    "loans.repay": frozenset({"clerk", "cashier", "manager"}),
    "loans.gold_rate": frozenset({"manager", "clerk"}),
    "payments.view": frozenset({"admin", "manager", "accountant", "clerk", "auditor"}),
    "payments.create": frozenset({"clerk", "cashier", "manager"}),  # orders and payouts for a member
    "payments.approve": frozenset({"manager", "admin"}),  # large staff payouts (checker)
    "payments.resolve": frozenset({"manager", "accountant"}),  # mismatches, unknown events, reconciliation
}


def has_permission(user: Any, permission: str) -> bool:
    """Whether a signed-in staff user holds a permission."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "kind", None) != "staff":
        return False
    return user.role in PERMISSIONS[permission]


def _mark(view: Callable, permission: str) -> Callable:
    view._permission = permission  # type: ignore[attr-defined]
    return view


def public(view: Callable) -> Callable:
    """Declare a route open to anyone."""
    return _mark(view, PUBLIC)


def staff_login_required(view: Callable) -> Callable:
    """Any signed-in staff user (their own profile, password and 2FA pages)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or getattr(current_user, "kind", None) != "staff":
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return _mark(wrapper, AUTHENTICATED)


def permission_required(permission: str) -> Callable[[Callable], Callable]:
    """Require a signed-in staff user whose role holds ``permission`` (403 otherwise)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated or getattr(current_user, "kind", None) != "staff":
                if request.headers.get("HX-Request"):
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if current_user.role not in PERMISSIONS[permission]:
                abort(403)
            return view(*args, **kwargs)

        return _mark(wrapper, permission)

    return decorator


def member_required(view: Callable) -> Callable:
    """Require a signed-in member (the member portal)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or getattr(current_user, "kind", None) != "member":
            return redirect(url_for("portal.login", next=request.full_path))
        return view(*args, **kwargs)

    return _mark(wrapper, MEMBER)
