"""Pure validators for Indian identity and contact data (DESIGN.md §6 Identity).

Each ``clean_*`` function returns the normalised value or raises ``ValidationError`` with
a message a clerk or a member can act on, keyed to ``field``. Nothing here touches the
database or Flask, so the rules are table-tested in tests/unit/test_validators.py.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from .errors import ValidationError

# ---------------------------------------------------------------- Verhoeff (Aadhaar check digit)

# Multiplication table of the dihedral group D5, the position permutation and the inverses.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _verhoeff_checksum(digits: str, offset: int) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + offset) % 8][int(ch)]]
    return c


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits``."""
    if not digits.isdigit():
        raise ValueError("digits only")
    return str(_INV[_verhoeff_checksum(digits, 1)])


def verhoeff_valid(number: str) -> bool:
    """True when the last digit of ``number`` is its correct Verhoeff check digit."""
    return number.isdigit() and len(number) > 1 and _verhoeff_checksum(number, 0) == 0


# ---------------------------------------------------------------- Aadhaar

_AADHAAR_SEPARATORS = re.compile(r"[\s-]")


def clean_aadhaar(raw: str, *, field: str = "aadhaar") -> str:
    """A valid 12-digit Aadhaar number (spaces and hyphens removed)."""
    number = _AADHAAR_SEPARATORS.sub("", raw or "")
    if not number:
        raise ValidationError("Enter the 12-digit Aadhaar number.", field=field)
    if not number.isdigit():
        raise ValidationError("Aadhaar number must contain digits only.", field=field)
    if len(number) != 12:
        raise ValidationError(f"Aadhaar number must be 12 digits; this has {len(number)}.", field=field)
    if number[0] in "01":
        raise ValidationError("Aadhaar number cannot start with 0 or 1.", field=field)
    if number == number[::-1]:
        raise ValidationError("This is not a valid Aadhaar number (it reads the same both ways).", field=field)
    if not verhoeff_valid(number):
        raise ValidationError(
            "This Aadhaar number is not valid: its check digit does not match. Check for a mistyped digit.",
            field=field,
        )
    return number


def is_valid_aadhaar(raw: str) -> bool:
    """Whether ``raw`` is a valid Aadhaar number."""
    try:
        clean_aadhaar(raw)
    except ValidationError:
        return False
    return True


def mask_aadhaar(number: str) -> str:
    """``XXXX XXXX 1234``: the only form in which an Aadhaar number is ever shown."""
    return f"XXXX XXXX {number[-4:]}" if number else ""


def format_aadhaar(number: str) -> str:
    """``2341 2341 2346`` (for the member's own eyes only)."""
    return " ".join((number[:4], number[4:8], number[8:]))


# ---------------------------------------------------------------- PAN

# 4th character: the holder's status.
PAN_HOLDER_TYPES = {
    "P": "individual",
    "C": "company",
    "H": "Hindu undivided family",
    "F": "firm / LLP",
    "A": "association of persons",
    "T": "trust",
    "B": "body of individuals",
    "L": "local authority",
    "J": "artificial juridical person",
    "G": "government",
}
_PAN = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")


def clean_pan(raw: str, *, field: str = "pan") -> str:
    """A valid PAN in upper case (``ABCPE1234F``)."""
    pan = re.sub(r"\s", "", raw or "").upper()
    if not pan:
        raise ValidationError("Enter the 10-character PAN.", field=field)
    if len(pan) != 10 or not _PAN.match(pan):
        raise ValidationError(
            "PAN must be 5 letters, 4 digits and a letter, e.g. ABCPE1234F.",
            field=field,
        )
    if pan[3] not in PAN_HOLDER_TYPES:
        raise ValidationError(
            f"The 4th character of a PAN shows the holder type and cannot be {pan[3]!r} "
            f"(it must be one of {', '.join(PAN_HOLDER_TYPES)}).",
            field=field,
        )
    return pan


def is_valid_pan(raw: str) -> bool:
    """Whether ``raw`` is a valid PAN."""
    try:
        clean_pan(raw)
    except ValidationError:
        return False
    return True


def mask_pan(pan: str | None) -> str:
    """``ABXXXXX34F``: PAN as shown in lists."""
    return f"{pan[:2]}XXXXX{pan[7:]}" if pan else ""


# ---------------------------------------------------------------- IFSC

_IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")


def clean_ifsc(raw: str, *, field: str = "ifsc") -> str:
    """A valid IFSC in upper case (4 letters, a zero, 6 letters or digits)."""
    ifsc = (raw or "").strip().upper()
    if not _IFSC.match(ifsc):
        raise ValidationError(
            "IFSC must be 11 characters: 4 letters (the bank), a zero, then 6 letters or digits (the branch).",
            field=field,
        )
    return ifsc


def is_valid_ifsc(raw: str) -> bool:
    """Whether ``raw`` is a valid IFSC."""
    try:
        clean_ifsc(raw)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------- mobile, PIN, e-mail


