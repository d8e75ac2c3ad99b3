"""Staff sign-in with password and TOTP, enrolment, recovery codes, password change, logout."""

from __future__ import annotations

import segno
from flask import Response, abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import CodeForm, EnrolForm, LoginForm, PasswordChangeForm
from app.extensions import db, limiter
from app.models.users import StaffUser
from app.permissions import public, staff_login_required
from app.services.access import staff_auth
from app.services.common import Actor, AuthError, ValidationError, audit, current_actor, uow
from app.settings import setting
from app.web import apply_domain_error, render

PENDING = "pending_staff_id"
ENROL_REQUIRED = "pending_enrolment"  # set at sign-in only when TOTP enrolment is due


def _login_limit() -> str:
    return setting("RATELIMIT_LOGIN")


def _otp_limit() -> str:
    return setting("RATELIMIT_OTP")


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


def _pending_actor(user: StaffUser) -> Actor:
    """The audit actor for a user half-way through sign-in (not yet the session's user)."""
    return staff_auth.actor_for(user, current_actor().ip, current_actor().user_agent)


def _finish_login(user: StaffUser, method: str):
    session.pop(PENDING, None)
    session.pop(ENROL_REQUIRED, None)
    nxt = session.pop("login_next", None)
    staff_auth.mark_logged_in(user, method=method, actor=_pending_actor(user))
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
        session.pop(ENROL_REQUIRED, None)
        session["login_next"] = request.args.get("next")
        if result.needs_enrolment:
            session[ENROL_REQUIRED] = True
            return redirect(url_for("auth.enrol"))
        if result.needs_totp:
            return redirect(url_for("auth.totp"))
        return _finish_login(result.user, "password")
    return render("auth/login.html", form=form)


@bp.route("/totp", methods=["GET", "POST"])
@public
@limiter.limit(_otp_limit, methods=["POST"])
def totp():
    user = _pending_user()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = staff_auth.verify_second_factor(user, form.code.data, actor=_pending_actor(user))
        except AuthError as exc:
            uow.commit()
            form.code.errors = [exc.message]
            return render("auth/totp.html", form=form, status=401)
        return _finish_login(user, f"password+{method}")
    return render("auth/totp.html", form=form)


def _enrolment_user() -> tuple[StaffUser, bool] | Response:
    """Who is enrolling and whether they are signed in, or the refusal to answer with.

    A signed-in staff user may (re-)enrol; the service then asks for their current factor.
    A user half-way through sign-in may enrol only when sign-in required it (TOTP due and
    not yet set up); anyone else is sent back, so that enrolment can never stand in for
    the second factor of an account that already has one.
    """
    if current_user.is_authenticated and getattr(current_user, "kind", None) == "staff":
        return current_user, True  # type: ignore[return-value]
    user = _pending_user()
    if session.get(ENROL_REQUIRED) and staff_auth.enrolment_required(user):
        return user, False
    audit.record(
        "auth.enrol_refused",
        "staff_user",
        user.id,
        after={"reason": "totp already enabled" if user.totp_enabled else "enrolment not required"},
        actor=_pending_actor(user),
    )
    uow.commit()
    session.pop(ENROL_REQUIRED, None)
    if user.totp_enabled:
        flash(
            "Two-factor authentication is already set up for this account. Enter a code from your app or a "
            "recovery code; if you have lost both, ask an administrator to reset it.",
            "warning",
        )
        return redirect(url_for("auth.totp"))
    session.pop(PENDING, None)
    flash("Sign in again to continue.", "warning")
    return redirect(url_for("auth.login"))


@bp.route("/totp/enrol", methods=["GET", "POST"])
@public  # reached either signed in, or half-way through sign-in when enrolment is due (checked above)
@limiter.limit(_otp_limit, methods=["POST"])
def enrol():
    outcome = _enrolment_user()
    if isinstance(outcome, Response):
        return outcome
    user, signed_in = outcome
    replacing = bool(user.totp_enabled)
    secret = session.get("enrol_secret") or staff_auth.new_totp_secret()
    session["enrol_secret"] = secret
    uri = staff_auth.provisioning_uri(user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    form = EnrolForm()
    page = {"form": form, "qr": qr, "secret": secret, "uri": uri, "replacing": replacing}
    if form.validate_on_submit():
        actor = None if signed_in else _pending_actor(user)
        try:
            codes = staff_auth.enable_totp(
                user, secret, form.code.data, current_code=form.current_code.data if replacing else None, actor=actor
            )
        except AuthError as exc:  # wrong current code, or locked: keep the counter and the audit row
            uow.commit()
            form.current_code.errors = [exc.message]
            return render("auth/enrol.html", status=401, **page)
        except ValidationError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            return render("auth/enrol.html", status=422, **page)
        session.pop("enrol_secret", None)
        uow.commit()
        session["show_codes"] = codes
        if not signed_in:
            session["login_next"] = url_for("auth.recovery_codes")
            return _finish_login(user, "password+totp-enrolment")
        flash("Two-factor authentication is set up with your new authenticator app.", "success")
        return redirect(url_for("auth.recovery_codes"))
    return render("auth/enrol.html", **page)


@bp.get("/recovery-codes")
@staff_login_required
def recovery_codes():
    codes = session.pop("show_codes", None)
    return render("auth/recovery_codes.html", codes=codes, form=CodeForm(), error=None)


@bp.post("/recovery-codes")
@staff_login_required
@limiter.limit(_otp_limit)
def regenerate_codes():
    if not current_user.totp_enabled:
        flash("Turn on two-factor authentication first.", "warning")
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    try:
        codes = staff_auth.replace_recovery_codes(current_user, form.code.data or "")
    except AuthError as exc:  # wrong code or locked: keep the counter and the audit row
        uow.commit()
        return render("auth/recovery_codes.html", codes=None, form=form, error=exc.message, status=401)
    except ValidationError as exc:
        db.session.rollback()
        return render("auth/recovery_codes.html", codes=None, form=form, error=exc.message, status=422)
    uow.commit()
    session["show_codes"] = codes
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
    audit.record("auth.logout", "staff_user", current_user.id)
    uow.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))
