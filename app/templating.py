"""Jinja globals and filters shared by every template."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from app.navigation import staff_nav
from app.permissions import has_permission
from app.settings import setting

IST = ZoneInfo("Asia/Kolkata")


def ist(value: datetime | date | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A stored time (UTC; naive values are UTC) as Indian Standard Time, labelled "IST"."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.strftime(fmt.split(" ")[0])
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{value.astimezone(IST).strftime(fmt)} IST"


def init_templating(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict:
        from app.services.ledger import business_date_or_none

        return {
            "htmx_url": app.config["HTMX_URL"],
            "htmx_sri": app.config["HTMX_SRI"],
            "society_name": app.config["SOCIETY_NAME"],
            "can": lambda permission: has_permission(current_user, permission),
            "business_date": business_date_or_none,
            "staff_nav": staff_nav,
            "setting": setting,
        }

    from app import money

    app.jinja_env.filters["inr"] = money.format_inr
    app.jinja_env.filters["rupees"] = money.format_plain
    app.jinja_env.filters["ist"] = ist
