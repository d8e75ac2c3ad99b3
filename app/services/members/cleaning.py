"""Cleaning of member input: registration / edit forms and nominee lists.

Every problem is collected so a form shows them all at once (``Errors``); values come back
ready for the model. Ages are the members rules' (``rules.is_minor``), never a literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.models.members import GENDERS, MEMBER_TYPES, RISK_CATEGORIES
from app.services.common import ValidationError
from app.services.common import validators as v
from app.settings import setting

from .rules import is_minor, today

GENDER_ALIASES = {"f": "female", "m": "male", "o": "other", "t": "other", "transgender": "other"}
MAX_NOMINEES = 4


# ---------------------------------------------------------------- input cleaning


class Errors:
    """Collects field errors so a form shows every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            for field, messages in (exc.errors or {exc.field or "": [exc.message]}).items():
                for message in messages:
                    self.add(field, message)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            count = sum(len(m) for m in self.errors.values())
            first = next(iter(self.errors.values()))[0]
            summary = first if count == 1 else f"Please correct the {count} problems shown."
            raise ValidationError(summary, errors=self.errors)


def clean_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (date, bool, int)):
        return str(value)
    return value if isinstance(value, str) else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y"}
    return bool(value)


def _choice(errors: Errors, field: str, raw: str, choices: Iterable[str], label: str, default: str | None = None):
    value = (raw or "").strip().lower()
    if not value and default is not None:
        return default
    if field == "gender":
        value = GENDER_ALIASES.get(value, value)
    if value not in choices:
        errors.add(field, f"Choose the {label}: {', '.join(choices)}.")
        return None
    return value


def clean_member_data(data: Mapping[str, Any], *, on: date | None = None) -> dict[str, Any]:
    """Validate a registration / edit form and return model values; ValidationError lists every problem."""
    on = on or today()
    e = Errors()
    out: dict[str, Any] = {}
    out["name"] = e.run(v.clean_name, clean_str(data, "name"), field="name", label="Name")
    out["father_or_spouse_name"] = e.run(
        v.clean_name,
        clean_str(data, "father_or_spouse_name"),
        field="father_or_spouse_name",
        label="Father's or spouse's name",
        required=False,
    )
    born = data.get("date_of_birth")
    out["date_of_birth"] = e.run(
        v.clean_birth_date, born if isinstance(born, date) else clean_str(data, "date_of_birth"), today=on
    )
    out["gender"] = _choice(e, "gender", clean_str(data, "gender"), GENDERS, "gender")
    out["mobile"] = e.run(v.clean_mobile, clean_str(data, "mobile"))
    out["email"] = e.run(v.clean_email, clean_str(data, "email"))
    out["address_line"] = e.run(
        v.clean_text,
        clean_str(data, "address_line"),
        field="address_line",
        label="Address (house, street)",
        max_length=255,
    )
    out["village_town"] = e.run(
        v.clean_text, clean_str(data, "village_town"), field="village_town", label="Village / town"
    )
    out["district"] = e.run(v.clean_text, clean_str(data, "district"), field="district", label="District")
    out["state"] = e.run(v.clean_text, clean_str(data, "state"), field="state", label="State", max_length=60)
    out["pin"] = e.run(v.clean_pin, clean_str(data, "pin"))
    out["occupation"] = e.run(
        v.clean_text, clean_str(data, "occupation"), field="occupation", label="Occupation", required=False
    )
    out["member_type"] = _choice(
        e, "member_type", clean_str(data, "member_type"), MEMBER_TYPES, "member type", "regular"
    )
    out["kyc_risk"] = _choice(e, "kyc_risk", clean_str(data, "kyc_risk"), RISK_CATEGORIES, "risk category", "low")
    pan_raw = clean_str(data, "pan").strip()
    out["pan"] = e.run(v.clean_pan, pan_raw) if pan_raw else None
    # Only a declaration that the applicant will submit Form 60: "Form 60 on file" is set only
    # when a reviewer verifies the Form 60 document (services/kyc.verify_document).
    out["form60_declared"] = _bool(data.get("form60")) if "form60" in data else None
    aadhaar_raw = clean_str(data, "aadhaar").strip()
    out["aadhaar"] = e.run(v.clean_aadhaar, aadhaar_raw) if aadhaar_raw else None
    out["guardian_name"] = e.run(
        v.clean_name, clean_str(data, "guardian_name"), field="guardian_name", label="Guardian's name", required=False
    )
    out["guardian_relation"] = e.run(
        v.clean_text,
        clean_str(data, "guardian_relation"),
        field="guardian_relation",
        label="Guardian's relationship",
        max_length=40,
        required=False,
    )
    if out["date_of_birth"] is not None:
        if is_minor(out["date_of_birth"], on):
            age, minimum = v.age_on(out["date_of_birth"], on), int(setting("MEMBER_MIN_AGE"))
            if not out["guardian_name"] and "guardian_name" not in e.errors:
                e.add(
                    "guardian_name",
                    f"The applicant is {age} years old: a member under {minimum} needs a guardian. "
                    "Enter the guardian's name.",
                )
            if not out["guardian_relation"] and "guardian_relation" not in e.errors:
                e.add("guardian_relation", "Enter the guardian's relationship to the minor (e.g. father, mother).")
        else:
            out["guardian_name"] = out["guardian_relation"] = None
    if "nominees" in data and data.get("nominees") is not None:
        out["nominees"] = e.run(clean_nominees, data.get("nominees") or [], on=on)
    e.raise_if_any()
    return out


