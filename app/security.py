"""Security headers, actor context per request and the staff idle timeout."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.models.base import utcnow
from app.services.common import SYSTEM, Actor, set_actor


def _client_ip() -> str | None:
    return request.remote_addr


def request_actor() -> Actor:
    """The audit actor of the current request: the signed-in staff user or member, or anonymous."""
    user = current_user
    if user.is_authenticated:
        kind = getattr(user, "kind", "staff")
        name = getattr(user, "username", None) or getattr(user, "member_no", None)
        return Actor(
            type=kind,
            id=user.id,
            name=name,
            role=getattr(user, "role", None) if kind == "staff" else "member",
            ip=_client_ip(),
            user_agent=request.user_agent.string,
        )
    return Actor(type="anonymous", ip=_client_ip(), user_agent=request.user_agent.string)


def build_csp(app: Flask, extra_script: str = "", extra_style: str = "") -> str:
    htmx = app.config["HTMX_URL"]
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {htmx} {extra_script}".strip(),
            f"style-src 'self' {extra_style}".strip(),
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


RAZORPAY_CHECKOUT = "https://checkout.razorpay.com"


def checkout_csp(app: Flask) -> str:
    """The policy of the payment checkout page only: Razorpay's checkout.js and its frames allowed."""
    return (
        build_csp(app, extra_script=RAZORPAY_CHECKOUT)
        .replace("default-src 'self'", f"default-src 'self'; frame-src {RAZORPAY_CHECKOUT} https://api.razorpay.com")
        .replace("connect-src 'self'", "connect-src 'self' https://lumberjack.razorpay.com https://api.razorpay.com")
    )


def init_security(app: Flask) -> None:
    csp = build_csp(app)

    @app.before_request
    def _set_actor() -> Response | None:
        set_actor(request_actor())
        g.csp = csp
        return _idle_timeout(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", g.get("csp", csp))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        set_actor(SYSTEM)
        return response


def is_htmx_request() -> bool:
    """Whether htmx sent this request (it swaps the answer into the page rather than navigating)."""
    return request.headers.get("HX-Request") == "true"


def _htmx_page_path() -> str | None:
    """The path of the page an htmx request came from (``HX-Current-URL``), if it is ours."""
    current = request.headers.get("HX-Current-URL")
    if not current:
        return None
    parts = urlsplit(current)
    if parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login_redirect(endpoint: str = "auth.login") -> Response:
    """Send the browser to a sign-in page, coming back here afterwards.

    A plain request gets a 302. An htmx request gets 401 with an ``HX-Redirect`` header and
    no body, so htmx navigates the whole window instead of swapping the sign-in page into a
    fragment; it returns to the page the user was on, not to the fragment's URL.
    """
    if is_htmx_request():
        response = Response(status=401)
        response.headers["HX-Redirect"] = url_for(endpoint, next=_htmx_page_path())
        return response
    return redirect(url_for(endpoint, next=request.full_path))


def _idle_timeout(app: Flask) -> Response | None:
    """Sign staff out after STAFF_IDLE_TIMEOUT_MINUTES without a request."""
    if not current_user.is_authenticated or getattr(current_user, "kind", None) != "staff":
        return None
    if request.endpoint in ("static",):
        return None
    now = utcnow()
    last = session.get("last_seen")
    limit = timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"])
    if last is not None and int(now.timestamp()) - int(last) > limit.total_seconds():
        logout_user()
        session.clear()
        flash("You were signed out after a period of inactivity.", "warning")
        if request.path.startswith("/api/"):
            return None
        return login_redirect()
    session["last_seen"] = int(now.timestamp())  # whole seconds are enough for an idle timeout
    return None
