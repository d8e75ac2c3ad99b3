from decimal import Decimal

import pytest

from app.money import (
    MoneyError,
    format_inr,
    from_paise,
    parse_amount,
    round_half_up,
    round_interest,
    to_json,
    to_paise,
)


@pytest.mark.parametrize(
    ("raw", "paise"),
    [
        ("1,00,000.50", 10000050),
        ("100000", 10000000),
        ("100000.5", 10000050),
        ("1,000,000", 100000000),
        ("0.01", 1),
        ("₹ 2,500", 250000),
        (" 42 ", 4200),
        (".75", 75),
        (1500, 150000),
    ],
)
def test_parse_amount_accepts_indian_and_plain_input(raw, paise):
    assert parse_amount(raw) == paise


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("100.005", "two decimal"),
        ("-5", "negative"),
        ("0", "more than zero"),
        ("abc", "not a valid amount"),
        ("1,00,0", "not a valid amount"),
        ("٣", "not a valid amount"),  # Arabic-Indic three: not an ASCII digit
        ("१,००,०००", "not a valid amount"),  # Devanagari digits
        ("12٣.50", "not a valid amount"),
        (" 1 000 ", "spaces"),
        ("1 00 000", "spaces"),
        ("₹ 1 000", "spaces"),
        ("1\u00a0000", "spaces"),
        ("", "required"),
        (None, "required"),
        (12.5, "string"),
        ("99999999999999", "larger than"),
    ],
)
def test_parse_amount_rejects_bad_input_with_a_clear_message(raw, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(raw)


def test_zero_allowed_only_when_asked():
    assert parse_amount("0", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.345", "2.35"), ("2.344", "2.34"), ("2.335", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01")],
)
def test_round_half_up_not_bankers(value, expected):
    assert round_half_up(Decimal(value)) == Decimal(expected)


def test_interest_rounds_to_rupee_half_up_or_to_paisa():
    assert round_interest(Decimal("1234.50")) == Decimal("1235")
    assert round_interest(Decimal("1234.49")) == Decimal("1234")
    assert round_interest(Decimal("1234.495"), "paise") == Decimal("1234.50")


def test_paise_conversions_are_exact():
    assert to_paise(Decimal("8884.875")) == 888488
    assert to_paise("0.10") == 10
    assert to_paise(7) == 700
    assert from_paise(888488) == Decimal("8884.88")
    assert to_json(888488) == "8884.88"
    assert to_json(-5) == "-0.05"
    assert to_json(0) == "0.00"
    with pytest.raises(TypeError):
        from_paise(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (123456789, "₹12,34,567.89"),
        (0, "₹0.00"),
        (-50000, "-₹500.00"),
        (99, "₹0.99"),
        (100000000000, "₹1,00,00,00,000.00"),
    ],
)
def test_indian_formatting(paise, text):
    assert format_inr(paise) == text
