"""Languages of the member portal (Flask-Babel): English and Hindi, more by adding a catalogue.

The locale of a portal request is, in order: the language the signed-in member saved, the
``lang`` cookie (chosen before sign-in), then the browser's ``Accept-Language``. Member API
requests follow ``Accept-Language``; staff pages stay English. Adding Marathi needs only
``app/translations/mr/LC_MESSAGES/messages.po`` (compiled to ``.mo``) and ``mr`` in the
``PORTAL_LANGUAGES`` setting. Amounts keep the Indian format (``app.money``) in every
language.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale
from flask_login import current_user

from app.services.access import member_auth
from app.settings import setting

babel = Babel()
COOKIE = "lang"
NAMES = {"en": "English", "hi": "हिन्दी", "mr": "मराठी", "gu": "ગુજરાતી", "ta": "தமிழ்", "kn": "ಕನ್ನಡ"}


def languages() -> list[str]:
    """The portal's language codes, English first."""
    codes = [c.strip() for c in str(setting("PORTAL_LANGUAGES")).split(",") if c.strip()]
    return codes if "en" in codes else ["en", *codes]


def select_locale() -> str:
    if not has_request_context():
        return "en"
    path = request.path or ""
    choices = languages()
    if path.startswith("/portal"):
        chosen = g.get("portal_language")
        if chosen in choices:
            return chosen
        if getattr(current_user, "kind", None) == "member" and current_user.is_authenticated:
            saved = member_auth.language_of(current_user.member)
            if saved in choices:
                return saved
        cookie = request.cookies.get(COOKIE)
        if cookie in choices:
            return cookie
        return request.accept_languages.best_match(choices) or "en"
    if path.startswith("/api/"):
        return request.accept_languages.best_match(choices) or "en"
    return "en"


def init_babel(app: Flask) -> None:
    if "babel" not in app.extensions:
        babel.init_app(app, locale_selector=select_locale, default_locale="en")


def template_globals() -> dict:
    """``portal_lang()``, ``other_langs()`` and ``lang_name(code)`` for the portal templates."""

    def current() -> str:
        return str(get_locale() or "en")

    return {
        "portal_lang": current,
        "other_langs": lambda: [c for c in languages() if c != current()],
        "lang_name": lambda code: NAMES.get(code, code),
    }
