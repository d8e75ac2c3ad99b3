"""Staff sign-in with password and TOTP, enrolment, recovery codes, password change, logout."""

from __future__ import annotations

import segno
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import CodeForm, LoginForm, PasswordChangeForm
from app.extensions import db, limiter
from app.models.users import StaffUser
from app.permissions import public, staff_login_required
from app.services import staff_auth, uow
from app.services.context import current_actor
from app.services.errors import AuthError, ValidationError
from app.web import apply_domain_error, render

PENDING = "pending_staff_id"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _safe_next(target: str | None) -> str:
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not target.startswith(("/auth/login", "/auth/totp"))
    ):
        return target
    return url_for("staff.dashboard")


def _pending_user() -> StaffUser:
    user_id = session.get(PENDING)
    user = db.session.get(StaffUser, user_id) if user_id else None
    if user is None or not user.active:
        session.pop(PENDING, None)
        abort(401)
    return user


def _finish_login(user: StaffUser, method: str):
    session.pop(PENDING, None)
    nxt = session.pop("login_next", None)
    staff_auth.mark_logged_in(
        user, method=method, actor=staff_auth.actor_for(user, current_actor().ip, current_actor().user_agent)
    )
    uow.commit()
    codes = session.get("show_codes")
    session.clear()  # a fresh session on sign-in (no fixation)
    if codes:
        session["show_codes"] = codes
    login_user(user)
    session.permanent = False
    flash(f"Welcome, {user.full_name}.", "success")
    return redirect(_safe_next(nxt))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated and getattr(current_user, "kind", None) == "staff":
        return redirect(url_for("staff.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            result = staff_auth.authenticate(form.username.data, form.password.data)
        except AuthError as exc:
            uow.commit()  # keep the failed-attempt counter and the audit row
            form.password.errors = [exc.message]
            return render("auth/login.html", form=form, status=401)
        session[PENDING] = result.user.id
        session["login_next"] = request.args.get("next")
        if result.needs_enrolment:
            return redirect(url_for("auth.enrol"))
        if result.needs_totp:
            return redirect(url_for("auth.totp"))
        return _finish_login(result.user, "password")
    return render("auth/login.html", form=form)


@bp.route("/totp", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def totp():
    user = _pending_user()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = staff_auth.verify_second_factor(user, form.code.data)
        except AuthError as exc:
            uow.commit()
            form.code.errors = [exc.message]
            return render("auth/totp.html", form=form, status=401)
        return _finish_login(user, f"password+{method}")
    return render("auth/totp.html", form=form)


def _enrolment_user() -> StaffUser:
    if current_user.is_authenticated and getattr(current_user, "kind", None) == "staff":
        return current_user  # type: ignore[return-value]
    return _pending_user()


@bp.route("/totp/enrol", methods=["GET", "POST"])
@public  # reached either signed in, or half-way through sign-in (checked in the view)
def enrol():
    user = _enrolment_user()
    secret = session.get("enrol_secret") or staff_auth.new_totp_secret()
    session["enrol_secret"] = secret
    uri = staff_auth.provisioning_uri(user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = staff_auth.enable_totp(user, secret, form.code.data)
        except ValidationError as exc:
            apply_domain_error(form, exc)
            return render("auth/enrol.html", form=form, qr=qr, secret=secret, uri=uri, status=422)
        session.pop("enrol_secret", None)
        uow.commit()
        session["show_codes"] = codes
        if not current_user.is_authenticated:
            session["login_next"] = url_for("auth.recovery_codes")
            return _finish_login(user, "password+totp-enrolment")
        return redirect(url_for("auth.recovery_codes"))
    return render("auth/enrol.html", form=form, qr=qr, secret=secret, uri=uri)


@bp.get("/recovery-codes")
@staff_login_required
def recovery_codes():
    codes = session.pop("show_codes", None)
    return render("auth/recovery_codes.html", codes=codes)


@bp.post("/recovery-codes")
@staff_login_required
def regenerate_codes():
    if not current_user.totp_enabled:
        flash("Turn on two-factor authentication first.", "warning")
        return redirect(url_for("auth.enrol"))
    session["show_codes"] = staff_auth.regenerate_recovery_codes(current_user)
    from app.services import audit

    audit.record("auth.recovery_codes_regenerated", "staff_user", current_user.id)
    uow.commit()
    return redirect(url_for("auth.recovery_codes"))


@bp.route("/password", methods=["GET", "POST"])
@staff_login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            staff_auth.change_password(current_user, form.current_password.data, form.new_password.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            return render("auth/password.html", form=form, status=422)
        uow.commit()
        flash("Password changed.", "success")
        return redirect(url_for("staff.dashboard"))
    return render("auth/password.html", form=form)


@bp.post("/logout")
@staff_login_required
def logout():
    from app.services import audit

    audit.record("auth.logout", "staff_user", current_user.id)
    uow.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