def _percent_to_bp(raw: Any) -> int:
    text = str(raw).strip().rstrip("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if value != value.quantize(Decimal("0.01")) or value <= 0 or value > 100:
        raise ValueError("out of range")
    return int(value * 100)


def _nominee_share(e: Errors, row: Mapping[str, Any], *, alone: bool) -> int | None:
    """A nominee's share in basis points (``share_bp`` or ``share_percent``; 100% when alone)."""
    share_bp = None
    if row.get("share_bp") not in (None, ""):
        try:
            share_bp = int(row["share_bp"])
            if not 0 < share_bp <= 10000:
                raise ValueError
        except (TypeError, ValueError):
            e.add("share", "Share must be between 0.01% and 100%.")
            share_bp = None
    elif clean_str(row, "share_percent").strip():
        try:
            share_bp = _percent_to_bp(row["share_percent"])
        except ValueError:
            e.add("share", "Share must be a percentage between 0.01 and 100, e.g. 50 or 33.34.")
    elif alone:
        share_bp = 10000
    else:
        e.add("share", "Enter this nominee's share in percent.")
    return share_bp


def clean_nominees(rows: Iterable[Mapping[str, Any]], *, on: date | None = None) -> list[dict[str, Any]]:
    """Validate nominee rows (blank rows ignored): shares must total 100%; minors need a guardian."""
    on = on or today()
    cleaned: list[dict[str, Any]] = []
    problems: list[str] = []
    filled = [
        row
        for row in rows
        if any(
            clean_str(row, k).strip() for k in ("name", "relationship", "date_of_birth", "share_percent", "share_bp")
        )
    ]
    if len(filled) > MAX_NOMINEES:
        raise ValidationError(f"At most {MAX_NOMINEES} nominees can be named.", field="nominees")
    for i, row in enumerate(filled, start=1):
        e = Errors()
        name = e.run(v.clean_name, clean_str(row, "name"), field="name", label="Name")
        relationship = e.run(
            v.clean_text, clean_str(row, "relationship"), field="relationship", label="Relationship", max_length=40
        )
        born_raw = row.get("date_of_birth")
        born = None
        if isinstance(born_raw, date) or clean_str(row, "date_of_birth").strip():
            born = e.run(
                v.clean_birth_date,
                born_raw if isinstance(born_raw, date) else clean_str(row, "date_of_birth"),
                today=on,
            )
        share_bp = _nominee_share(e, row, alone=len(filled) == 1)
        guardian = e.run(
            v.clean_name,
            clean_str(row, "guardian_name"),
            field="guardian_name",
            label="Guardian's name",
            required=False,
        )
        if born is not None and is_minor(born, on) and not guardian:
            e.add("guardian_name", "This nominee is a minor: name a guardian who will receive on the minor's behalf.")
        address = e.run(
            v.clean_text, clean_str(row, "address"), field="address", label="Address", max_length=255, required=False
        )
        for messages in e.errors.values():
            problems.extend(f"Nominee {i}: {m}" for m in messages)
        cleaned.append(
            {
                "name": name,
                "relationship": relationship,
                "date_of_birth": born,
                "share_bp": share_bp,
                "guardian_name": guardian,
                "address": address,
            }
        )
    if not problems and cleaned:
        total = sum(n["share_bp"] for n in cleaned)
        if total != 10000:
            problems.append(
                f"Nominee shares add up to {Decimal(total) / 100:.2f}%; together they must be exactly 100%."
            )
    if problems:
        raise ValidationError(
            problems[0] if len(problems) == 1 else "Check the nominees.", errors={"nominees": problems}
        )
    return cleaned
