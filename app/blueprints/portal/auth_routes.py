"""Member sign-in: password then SMS code, activation, forgot password, devices, language, sign-out.

A step in progress (the password was right, a code is due) lives in the signed session
cookie as ``portal_flow`` — which login, which purpose, whether the code was proven, and
when it started (a flow older than ``FLOW_SECONDS`` starts again). Every POST step is
rate-limited (``RATELIMIT_PORTAL``); codes have their own attempts, expiry and resend
cool-down in ``access.member_auth``.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.blueprints.portal import bp
from app.blueprints.portal.forms import ChangePasswordForm, CodeForm, IdentifyForm, LoginForm, NewPasswordForm
from app.blueprints.portal.i18n import COOKIE, languages
from app.blueprints.portal.messages import translate
from app.extensions import db, limiter
from app.models.members import MemberLogin
from app.permissions import member_required, public
from app.services.access import member_auth
from app.services.common import DomainError, ValidationError, notifications, uow
from app.services.common import validators as v
from app.settings import setting
from app.web import apply_domain_error, render

FLOW_SECONDS = 15 * 60
SESSION_KEY = "portal_sid"
FLOW_KEY = "portal_flow"
PURPOSES = {"login": "login", "activate": "activate", "reset": "reset"}


def portal_limit() -> str:
    return str(setting("RATELIMIT_PORTAL"))


def _flow(purpose: str | None = None) -> dict[str, Any] | None:
    flow = session.get(FLOW_KEY)
    if not isinstance(flow, dict) or time.time() - float(flow.get("at", 0)) > FLOW_SECONDS:
        return None
    if purpose is not None and flow.get("purpose") != purpose:
        return None
    return flow


def _flow_login(flow: dict[str, Any] | None) -> MemberLogin | None:
    if flow is None:
        return None
    login = db.session.get(MemberLogin, int(flow.get("login_id") or 0))
    return login if login is not None and login.active else None


def _begin_flow(login: MemberLogin, purpose: str) -> None:
    session[FLOW_KEY] = {"login_id": login.id, "purpose": purpose, "at": time.time(), "proven": False}


def _fail(form, exc: DomainError) -> None:
    """Keep what the failure recorded (attempt counters, audit) and show it in the member's language."""
    uow.commit()
    exc.message = translate(exc.message)
    exc.errors = {k: [translate(m) for m in v] for k, v in (exc.errors or {}).items()}
    apply_domain_error(form, exc)


def sign_in(login: MemberLogin) -> Response:
    """Record the device, sign the member in and go to the page they asked for (or the dashboard)."""
    _row, token = member_auth.start_session(login, ip=request.remote_addr, user_agent=request.user_agent.string)
    next_url = session.get("portal_next")
    session.clear()
    login_user(login)
    session[SESSION_KEY] = token
    uow.commit()
    if not (isinstance(next_url, str) and next_url.startswith("/portal/") and not next_url.startswith("//")):
        next_url = url_for("portal.dashboard")
    return redirect(next_url)


# ---------------------------------------------------------------- every portal request


@bp.before_request
def _check_member_session() -> Response | None:
    """A member's browser must hold a live device session; otherwise it is signed out here."""
    g.portal = True
    g.pop("_login_user", None)  # load the signed-in user from this request's cookie (a reused app context keeps g)
    if not current_user.is_authenticated or getattr(current_user, "kind", None) != "member":
        return None
    row = member_auth.live_session(current_user.id, session.get(SESSION_KEY))
    if row is None:
        logout_user()
        session.clear()
        flash(_("You were signed out. Please sign in again."), "warning")
        return redirect(url_for("portal.login"))
    g.member_session = row
    if member_auth.touch_session(row):
        uow.commit()
    return None


# ---------------------------------------------------------------- sign in


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(portal_limit, methods=["POST"])
def login() -> Response:
    if getattr(current_user, "kind", None) == "member" and current_user.is_authenticated:
        return redirect(url_for("portal.dashboard"))
    form = LoginForm()
    if request.method == "GET" and request.args.get("next"):
        session["portal_next"] = request.args["next"]
    if form.validate_on_submit():
        try:
            found = member_auth.authenticate(form.mobile.data, form.password.data)
            member_auth.issue_otp(found, "login")
        except DomainError as exc:
            _fail(form, exc)
        else:
            _begin_flow(found, "login")
            uow.commit()
            notifications.dispatch()
            return redirect(url_for("portal.code", purpose="login"))
    return render(
        "portal/login.html", form=form, status=422 if form.errors or getattr(form, "form_errors", None) else 200
    )


