"""Money: integer paise in the database, Decimal in Python, strings in JSON.

One module owns conversion, rounding (ROUND_HALF_UP) and formatting (Indian grouping,
Babel ``en_IN``). Nothing here ever touches a float.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_decimal

PAISA = Decimal("0.01")
RUPEE = Decimal("1")
HUNDRED = Decimal(100)
# The largest amount accepted from a user: ₹1,000 crore. Anything above is a typo.
MAX_INPUT_PAISE = 1_000_00_00_000_00
# ASCII digits only: Python's \d (and Decimal) would also accept e.g. Arabic-Indic "٣".
_INPUT = re.compile(r"^(?:\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$|^\.\d{1,2}$", re.ASCII)


class MoneyError(ValueError):
    """A user-supplied amount that cannot be accepted."""


def round_half_up(value: Decimal, quantum: Decimal = PAISA) -> Decimal:
    """Round half-up (RBI: 50 paise and above up) to ``quantum``."""
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def to_rupee(value: Decimal) -> Decimal:
    return round_half_up(value, RUPEE)


def to_paise(amount: Decimal | int | str) -> int:
    """Rupees (Decimal or exact string) to integer paise, rounding half-up to the paisa."""
    if isinstance(amount, float):  # pragma: no cover - guard
        raise TypeError("money must never be a float")
    if isinstance(amount, int):
        return amount * 100
    value = Decimal(amount) if isinstance(amount, str) else amount
    return int(round_half_up(value) * HUNDRED)


def from_paise(paise: int) -> Decimal:
    """Integer paise to a two-decimal rupee Decimal."""
    if not isinstance(paise, int) or isinstance(paise, bool):
        raise TypeError("paise must be an int")
    return (Decimal(paise) / HUNDRED).quantize(PAISA)


def round_interest(value: Decimal, mode: str = "rupee") -> Decimal:
    """Round interest to the rupee (default) or the paisa, half-up (INTEREST_ROUNDING)."""
    return to_rupee(value) if mode == "rupee" else round_half_up(value)


def parse_amount(raw: object, *, allow_zero: bool = False, field: str = "amount") -> int:
    """Parse user input such as ``"1,00,000.50"`` or ``"100000"`` into paise.

    Rejects negatives, more than two decimals, malformed grouping, floats and absurd
    magnitudes with a MoneyError that names the problem.
    """
    if isinstance(raw, (bool, float)):
        raise MoneyError(f'{field}: send the amount as a string such as "1500.00", not a number with a fraction')
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, Decimal):
        text = format(raw, "f")
    elif isinstance(raw, str):
        text = raw.strip()
        if text.startswith("₹"):  # "₹2,500" or "₹ 2,500"
            text = text[1:].lstrip()
        if any(ch.isspace() for ch in text):
            raise MoneyError(f"{field}: remove the spaces inside the amount (use commas to group digits)")
    else:
        raise MoneyError(f"{field}: an amount is required")
    if not text:
        raise MoneyError(f"{field}: an amount is required")
    if text.startswith("-"):
        raise MoneyError(f"{field}: the amount cannot be negative")
    if "." in text and len(text.split(".", 1)[1]) > 2:
        raise MoneyError(f"{field}: at most two decimal places (paise) are allowed")
    if not _INPUT.match(text):
        raise MoneyError(f"{field}: not a valid amount; use digits with optional commas and up to two decimals")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - regex guards this
        raise MoneyError(f"{field}: not a valid amount") from exc
    paise = int(value * HUNDRED)
    if paise == 0 and not allow_zero:
        raise MoneyError(f"{field}: the amount must be more than zero")
    if paise > MAX_INPUT_PAISE:
        raise MoneyError(f"{field}: the amount is larger than any single transaction this bank accepts")
    return paise


def to_json(paise: int) -> str:
    """JSON money: a string with two decimals, e.g. ``"8884.88"``."""
    return f"{from_paise(paise):.2f}"


def format_inr(paise: int | None, symbol: bool = True) -> str:
    """Indian grouping with the rupee sign: ``₹12,34,567.89``; negatives as ``-₹500.00``."""
    if paise is None:
        return ""
    value = from_paise(int(paise))
    text = format_decimal(abs(value), format="#,##,##0.00", locale="en_IN")
    sign = "-" if value < 0 else ""
    return f"{sign}{'₹' if symbol else ''}{text}"


def format_plain(paise: int | None) -> str:
    """Indian grouping without the rupee sign (dense tables)."""
    return format_inr(paise, symbol=False)
