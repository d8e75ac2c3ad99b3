"""Staff dashboard, user administration and the audit log screen."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.blueprints.staff import bp
from app.blueprints.staff.forms import UserForm
from app.extensions import db
from app.models.audit import AuditLog
from app.models.users import StaffUser
from app.pagination import paginate
from app.permissions import permission_required
from app.services import reports
from app.services.access import staff_auth
from app.services.common import DomainError, uow
from app.templating import audit_fields, ist, ist_day_start
from app.web import apply_domain_error, render, toast


@bp.get("/")
@permission_required("dashboard.view")
def dashboard():
    """The signed-in user's role dashboard: figures for the business date and small charts."""
    return render("staff/dashboard.html", board=reports.dashboards.for_user(current_user._get_current_object()))


@bp.get("/staff/users")
@permission_required("users.view")
def users():
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
    return render("staff/users.html", users=rows)


@bp.route("/staff/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = staff_auth.create_user(
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                full_name=form.full_name.data,
                email=form.email.data or None,
            )
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            return render("staff/user_form.html", form=form, status=422)
        uow.commit()
        flash(f"User {user.username} created as {user.role}.", "success")
        return redirect(url_for("staff.users"))
    return render("staff/user_form.html", form=form)


def _user_action(user_id: int, action: str):
    user = staff_auth.get_user(user_id)
    if action == "deactivate":
        staff_auth.set_active(user, False, by=current_user)
        message = f"{user.username} deactivated."
    elif action == "activate":
        staff_auth.set_active(user, True, by=current_user)
        message = f"{user.username} activated."
    else:
        staff_auth.reset_totp(user)
        message = f"Two-factor authentication reset for {user.username}; they enrol again at next sign-in."
    uow.commit()
    response = render(
        "staff/users.html",
        "staff/_user_row.html",
        user=user,
        users=db.session.scalars(select(StaffUser).order_by(StaffUser.username)).all(),
    )
    if request.headers.get("HX-Request"):
        return toast(response, message)
    flash(message, "success")
    return redirect(url_for("staff.users"))


@bp.post("/staff/users/<int:user_id>/deactivate")
@permission_required("users.manage")
def user_deactivate(user_id: int):
    return _user_action(user_id, "deactivate")


@bp.post("/staff/users/<int:user_id>/activate")
@permission_required("users.manage")
def user_activate(user_id: int):
    return _user_action(user_id, "activate")


@bp.post("/staff/users/<int:user_id>/reset-totp")
@permission_required("users.manage")
def user_reset_totp(user_id: int):
    return _user_action(user_id, "reset-totp")


def _parse_date(raw: str | None, label: str, errors: list[str]) -> date | None:
    """A filter date, or None (with a message in ``errors`` when it was given but is not a date)."""
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(f"{label} date must be a date like 2026-04-01; that filter was not applied.")
        return None


AUDIT_CSV_LIMIT = 50_000


def _cell(value: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _audit_csv(rows) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["#", "When (IST)", "User", "Role", "Action", "Entity", "Entity id", "Before", "After", "IP"])
    for row in rows:
        fields = audit_fields(row.before, row.after)
        before = "; ".join(f"{label}: {was}" for label, was, _ in fields if row.before)
        after = "; ".join(f"{label}: {now}" for label, _, now in fields if row.after)
        cells = [row.occurred_at and ist(row.occurred_at, "%d-%m-%Y %H:%M:%S"), row.actor_name or row.actor_type]
        cells += [row.actor_role, row.action, row.entity_type, row.entity_id, before, after, row.ip]
        writer.writerow([row.id, *(_cell(str(c or "")) for c in cells)])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


@bp.get("/staff/audit")
@permission_required("audit.view")
def audit_log():
    """The audit log with filters (user, action, entity, dates); ``format=csv`` exports the match."""
    args = request.args
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if args.get("actor"):
        stmt = stmt.where(AuditLog.actor_name.ilike(f"%{args['actor'].strip()}%"))
    if args.get("entity_type"):
        stmt = stmt.where(AuditLog.entity_type == args["entity_type"].strip())
    if args.get("entity_id"):
        stmt = stmt.where(AuditLog.entity_id == args["entity_id"].strip())
    if args.get("action"):
        stmt = stmt.where(AuditLog.action.ilike(f"{args['action'].strip()}%"))
    errors: list[str] = []
    start, end = _parse_date(args.get("from"), "From", errors), _parse_date(args.get("to"), "To", errors)
    if start and end and start > end:
        errors.append("The From date is after the To date, so nothing can match.")
    if start:
        stmt = stmt.where(AuditLog.occurred_at >= ist_day_start(start))
    if end:
        stmt = stmt.where(AuditLog.occurred_at < ist_day_start(end + timedelta(days=1)))
    if args.get("format") == "csv":
        response = Response("".join(_audit_csv(db.session.scalars(stmt.limit(AUDIT_CSV_LIMIT)))), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render("staff/audit.html", "staff/_audit_rows.html", page=page, args=args, errors=errors)