@bp.route("/code/<purpose>", methods=["GET", "POST"])
@public
@limiter.limit(portal_limit, methods=["POST"])
def code(purpose: str) -> Response:
    """Enter the SMS code of a sign-in, an activation or a password reset."""
    if purpose not in PURPOSES:
        abort(404)
    flow = _flow(purpose)
    found = _flow_login(flow)
    if found is None:
        flash(_("Please start again."), "warning")
        return redirect(url_for("portal.login" if purpose == "login" else f"portal.{purpose}"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            if purpose == "login":
                member_auth.verify_otp(found, form.code.data)
            else:
                member_auth.check_code(found, purpose, form.code.data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            if purpose == "login":
                return sign_in(found)
            flow["proven"] = True
            session[FLOW_KEY] = flow
            uow.commit()
            return redirect(url_for("portal.set_password", purpose=purpose))
    return render(
        "portal/code.html",
        form=form,
        purpose=purpose,
        masked=v.mask_mobile(found.mobile),
        status=422 if form.errors or getattr(form, "form_errors", None) else 200,
    )


@bp.post("/code/<purpose>/resend")
@public
@limiter.limit(portal_limit)
def resend(purpose: str) -> Response:
    if purpose not in PURPOSES:
        abort(404)
    found = _flow_login(_flow(purpose))
    if found is None:
        return redirect(url_for("portal.login"))
    try:
        member_auth.resend_otp(found, purpose)
    except DomainError as exc:
        uow.commit()
        flash(translate(exc.message), "warning")
    else:
        uow.commit()
        notifications.dispatch()
        flash(_("A new code is on its way."), "success")
    return redirect(url_for("portal.code", purpose=purpose))


# ---------------------------------------------------------------- activation and forgot password


def _identify(purpose: str) -> Response:
    form = IdentifyForm()
    if form.validate_on_submit():
        try:
            if purpose == "activate":
                found = member_auth.start_activation(form.mobile.data, form.date_of_birth.data)
            else:
                found = member_auth.start_reset(form.mobile.data, form.date_of_birth.data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            uow.commit()
            notifications.dispatch()
            if found is None:  # forgot password for an unknown mobile: same answer, no code
                session[FLOW_KEY] = {"login_id": 0, "purpose": purpose, "at": time.time(), "proven": False}
                flash(_("If the details match our records, a code is on its way."), "info")
                return redirect(url_for("portal.login"))
            _begin_flow(found, purpose)
            return redirect(url_for("portal.code", purpose=purpose))
    return render(
        "portal/identify.html",
        form=form,
        purpose=purpose,
        status=422 if form.errors or getattr(form, "form_errors", None) else 200,
    )


@bp.route("/activate", methods=["GET", "POST"])
@public
@limiter.limit(portal_limit, methods=["POST"])
def activate() -> Response:
    """Activation for an admitted member: mobile + date of birth, then a code, then a password."""
    return _identify("activate")


@bp.route("/forgot", methods=["GET", "POST"])
@public
@limiter.limit(portal_limit, methods=["POST"])
def reset() -> Response:
    """Forgot password: mobile + date of birth, then a code, then a new password."""
    return _identify("reset")


@bp.route("/password/<purpose>", methods=["GET", "POST"])
@public
@limiter.limit(portal_limit, methods=["POST"])
def set_password(purpose: str) -> Response:
    if purpose not in ("activate", "reset"):
        abort(404)
    flow = _flow(purpose)
    found = _flow_login(flow)
    if found is None or not flow.get("proven"):
        flash(_("Please start again."), "warning")
        return redirect(url_for(f"portal.{purpose}"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            if form.password.data != form.confirm.data:
                raise ValidationError(_("The two passwords do not match."), field="confirm")
            if purpose == "activate":
                member_auth.finish_activation(found, form.password.data)
            else:
                member_auth.finish_reset(found, form.password.data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            flash(_("Your password is set. Welcome!"), "success")
            return sign_in(found)
    return render(
        "portal/password.html",
        form=form,
        purpose=purpose,
        minimum=int(setting("MEMBER_PASSWORD_MIN_LENGTH")),
        status=422 if form.errors or getattr(form, "form_errors", None) else 200,
    )


# ---------------------------------------------------------------- signed in: sign out, devices, password


@bp.post("/logout")
@member_required
def logout() -> Response:
    row = g.get("member_session")
    if row is not None:
        member_auth.end_session(row)
    uow.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("portal.login"))


@bp.get("/devices")
@member_required
def devices() -> Response:
    return render(
        "portal/devices.html",
        "portal/_devices.html",
        devices=member_auth.sessions(current_user),
        current_id=g.member_session.id,
        form=ChangePasswordForm(),
    )


@bp.post("/devices/sign-out-others")
@member_required
def sign_out_others() -> Response:
    ended = member_auth.revoke_sessions(current_user, reason="signed out by member", keep_id=g.member_session.id)
    uow.commit()
    flash(_("Signed out of %(n)s other device(s).", n=ended), "success")
    if request.headers.get("HX-Request") == "true":
        return render(
            "portal/devices.html",
            "portal/_devices.html",
            devices=member_auth.sessions(current_user),
            current_id=g.member_session.id,
            form=ChangePasswordForm(),
            ended=ended,
        )
    return redirect(url_for("portal.devices"))


@bp.post("/password")
@member_required
@limiter.limit(portal_limit)
def change_password() -> Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            if form.password.data != form.confirm.data:
                raise ValidationError(_("The two passwords do not match."), field="confirm")
            member_auth.change_password(
                current_user, form.current_password.data, form.password.data, keep_session_id=g.member_session.id
            )
        except DomainError as exc:
            _fail(form, exc)
        else:
            uow.commit()
            flash(_("Your password is changed; other devices were signed out."), "success")
            return redirect(url_for("portal.devices"))
    return render(
        "portal/devices.html",
        devices=member_auth.sessions(current_user),
        current_id=g.member_session.id,
        form=form,
        status=422,
    )


@bp.post("/language/<code>")
@public
def language(code: str) -> Response:
    """Choose the portal language: remembered in a cookie, and on the member's row when signed in."""
    if code not in languages():
        abort(404)
    if getattr(current_user, "kind", None) == "member" and current_user.is_authenticated:
        member_auth.set_language(current_user.member, code)
        uow.commit()
    back = request.form.get("next") or request.referrer or url_for("portal.index")
    if not back.startswith("/portal") and "/portal" not in back:
        back = url_for("portal.index")
    response = redirect(back)
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
