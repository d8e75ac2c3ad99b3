"""Identity and contact validators against hand-checked tables (DESIGN.md §6 Identity)."""

from __future__ import annotations

from datetime import date

import pytest

from app.services.common import ValidationError
from app.services.common import validators as v

# ---------------------------------------------------------------- Verhoeff


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("236", "3"),  # the textbook example
        ("12345", "1"),
        ("142857", "0"),
        ("52118513337", "6"),  # worked example for an Aadhaar-shaped number
        ("23412341234", "6"),
        ("8473643095483728456789", "2"),
    ],
)
def test_verhoeff_check_digit(digits, check):
    assert v.verhoeff_check_digit(digits) == check
    assert v.verhoeff_valid(digits + check)
    wrong = str((int(check) + 1) % 10)
    assert not v.verhoeff_valid(digits + wrong)


def test_verhoeff_catches_every_single_digit_error_and_adjacent_transposition():
    number = "234123412346"
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                assert not v.verhoeff_valid(number[:i] + d + number[i + 1 :])
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not v.verhoeff_valid(swapped)


# ---------------------------------------------------------------- Aadhaar

VALID_AADHAAR = [
    ("234123412346", "234123412346"),
    ("2341 2341 2346", "234123412346"),
    ("2341-2341-2346", "234123412346"),
    ("521185133376", "521185133376"),
    ("999941057058", "999941057058"),
]


@pytest.mark.parametrize(("raw", "clean"), VALID_AADHAAR)
def test_valid_aadhaar(raw, clean):
    assert v.clean_aadhaar(raw) == clean
    assert v.is_valid_aadhaar(raw)


def _palindrome_passing_checksum() -> str:
    """A 12-digit palindrome that the Verhoeff check alone would accept."""
    for n in range(200000, 999999):
        half = str(n)
        number = half + half[::-1]
        if v.verhoeff_valid(number):
            return number
    raise AssertionError("no palindrome found")


PALINDROME_WITH_VALID_CHECK = _palindrome_passing_checksum()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("234123412347", "check digit"),  # last digit wrong
        ("234123412364", "check digit"),  # last two digits swapped
        ("243123412346", "check digit"),  # transposition inside
        ("134123412346", "cannot start with 0 or 1"),
        ("034123412346", "cannot start with 0 or 1"),
        ("23412341234", "12 digits; this has 11"),
        ("2341234123466", "12 digits; this has 13"),
        ("2341234I2346", "digits only"),
        ("", "Enter the 12-digit"),
        ("333333333333", "reads the same both ways"),  # passes Verhoeff, but a palindrome
        ("222222222222", "reads the same both ways"),
        (PALINDROME_WITH_VALID_CHECK, "reads the same both ways"),
    ],
)
def test_invalid_aadhaar(raw, message):
    with pytest.raises(ValidationError, match=message) as info:
        v.clean_aadhaar(raw)
    assert info.value.field == "aadhaar"
    assert not v.is_valid_aadhaar(raw)


def test_palindromes_are_refused_even_with_a_valid_check_digit():
    assert v.verhoeff_valid("333333333333")
    assert v.verhoeff_valid(PALINDROME_WITH_VALID_CHECK)
    assert PALINDROME_WITH_VALID_CHECK[::-1] == PALINDROME_WITH_VALID_CHECK


def test_aadhaar_masking_and_format():
    assert v.mask_aadhaar("234123412346") == "XXXX XXXX 2346"
    assert v.format_aadhaar("234123412346") == "2341 2341 2346"


# ---------------------------------------------------------------- PAN


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ABCPE1234F", "ABCPE1234F"),
        ("abcpe1234f", "ABCPE1234F"),
        (" AAACR5055K ", "AAACR5055K"),  # company
        ("AAAHS1234A", "AAAHS1234A"),  # HUF
        ("AAAFB1234C", "AAAFB1234C"),  # firm
        ("AAAAA1234A", "AAAAA1234A"),  # association of persons
        ("AAATT1234T", "AAATT1234T"),  # trust
        ("AAABB1234B", "AAABB1234B"),  # body of individuals
        ("AAALL1234L", "AAALL1234L"),  # local authority
        ("AAAJJ1234J", "AAAJJ1234J"),  # artificial juridical person
        ("AAAGG1234G", "AAAGG1234G"),  # government
    ],
)
def test_valid_pan(raw, clean):
    assert v.clean_pan(raw) == clean
    assert v.is_valid_pan(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ABCXE1234F", "4th character"),  # X is no holder type
        ("ABCDE1234F", "4th character"),  # D neither
        ("ABCPE12345", "5 letters, 4 digits and a letter"),
        ("ABCP1234F", "5 letters, 4 digits and a letter"),
        ("1BCPE1234F", "5 letters, 4 digits and a letter"),
        ("ABCPE1234FF", "5 letters, 4 digits and a letter"),
        ("", "Enter the 10-character PAN"),
    ],
)
def test_invalid_pan(raw, message):
    with pytest.raises(ValidationError, match=message):
        v.clean_pan(raw)
    assert not v.is_valid_pan(raw)


