"""Jinja globals and filters shared by every template."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from app.clock import IST, ist, ist_day_start  # noqa: F401  (re-exported for screens and tests)
from app.navigation import staff_nav
from app.permissions import has_permission
from app.settings import setting

ACRONYMS = {"id": "ID", "kyc": "KYC", "pan": "PAN", "ip": "IP", "tds": "TDS", "emi": "EMI", "fd": "FD", "rd": "RD"}


def field_label(key: str) -> str:
    """``amount_paise`` -> "Amount", ``kyc_status`` -> "KYC status"."""
    words = key.removesuffix("_paise").replace("-", "_").split("_")
    words = [ACRONYMS.get(w.lower(), w) for w in words if w]
    if not words:
        return key
    first = words[0] if words[0].isupper() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def field_value(key: str, value: object) -> str:
    """An audited value for a person: paise as rupees, lists and objects in short text."""
    from app import money

    if value is None or value == "":
        return "—"
    if key.endswith("_paise") and isinstance(value, int | str) and str(value).lstrip("-").isdigit():
        return money.format_inr(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{field_label(str(k))}: {field_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(field_value(key, v) for v in value)
    return str(value)


def audit_fields(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """(label, before, after) for every audited field, in a stable order; one side may be empty."""
    before, after = before or {}, after or {}
    keys = list(before) + [k for k in after if k not in before]
    return [
        (
            field_label(str(k)),
            field_value(str(k), before[k]) if k in before else "",
            field_value(str(k), after[k]) if k in after else "",
        )
        for k in keys
    ]


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
    app.jinja_env.globals["audit_fields"] = audit_fields