def clean_mobile(raw: str, *, field: str = "mobile") -> str:
    """A 10-digit Indian mobile number, with +91 / 91 / 0 prefixes and separators removed."""
    text = re.sub(r"[\s\-().]", "", raw or "")
    if not text:
        raise ValidationError("Enter a 10-digit mobile number.", field=field)
    if text.startswith("+"):
        if not text.startswith("+91"):
            raise ValidationError("Only Indian mobile numbers (+91) are accepted.", field=field)
        text = text[3:]
    elif len(text) == 12 and text.startswith("91"):
        text = text[2:]
    elif len(text) == 11 and text.startswith("0"):
        text = text[1:]
    if not text.isdigit():
        raise ValidationError("Mobile number must contain digits only.", field=field)
    if len(text) != 10:
        raise ValidationError(f"Mobile number must be 10 digits; this has {len(text)}.", field=field)
    if text[0] not in "6789":
        raise ValidationError("An Indian mobile number starts with 6, 7, 8 or 9.", field=field)
    return text


def is_valid_mobile(raw: str) -> bool:
    """Whether ``raw`` is a valid Indian mobile number."""
    try:
        clean_mobile(raw)
    except ValidationError:
        return False
    return True


def mask_mobile(mobile: str) -> str:
    """``XXXXXX3210`` for logs and messages."""
    return f"XXXXXX{mobile[-4:]}" if mobile else ""


def clean_pin(raw: str, *, field: str = "pin") -> str:
    """A 6-digit PIN code not starting with 0."""
    pin = re.sub(r"\s", "", raw or "")
    if not pin:
        raise ValidationError("Enter the 6-digit PIN code.", field=field)
    if not pin.isdigit() or len(pin) != 6:
        raise ValidationError("PIN code must be exactly 6 digits.", field=field)
    if pin[0] == "0":
        raise ValidationError("PIN code cannot start with 0.", field=field)
    return pin


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def clean_email(raw: str | None, *, field: str = "email") -> str | None:
    """A plausible e-mail address in lower case, or None when blank."""
    email = (raw or "").strip()
    if not email:
        return None
    if len(email) > 255 or not _EMAIL.match(email):
        raise ValidationError("Enter a valid e-mail address, e.g. name@example.com.", field=field)
    return email.lower()


# ---------------------------------------------------------------- names and text

_NAME_PUNCTUATION = set(" .'-")


def clean_name(raw: str | None, *, field: str = "name", label: str = "Name", required: bool = True) -> str | None:
    """A person's name: letters (any script), spaces, dots, apostrophes and hyphens."""
    name = unicodedata.normalize("NFC", " ".join((raw or "").split()))
    if not name:
        if required:
            raise ValidationError(f"{label} is required.", field=field)
        return None
    if len(name) < 2:
        raise ValidationError(f"{label} is too short.", field=field)
    if len(name) > 120:
        raise ValidationError(f"{label} can be at most 120 characters.", field=field)
    for ch in name:
        if ch in _NAME_PUNCTUATION:
            continue
        category = unicodedata.category(ch)
        if not (category.startswith("L") or category.startswith("M")):
            raise ValidationError(
                f"{label} can contain only letters, spaces, dots, apostrophes and hyphens.", field=field
            )
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        raise ValidationError(f"{label} must contain letters.", field=field)
    return name


def clean_text(raw: str | None, *, field: str, label: str, max_length: int = 120, required: bool = True) -> str | None:
    """Free text (an address line, a village): trimmed, spaces collapsed, length-checked."""
    text = " ".join((raw or "").split())
    if not text:
        if required:
            raise ValidationError(f"{label} is required.", field=field)
        return None
    if len(text) > max_length:
        raise ValidationError(f"{label} can be at most {max_length} characters.", field=field)
    return text


# ---------------------------------------------------------------- dates


def age_on(born: date, on: date) -> int:
    """Completed years of age on a date."""
    years = on.year - born.year
    return years - ((on.month, on.day) < (born.month, born.day))


def clean_birth_date(raw: date | str | None, *, today: date, field: str = "date_of_birth") -> date:
    """A date of birth: ISO ``YYYY-MM-DD`` or ``DD-MM-YYYY``, not in the future, age at most 120."""
    if isinstance(raw, date):
        born = raw
    else:
        text = (raw or "").strip()
        if not text:
            raise ValidationError("Enter the date of birth.", field=field)
        born = parse_date(text, field=field, label="Date of birth")
    if born > today:
        raise ValidationError("Date of birth cannot be in the future.", field=field)
    if age_on(born, today) > 120:
        raise ValidationError("Check the date of birth: that is more than 120 years ago.", field=field)
    return born


def parse_date(text: str, *, field: str, label: str = "Date") -> date:
    """Parse ``YYYY-MM-DD`` or ``DD-MM-YYYY`` / ``DD/MM/YYYY``."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        pass
    raise ValidationError(f"{label} must be a real date as YYYY-MM-DD or DD-MM-YYYY.", field=field)


def add_years(start: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)