def test_pan_mask():
    assert v.mask_pan("ABCPE1234F") == "ABXXXXX34F"
    assert v.mask_pan(None) == ""


# ---------------------------------------------------------------- IFSC


@pytest.mark.parametrize("raw", ["SBIN0001234", "HDFC0ABC123", "sbin0001234", "UTIB0000004"])
def test_valid_ifsc(raw):
    assert v.clean_ifsc(raw) == raw.upper()
    assert v.is_valid_ifsc(raw)


@pytest.mark.parametrize(
    "raw", ["SBIN1001234", "SBI00001234", "SBIN000123", "SBIN00012345", "1BIN0001234", "SBIN0-01234", ""]
)
def test_invalid_ifsc(raw):
    with pytest.raises(ValidationError, match="IFSC must be 11 characters"):
        v.clean_ifsc(raw)
    assert not v.is_valid_ifsc(raw)


# ---------------------------------------------------------------- mobile


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("9876543210", "9876543210"),
        ("+919876543210", "9876543210"),
        ("+91 98765 43210", "9876543210"),
        ("919876543210", "9876543210"),
        ("09876543210", "9876543210"),
        ("98765-43210", "9876543210"),
        ("6000000000", "6000000000"),
        ("7012345678", "7012345678"),
        ("8123456789", "8123456789"),
    ],
)
def test_valid_mobile(raw, clean):
    assert v.clean_mobile(raw) == clean
    assert v.is_valid_mobile(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("5876543210", "starts with 6, 7, 8 or 9"),
        ("0123456789", "starts with 6, 7, 8 or 9"),
        ("987654321", "10 digits; this has 9"),
        ("98765432100", "10 digits; this has 11"),
        ("+449876543210", "Only Indian"),
        ("98765A3210", "digits only"),
        ("", "Enter a 10-digit"),
    ],
)
def test_invalid_mobile(raw, message):
    with pytest.raises(ValidationError, match=message):
        v.clean_mobile(raw)
    assert not v.is_valid_mobile(raw)


# ---------------------------------------------------------------- PIN, names, dates


@pytest.mark.parametrize("raw", ["422001", "110001", "560 001"])
def test_valid_pin(raw):
    assert v.clean_pin(raw) == raw.replace(" ", "")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("022001", "cannot start with 0"),
        ("42200", "exactly 6 digits"),
        ("4220011", "exactly 6"),
        ("42200A", "exactly 6"),
    ],
)
def test_invalid_pin(raw, message):
    with pytest.raises(ValidationError, match=message):
        v.clean_pin(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Sunita   Patil ", "Sunita Patil"),
        ("D'Souza Mary-Ann", "D'Souza Mary-Ann"),
        ("Dr. R. K. Hegde", "Dr. R. K. Hegde"),
        ("सुनीता पाटील", "सुनीता पाटील"),  # Devanagari, with combining vowel signs
        ("ಲಕ್ಷ್ಮಿ ಹೆಗ್ಡೆ", "ಲಕ್ಷ್ಮಿ ಹೆಗ್ಡೆ"),  # Kannada
    ],
)
def test_valid_names(raw, clean):
    assert v.clean_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "required"),
        ("A", "too short"),
        ("R2D2", "only letters"),
        ("<b>x</b>", "only letters"),
        ("...", "must contain letters"),
    ],
)
def test_invalid_names(raw, message):
    with pytest.raises(ValidationError, match=message):
        v.clean_name(raw)


def test_birth_dates_and_ages():
    today = date(2026, 4, 1)
    assert v.clean_birth_date("1985-06-15", today=today) == date(1985, 6, 15)
    assert v.clean_birth_date("15-06-1985", today=today) == date(1985, 6, 15)
    assert v.clean_birth_date("15/06/1985", today=today) == date(1985, 6, 15)
    with pytest.raises(ValidationError, match="future"):
        v.clean_birth_date("2026-04-02", today=today)
    with pytest.raises(ValidationError, match="real date"):
        v.clean_birth_date("31-02-1990", today=today)
    with pytest.raises(ValidationError, match="120 years"):
        v.clean_birth_date("1900-01-01", today=today)
    assert v.age_on(date(2008, 4, 1), today) == 18
    assert v.age_on(date(2008, 4, 2), today) == 17
    assert v.add_years(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert v.add_years(date(2026, 4, 1), 10) == date(2036, 4, 1)


def test_emails():
    assert v.clean_email(" Sunita.Patil@Example.IN ") == "sunita.patil@example.in"
    assert v.clean_email("") is None
    with pytest.raises(ValidationError, match="valid e-mail"):
        v.clean_email("sunita@")
