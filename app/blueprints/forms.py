"""Form helpers shared by every blueprint: a rupee amount typed into a form becomes paise, or
a field error that says what to fix (the one wrapper around ``app.money.parse_amount``)."""

from __future__ import annotations

from typing import Any

from app.money import MoneyError, parse_amount
from app.services.common import ValidationError


def money_error_text(exc: MoneyError) -> str:
    """A MoneyError's message as a sentence for a form, without its field prefix."""
    message = str(exc).split(": ", 1)[-1]
    return message[:1].upper() + message[1:] + "."


def parse_amount_field(raw: Any, field: str = "amount", *, allow_zero: bool = False) -> int:
    """Paise from a typed amount; a bad amount is a ValidationError on ``field`` (form error / 422)."""
    try:
        return parse_amount(raw if raw is not None else "", allow_zero=allow_zero, field=field)
    except MoneyError as exc:
        raise ValidationError(money_error_text(exc), field=field) from exc


def amount_of(form_field: Any, *, required: bool = False, allow_zero: bool = False) -> int:
    """Paise from a WTForms field; a bad (or missing, when ``required``) amount is added to the
    field's errors and 0 returned, so the form shows every problem at once."""
    raw = (form_field.data or "").strip()
    if not raw:
        if required:
            form_field.errors = [*form_field.errors, "Enter an amount."]
        return 0
    try:
        return parse_amount_field(raw, form_field.label.text, allow_zero=allow_zero)
    except ValidationError as exc:
        form_field.errors = [*form_field.errors, exc.message]
        return 0
