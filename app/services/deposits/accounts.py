"""Deposit products and accounts: product settings with maker-checker, rate cards with history,
account opening (SB, FD, RD) with product-prefixed check-digit numbers, status changes
(freeze/unfreeze by maker-checker, dormancy) and closure.

Kind-specific rules live in ``savings``, ``fixed_deposits`` and ``recurring_deposits``; TDS in
``tds``. Every movement of money goes through ``ledger.post``; every state change is audited;
nothing here commits (the caller's unit of work does) and nothing reads ``request``.

At import time this module registers its approval kinds and the per-kind counter rules with
``app.services.deposit_rules`` (savings withdrawal floor = the product minimum balance; RD
credits must be whole instalments and are recorded as such; FD takes neither credits nor
withdrawals, which is the registry's default for unregistered kinds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.deposits import (
    DEPOSIT_KINDS,
    FD_PAYOUTS,
    MATURITY_ACTIONS,
    AccountHolder,
    DepositAccount,
    DepositProduct,
    ProductRate,
    SbDailyProduct,
    rate_of,
)
from app.models.ledger import Account, GLAccount, JournalEntry
from app.models.members import Member, Nominee
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, DomainError, NotFound, ValidationError, approvals, audit, numbering
from app.services.ledger import Line, calendar, coa
from app.services.ledger import kinds as deposit_rules

KIND_LABELS = {"savings": "Savings", "fd": "Fixed deposit", "rd": "Recurring deposit"}
CONTROL_GL = {"savings": coa.SB_DEPOSITS, "fd": coa.FD_DEPOSITS, "rd": coa.RD_DEPOSITS}
FUNDING_MODES = ("cash", "transfer")
INTEREST_FREQUENCIES = ("quarterly", "half_yearly")
MAX_RATE_BP = 50_00
_PREFIX = re.compile(r"^[A-Z]{2,4}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,11}$")
_RATE = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")


# ---------------------------------------------------------------- settings


def rounding() -> str:
    """INTEREST_ROUNDING: "rupee" (default) or "paise"."""
    return current_app.config.get("INTEREST_ROUNDING", "rupee")


def parse_rate_bp(value: Any, field_name: str = "rate") -> int:
    """A percentage (``"7.25"``, ``Decimal("7.25")``, ``7``) as basis points; 0–50 %, two decimals."""
    if isinstance(value, (bool, float)):
        raise ValidationError('Give the rate as a string such as "7.25".', field=field_name)
    text = format(value, "f") if isinstance(value, Decimal) else str(value if value is not None else "").strip()
    text = text.removesuffix("%").strip()
    if not _RATE.match(text):
        raise ValidationError("Enter the rate as a percentage with at most two decimals, e.g. 7.25.", field=field_name)
    try:
        bp = int(Decimal(text) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise ValidationError("Not a valid rate.", field=field_name) from exc
    if bp > MAX_RATE_BP:
        raise ValidationError("The rate must be between 0 and 50 % a year.", field=field_name)
    return bp


def _int_setting(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} is required.", field=name)
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be a whole number.", field=name) from exc
    if not low <= number <= high:
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be between {low} and {high}.", field=name)
    return number


def _paise_setting(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be whole paise.", field=name)
    if value < 0:
        raise ValidationError("Amounts cannot be negative.", field=name)
    return value


DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "savings": {
        "min_balance_paise": 0,
        "min_balance_charge_paise": 0,
        "min_opening_paise": 0,
        "interest_frequency": "quarterly",
        "interest_free": False,
    },
    "fd": {
        "min_amount_paise": 1_000_00,
        "max_amount_paise": None,
        "min_days": 7,
        "max_days": 3650,
        "payouts": list(FD_PAYOUTS),
        "maturity_actions": list(MATURITY_ACTIONS),
        "premature_penalty": "1.00",
    },
    "rd": {
        "min_installment_paise": 100_00,
        "installment_multiple_paise": 10_00,
        "min_months": 6,
        "max_months": 120,
        "missed_fee_paise": 0,
        "grace_days": 0,
        "premature_penalty": "1.00",
    },
}


def normalize_settings(kind: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a product's settings for ``kind``, fill defaults; paise as ints, rates as strings."""
    if kind not in DEPOSIT_KINDS:
        raise ValidationError("Choose savings, fd or rd.", field="kind")
    raw = dict(raw or {})
    out = dict(DEFAULT_SETTINGS[kind])
    unknown = set(raw) - set(out)
    if unknown:
        raise ValidationError(f"Unknown setting(s) for a {kind} product: {', '.join(sorted(unknown))}.")
    out.update(raw)
    if kind == "savings":
        for name in ("min_balance_paise", "min_balance_charge_paise", "min_opening_paise"):
            out[name] = _paise_setting(out[name], name)
        if out["interest_frequency"] not in INTEREST_FREQUENCIES:
            raise ValidationError("Interest is credited quarterly or half-yearly.", field="interest_frequency")
        out["interest_free"] = bool(out["interest_free"])
        if out["min_opening_paise"] < out["min_balance_paise"]:
            out["min_opening_paise"] = out["min_balance_paise"]
    elif kind == "fd":
        out["min_amount_paise"] = _paise_setting(out["min_amount_paise"], "min_amount_paise") or 100
        out["max_amount_paise"] = _paise_setting(out["max_amount_paise"], "max_amount_paise", optional=True)
        out["min_days"] = _int_setting(out["min_days"], "min_days", 1, 3650)
        out["max_days"] = _int_setting(out["max_days"], "max_days", out["min_days"], 3660)
        payouts = [p for p in FD_PAYOUTS if p in set(out["payouts"] or [])]
        if not payouts or set(out["payouts"]) - set(FD_PAYOUTS):
            raise ValidationError(
                "Choose at least one payout option (cumulative, monthly, quarterly).", field="payouts"
            )
        out["payouts"] = payouts
        actions = [a for a in MATURITY_ACTIONS if a in set(out["maturity_actions"] or [])]
        if not actions or set(out["maturity_actions"]) - set(MATURITY_ACTIONS):
            raise ValidationError("Choose at least one maturity action.", field="maturity_actions")
        out["maturity_actions"] = actions
        out["premature_penalty"] = str(rate_of(parse_rate_bp(out["premature_penalty"], "premature_penalty")))
        if out["max_amount_paise"] is not None and out["max_amount_paise"] < out["min_amount_paise"]:
            raise ValidationError("The maximum amount is below the minimum.", field="max_amount_paise")
    else:
        out["min_installment_paise"] = _paise_setting(out["min_installment_paise"], "min_installment_paise") or 100
        out["installment_multiple_paise"] = (
            _paise_setting(out["installment_multiple_paise"], "installment_multiple_paise") or 100
        )
        out["min_months"] = _int_setting(out["min_months"], "min_months", 1, 240)
        out["max_months"] = _int_setting(out["max_months"], "max_months", out["min_months"], 240)
        out["missed_fee_paise"] = _paise_setting(out["missed_fee_paise"], "missed_fee_paise")
        out["grace_days"] = _int_setting(out["grace_days"], "grace_days", 0, 31)
        out["premature_penalty"] = str(rate_of(parse_rate_bp(out["premature_penalty"], "premature_penalty")))
    return out


def normalize_rates(kind: str, rows: list[dict[str, Any]]) -> list[dict[str, int | None]]:
    """Validate a rate card: one row for savings; non-overlapping tenure bands for FD (days) / RD (months)."""
    if not rows:
        raise ValidationError("Give at least one rate.", field="rates")
    out: list[dict[str, int | None]] = []
    for row in rows:
        if "rate_bp" in row:  # an already validated row (re-checked when a proposal is approved)
            rate_bp = parse_rate_bp(rate_of(int(row["rate_bp"])), "rates")
            extra_bp = parse_rate_bp(rate_of(int(row.get("senior_extra_bp") or 0)), "rates")
        else:
            rate_bp = parse_rate_bp(row.get("rate"), "rates")
            extra = row.get("senior_extra")
            extra_bp = parse_rate_bp(extra, "rates") if extra not in (None, "") else 0
        item: dict[str, int | None] = {"rate_bp": rate_bp, "senior_extra_bp": extra_bp}
        if kind == "fd":
            low = _int_setting(row.get("min_days"), "min_days", 1, 3660)
            high = _int_setting(row.get("max_days"), "max_days", low, 3660)
            item.update(min_days=low, max_days=high)
        elif kind == "rd":
            low = _int_setting(row.get("min_months"), "min_months", 1, 240)
            high = _int_setting(row.get("max_months"), "max_months", low, 240)
            item.update(min_months=low, max_months=high)
        out.append(item)
    if kind == "savings":
        if len(out) != 1:
            raise ValidationError("A savings product has one rate.", field="rates")
        out[0]["senior_extra_bp"] = 0
        return out
    key_low, key_high = ("min_days", "max_days") if kind == "fd" else ("min_months", "max_months")
    out.sort(key=lambda r: r[key_low])  # type: ignore[arg-type, return-value]
    for a, b in pairwise(out):
        if b[key_low] <= a[key_high]:  # type: ignore[operator]
            raise ValidationError(
                f"Rate bands overlap: {a[key_low]}–{a[key_high]} and {b[key_low]}–{b[key_high]}.", field="rates"
            )
    return out


def parse_rate_card_text(kind: str, text: str) -> list[dict[str, str]]:
    """Parse the rate card typed on the product screen into rows for ``normalize_rates``.

    Savings: one line ``3.50``. FD: ``7-45 4.50 0.50`` (days from-to, rate, senior extra).
    RD: ``12-24 6.75 0.50`` (months from-to, rate, senior extra).
    """
    rows: list[dict[str, str]] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if kind == "savings":
            rows.append({"rate": parts[0]})
            continue
        if len(parts) not in (2, 3) or "-" not in parts[0]:
            raise ValidationError(f"Line {n}: write the band as 'from-to rate [senior extra]', e.g. 7-45 4.50 0.50.")
        low, _, high = parts[0].partition("-")
        names = ("min_days", "max_days") if kind == "fd" else ("min_months", "max_months")
        rows.append(
            {names[0]: low, names[1]: high, "rate": parts[1], "senior_extra": parts[2] if len(parts) == 3 else "0"}
        )
    return rows


def rate_card_text(kind: str, card: list[ProductRate]) -> str:
    """The inverse of ``parse_rate_card_text`` (to pre-fill the form)."""
    lines = []
    for r in card:
        if kind == "savings":
            lines.append(f"{r.rate}")
        elif kind == "fd":
            lines.append(f"{r.min_days}-{r.max_days} {r.rate} {r.senior_extra}")
        else:
            lines.append(f"{r.min_months}-{r.max_months} {r.rate} {r.senior_extra}")
    return "\n".join(lines)


# ---------------------------------------------------------------- products and rate cards


def products(kind: str | None = None, *, active_only: bool = False) -> list[DepositProduct]:
    stmt = select(DepositProduct).order_by(DepositProduct.kind, DepositProduct.code)
    if kind:
        stmt = stmt.where(DepositProduct.kind == kind)
    if active_only:
        stmt = stmt.where(DepositProduct.active.is_(True))
    return list(db.session.scalars(stmt))


def get_product(code: str) -> DepositProduct:
    product = db.session.scalar(select(DepositProduct).where(DepositProduct.code == (code or "").strip().upper()))
    if product is None:
        raise NotFound(f"No deposit product {code!r}.")
    return product


def product_for(kind: str, code: str | None) -> DepositProduct:
    """The product to open an account of ``kind``: by code, or the kind's default product."""
    if code:
        product = db.session.scalar(select(DepositProduct).where(DepositProduct.code == code.strip().upper()))
        if product is None:
            raise ValidationError(f"No deposit product {code!r}.", field="product_code")
        if product.kind != kind:
            raise ValidationError(
                f"Product {product.code} is a {KIND_LABELS[product.kind].lower()} product, not {KIND_LABELS[kind].lower()}.",
                field="product_code",
            )
    else:
        product = db.session.scalar(
            select(DepositProduct)
            .where(DepositProduct.kind == kind, DepositProduct.active.is_(True))
            .order_by(DepositProduct.is_default.desc(), DepositProduct.id)
            .limit(1)
        )
        if product is None:
            raise ValidationError(f"No active {KIND_LABELS[kind].lower()} product is set up.", field="product_code")
    if not product.active:
        raise ValidationError(f"Product {product.code} is closed for new accounts.", field="product_code")
    return product


def rate_card(product: DepositProduct, on: date) -> list[ProductRate]:
    """The rate card in force on ``on``: the rows with the latest effective date on or before it."""
    effective = db.session.scalar(
        select(func.max(ProductRate.effective_from)).where(
            ProductRate.product_id == product.id, ProductRate.effective_from <= on
        )
    )
    if effective is None:
        return []
    return list(
        db.session.scalars(
            select(ProductRate)
            .where(ProductRate.product_id == product.id, ProductRate.effective_from == effective)
            .order_by(ProductRate.min_days, ProductRate.min_months, ProductRate.id)
        )
    )


def rate_history(product: DepositProduct) -> list[tuple[date, list[ProductRate]]]:
    """Every rate card of a product, newest first."""
    cards: dict[date, list[ProductRate]] = {}
    for row in db.session.scalars(
        select(ProductRate)
        .where(ProductRate.product_id == product.id)
        .order_by(ProductRate.effective_from.desc(), ProductRate.min_days, ProductRate.min_months, ProductRate.id)
    ):
        cards.setdefault(row.effective_from, []).append(row)
    return list(cards.items())


def savings_rate_bp(product: DepositProduct, on: date) -> int:
    """The savings rate (bp) in force on ``on``; 0 for interest-free products."""
    if product.setting("interest_free"):
        return 0
    card = rate_card(product, on)
    if not card:
        raise ValidationError(f"Product {product.code} has no rate in force on {on:%d-%m-%Y}.", field="product_code")
    return card[0].rate_bp


def savings_rate_changes(product: DepositProduct) -> list[tuple[date, Decimal]]:
    """(effective from, rate) for every savings rate card of the product, oldest first."""
    rows = db.session.execute(
        select(ProductRate.effective_from, ProductRate.rate_bp)
        .where(ProductRate.product_id == product.id)
        .order_by(ProductRate.effective_from)
    ).all()
    zero = product.setting("interest_free")
    return [(d, Decimal(0) if zero else rate_of(bp)) for d, bp in rows]  # type: ignore[misc]


def fd_band(product: DepositProduct, on: date, tenure_days: int) -> ProductRate | None:
    """The FD band covering ``tenure_days`` in the card in force on ``on``."""
    for row in rate_card(product, on):
        if row.min_days is not None and row.min_days <= tenure_days <= (row.max_days or 0):
            return row
    return None


def rd_band(product: DepositProduct, on: date, months: int) -> ProductRate | None:
    """The RD band covering ``months`` in the card in force on ``on``."""
    for row in rate_card(product, on):
        if row.min_months is not None and row.min_months <= months <= (row.max_months or 0):
            return row
    return None


def describe_bands(product: DepositProduct, on: date) -> str:
    """The tenures a term product supports on a date, for error messages."""
    card = rate_card(product, on)
    if product.kind == "fd":
        return ", ".join(f"{r.min_days}–{r.max_days} days" for r in card) or "none"
    return ", ".join(f"{r.min_months}–{r.max_months} months" for r in card) or "none"


def is_senior(member: Member, on: date) -> bool:
    """Whether the member is a senior citizen (age ≥ SENIOR_CITIZEN_AGE) on ``on``."""
    return member.age_on(on) >= int(current_app.config.get("SENIOR_CITIZEN_AGE", 60))


# ---------------------------------------------------------------- product changes (maker-checker)

PRODUCT_ACTIONS = ("create", "settings", "rates", "status")


def _check_new_product(data: dict[str, Any]) -> dict[str, Any]:
    code = (data.get("code") or "").strip().upper()
    if not _CODE.match(code):
        raise ValidationError("Code: 2–12 capital letters, digits, '-' or '_'.", field="code")
    if db.session.scalar(select(DepositProduct.id).where(DepositProduct.code == code)):
        raise Conflict(f"Product code {code} already exists.", field="code")
    prefix = (data.get("prefix") or "").strip().upper()
    if not _PREFIX.match(prefix):
        raise ValidationError("Account prefix: 2 to 4 capital letters.", field="prefix")
    if db.session.scalar(select(DepositProduct.id).where(DepositProduct.prefix == prefix)):
        raise Conflict(f"Account prefix {prefix} is used by another product.", field="prefix")
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError("A name is required.", field="name")
    kind = data.get("kind")
    settings = normalize_settings(kind, data.get("settings"))
    rates = normalize_rates(kind, data.get("rates") or [])
    effective = _effective_date(data.get("effective_from"))
    return {
        "code": code,
        "prefix": prefix,
        "name": name[:120],
        "kind": kind,
        "description": (data.get("description") or "").strip()[:255] or None,
        "is_default": bool(data.get("is_default")),
        "settings": settings,
        "rates": rates,
        "effective_from": effective.isoformat(),
    }


def _effective_date(value: Any) -> date:
    today = calendar.current_business_date()
    if value in (None, ""):
        return today
    try:
        effective = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError("Effective date: use YYYY-MM-DD.", field="effective_from") from exc
    if effective < today:
        raise ValidationError(
            f"Rates cannot change with effect from a past date ({effective:%d-%m-%Y}); the business date is {today:%d-%m-%Y}.",
            field="effective_from",
        )
    return effective


def _product_by_id(product_id: Any) -> DepositProduct:
    product = db.session.get(DepositProduct, int(product_id or 0))
    if product is None:
        raise NotFound("No such deposit product.")
    return product


def _normalize_change(action: str, data: dict[str, Any]) -> tuple[dict[str, Any], str, DepositProduct | None]:
    if action == "create":
        clean = _check_new_product(data)
        return clean, f"New {KIND_LABELS[clean['kind']].lower()} product {clean['code']} {clean['name']}", None
    product = _product_by_id(data.get("product_id"))
    if action == "settings":
        name = (data.get("name") or product.name).strip()[:120]
        clean = {
            "product_id": product.id,
            "name": name,
            "description": (data.get("description") or "").strip()[:255] or None,
            "is_default": bool(data.get("is_default")),
            "settings": normalize_settings(product.kind, data.get("settings")),
        }
        return clean, f"Change settings of product {product.code}", product
    if action == "rates":
        rates = normalize_rates(product.kind, data.get("rates") or [])
        effective = _effective_date(data.get("effective_from"))
        clean = {"product_id": product.id, "rates": rates, "effective_from": effective.isoformat()}
        return clean, f"New rates for product {product.code} from {effective:%d-%m-%Y}", product
    if action == "status":
        active = bool(data.get("active"))
        if active == product.active:
            raise ValidationError(f"Product {product.code} is already {'open' if active else 'closed'}.")
        verb = "Reopen" if active else "Close"
        return {"product_id": product.id, "active": active}, f"{verb} product {product.code} for new accounts", product
    raise ValidationError(f"Unknown product change {action!r}.")


def submit_product_change(action: str, data: dict[str, Any], *, maker: StaffUser) -> ApprovalRequest:
    """Validate a product change fully and queue it for a checker (``products.approve``).

    ``action``: ``create`` (code, prefix, name, kind, settings, rates, effective_from),
    ``settings`` (product_id, name, description, is_default, settings), ``rates``
    (product_id, rates, effective_from) or ``status`` (product_id, active).
    """
    clean, summary, product = _normalize_change(action, data)
    if product is not None:
        pending = db.session.scalar(
            select(ApprovalRequest.id).where(
                ApprovalRequest.kind == "deposits.product",
                ApprovalRequest.status == "pending",
                ApprovalRequest.entity_id == str(product.id),
            )
        )
        if pending:
            raise Conflict(f"A change to product {product.code} is already awaiting approval (request #{pending}).")
    return approvals.submit(
        "deposits.product",
        {"action": action, **clean},
        maker=maker,
        summary=summary,
        entity_type="deposit_product",
        entity_id=product.id if product is not None else clean.get("code"),
    )


def _add_card(product: DepositProduct, rates: list[dict[str, Any]], effective: date, approval_id: int | None) -> None:
    for row in rates:
        db.session.add(
            ProductRate(
                product_id=product.id,
                effective_from=effective,
                min_days=row.get("min_days"),
                max_days=row.get("max_days"),
                min_months=row.get("min_months"),
                max_months=row.get("max_months"),
                rate_bp=int(row["rate_bp"]),
                senior_extra_bp=int(row.get("senior_extra_bp") or 0),
                approval_id=approval_id,
            )
        )


def _make_default(product: DepositProduct) -> None:
    for other in db.session.scalars(
        select(DepositProduct).where(DepositProduct.kind == product.kind, DepositProduct.id != product.id)
    ):
        other.is_default = False
    product.is_default = True


def apply_product_change(action: str, data: dict[str, Any], *, approval_id: int | None = None) -> DepositProduct:
    """Carry out a validated product change (the approval handler; also the seed)."""
    clean, _summary, product = _normalize_change(action, data)
    if action == "create":
        product = DepositProduct(
            code=clean["code"],
            prefix=clean["prefix"],
            name=clean["name"],
            kind=clean["kind"],
            description=clean["description"],
            active=True,
            is_default=False,
            settings=clean["settings"],
        )
        db.session.add(product)
        db.session.flush()
        if clean["is_default"] or not db.session.scalar(
            select(func.count()).where(DepositProduct.kind == product.kind, DepositProduct.id != product.id)
        ):
            _make_default(product)
        _add_card(product, clean["rates"], date.fromisoformat(clean["effective_from"]), approval_id)
        audit.record(
            "deposits.product_create",
            "deposit_product",
            product.code,
            after=dict(clean),
        )
    else:
        assert product is not None
        before = {"name": product.name, "settings": product.settings, "active": product.active}
        if action == "settings":
            product.name = clean["name"]
            product.description = clean["description"]
            product.settings = clean["settings"]
            if clean["is_default"]:
                _make_default(product)
        elif action == "rates":
            effective = date.fromisoformat(clean["effective_from"])
            same_day = db.session.scalar(
                select(func.count()).where(
                    ProductRate.product_id == product.id, ProductRate.effective_from == effective
                )
            )
            if same_day:
                raise Conflict(
                    f"Product {product.code} already has a rate card from {effective:%d-%m-%Y}; "
                    "propose the change from a later date."
                )
            _add_card(product, clean["rates"], effective, approval_id)
        elif action == "status":
            product.active = clean["active"]
        product.updated_at = utcnow()
        audit.record(
            f"deposits.product_{action}",
            "deposit_product",
            product.code,
            before=before,
            after={"name": product.name, "settings": product.settings, "active": product.active, **clean},
        )
    db.session.flush()
    return product


def _execute_product(req: ApprovalRequest, checker: StaffUser) -> dict:
    data = dict(req.payload)
    action = data.pop("action")
    product = apply_product_change(action, data, approval_id=req.id)
    return {"product": product.code}


def pending_product_changes(product: DepositProduct | None = None) -> list[ApprovalRequest]:
    stmt = (
        select(ApprovalRequest)
        .where(ApprovalRequest.kind == "deposits.product", ApprovalRequest.status == "pending")
        .order_by(ApprovalRequest.id)
    )
    if product is not None:
        stmt = stmt.where(ApprovalRequest.entity_id == str(product.id))
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------- default products (seed)

DEFAULT_PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "SB",
        "prefix": "SB",
        "name": "Savings deposit",
        "kind": "savings",
        "is_default": True,
        "settings": {
            "min_balance_paise": 500_00,
            "min_balance_charge_paise": 50_00,
            "min_opening_paise": 500_00,
            "interest_frequency": "quarterly",
        },
        "rates": [{"rate": "3.50"}],
    },
    {
        "code": "FD",
        "prefix": "FD",
        "name": "Fixed deposit",
        "kind": "fd",
        "is_default": True,
        "settings": {"min_amount_paise": 1_000_00, "min_days": 7, "max_days": 3650, "premature_penalty": "1.00"},
        "rates": [
            {"min_days": 7, "max_days": 45, "rate": "4.50", "senior_extra": "0.50"},
            {"min_days": 46, "max_days": 179, "rate": "5.75", "senior_extra": "0.50"},
            {"min_days": 180, "max_days": 364, "rate": "6.50", "senior_extra": "0.50"},
            {"min_days": 365, "max_days": 729, "rate": "7.25", "senior_extra": "0.50"},
            {"min_days": 730, "max_days": 3650, "rate": "7.00", "senior_extra": "0.50"},
        ],
    },
    {
        "code": "RD",
        "prefix": "RD",
        "name": "Recurring deposit",
        "kind": "rd",
        "is_default": True,
        "settings": {
            "min_installment_paise": 100_00,
            "installment_multiple_paise": 10_00,
            "min_months": 6,
            "max_months": 120,
            "missed_fee_paise": 10_00,
            "grace_days": 5,
        },
        "rates": [
            {"min_months": 6, "max_months": 11, "rate": "6.00", "senior_extra": "0.50"},
            {"min_months": 12, "max_months": 120, "rate": "6.75", "senior_extra": "0.50"},
        ],
    },
]


def seed_products(effective_from: date | None = None) -> list[DepositProduct]:
    """Create the default SB, FD and RD products where missing (demo and tests; no approval)."""
    made = []
    effective = effective_from or calendar.current_business_date()
    for spec in DEFAULT_PRODUCTS:
        if db.session.scalar(select(DepositProduct.id).where(DepositProduct.code == spec["code"])):
            continue
        made.append(
            apply_product_change(
                "create",
                {**spec, "rates": [dict(r) for r in spec["rates"]], "effective_from": effective},
            )
        )
    return made


# ---------------------------------------------------------------- account numbers


def _digits(text: str) -> str:
    """Letters to numbers (A=10 … Z=35) so the check digit also protects the prefix."""
    return "".join(ch if ch.isdigit() else str(ord(ch) - 55) for ch in text.upper())


def new_account_no(product: DepositProduct) -> str:
    """The next account number of a product: prefix + 7-digit serial + Luhn check digit."""
    serial = numbering.next_value(f"account:{product.prefix}")
    body = f"{product.prefix}{serial:07d}"
    return body + numbering.luhn_check_digit(_digits(body))


def valid_account_no(account_no: str) -> bool:
    """Whether a deposit account number's check digit is right (catches most typing slips)."""
    text = (account_no or "").strip().upper()
    if len(text) < 4 or not text[-1].isdigit() or not text[:-1].isalnum():
        return False
    return numbering.luhn_check_digit(_digits(text[:-1])) == text[-1]


# ---------------------------------------------------------------- lookups


def get_account(account_no: str) -> Account:
    """A deposit account (savings, FD or RD) by its number; NotFound otherwise."""
    account = db.session.scalar(select(Account).where(Account.account_no == (account_no or "").strip().upper()))
    if account is None or account.kind not in DEPOSIT_KINDS:
        raise NotFound(f"No deposit account {account_no!r}.")
    return account


def deposit_of(account: Account) -> DepositAccount:
    """The deposit details of a ledger account."""
    da = db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == account.id))
    if da is None:
        raise NotFound(f"Account {account.account_no} is not a deposit account.")
    return da


def get_member(member_no: str) -> Member:
    member = db.session.scalar(select(Member).where(Member.member_no == (member_no or "").strip().upper()))
    if member is None:
        raise ValidationError(f"No member {member_no!r}.", field="member_no")
    return member


def member_accounts(member: Member, kind: str | None = None, *, open_only: bool = True) -> list[Account]:
    """The deposit accounts a member holds (first holder), oldest first."""
    stmt = select(Account).where(Account.member_id == member.id, Account.kind.in_(DEPOSIT_KINDS)).order_by(Account.id)
    if kind:
        stmt = stmt.where(Account.kind == kind)
    if open_only:
        stmt = stmt.where(Account.status != "closed")
    return list(db.session.scalars(stmt))


def joint_accounts(member: Member) -> list[Account]:
    """Accounts where the member is a joint (not the first) holder."""
    return list(
        db.session.scalars(
            select(Account)
            .join(AccountHolder, AccountHolder.account_id == Account.id)
            .where(AccountHolder.member_id == member.id)
            .order_by(Account.id)
        )
    )


def holders(account: Account) -> list[Member]:
    """Joint holders after the first, in order."""
    return [
        h.member
        for h in db.session.scalars(
            select(AccountHolder).where(AccountHolder.account_id == account.id).order_by(AccountHolder.position)
        )
    ]


def held_by(account: Account, member_id: int) -> bool:
    """Whether ``member_id`` is the first or a joint holder of ``account``."""
    if account.member_id == member_id:
        return True
    return bool(
        db.session.scalar(
            select(AccountHolder.id).where(AccountHolder.account_id == account.id, AccountHolder.member_id == member_id)
        )
    )


def savings_floor(account: Account) -> int:
    """The lowest balance a withdrawal may leave on a savings account: the product minimum balance."""
    da = db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == account.id))
    product_min = int(da.product.setting("min_balance_paise", 0) or 0) if da is not None else 0
    return max(int(account.min_balance_paise or 0), product_min)


def _own_savings(member: Member, account_no: str | None, field_name: str) -> Account:
    """A savings account of ``member`` (first or joint holder), open for transactions."""
    if not account_no:
        raise ValidationError("Give the member's savings account number.", field=field_name)
    account = db.session.scalar(select(Account).where(Account.account_no == account_no.strip().upper()))
    if account is None or account.kind != "savings":
        raise ValidationError(f"No savings account {account_no!r}.", field=field_name)
    if not held_by(account, member.id):
        raise ValidationError(
            f"Savings account {account.account_no} does not belong to {member.name}.", field=field_name
        )
    if account.status in ("closed", "frozen"):
        raise ValidationError(f"Savings account {account.account_no} is {account.status}.", field=field_name)
    return account


def payout_target(member: Member, account_no: str | None, field_name: str = "payout_account") -> Account:
    """The SB account that receives payouts: the one given, else the member's oldest open SB."""
    if account_no:
        return _own_savings(member, account_no, field_name)
    for account in member_accounts(member, "savings"):
        if account.status in ("active", "dormant"):
            return account
    raise ValidationError(
        f"{member.name} has no open savings account to receive the interest or maturity; open one first "
        "or choose auto-renew.",
        field=field_name,
    )


# ---------------------------------------------------------------- opening


@dataclass
class OpenRequest:
    """What it takes to open a deposit account (amounts in paise)."""

    member_no: str
    kind: str  # savings | fd | rd
    product_code: str | None = None
    amount_paise: int = 0  # SB initial deposit; FD principal; RD first instalment (defaults to it)
    months: int = 0
    days: int = 0
    installment_paise: int = 0
    payout: str = "cumulative"
    maturity_action: str = "credit_sb"
    funding_mode: str = "cash"
    from_account_no: str | None = None
    payout_account_no: str | None = None
    si_account_no: str | None = None  # RD standing instruction from this SB
    joint_member_nos: list[str] = field(default_factory=list)
    nominee_id: int | None = None
    form60_ref: str | None = None  # a Form 60 collected now, for cash of ₹50,000+ without PAN


def _check_member(member: Member, field_name: str = "member_no") -> None:
    if member.status != "active":
        raise ValidationError(
            f"Member {member.member_no} is {member.status}; only active members can open deposit accounts.",
            field=field_name,
        )
    if member.kyc_status != "approved":
        raise ValidationError(
            f"Member {member.member_no}'s KYC is {member.kyc_status}; it must be approved before opening an account.",
            field=field_name,
        )


def _check_amount(paise: Any, field_name: str, *, allow_zero: bool = False) -> int:
    if isinstance(paise, bool) or not isinstance(paise, int):
        raise ValidationError("Amounts must be whole paise.", field=field_name)
    if paise < 0:
        raise ValidationError("The amount cannot be negative.", field=field_name)
    if paise == 0 and not allow_zero:
        raise ValidationError("The amount must be more than zero.", field=field_name)
    return paise


def funding_lines(member: Member, amount_paise: int, mode: str, from_account_no: str | None) -> tuple[Line, str]:
    """The debit line that funds a new deposit by transfer from the member's SB (kept above its floor).

    Cash is not a line here: it is received through the counter's rules (``teller.receive_cash``).
    """
    if mode == "cash":
        raise ValidationError(
            "Cash is received through a cashier's drawer (teller.receive_cash), not posted here.", field="funding"
        )
    if mode == "transfer":
        sb = _own_savings(member, from_account_no, "from_account")
        if sb.status == "dormant":
            raise ValidationError(
                f"Savings account {sb.account_no} is dormant; reactivate it before transferring from it.",
                field="from_account",
            )
        floor = deposit_rules.withdrawal_floor(sb)
        if sb.balance_paise - amount_paise < floor:
            raise ledger.InsufficientFunds(
                f"Account {sb.account_no} has {format_inr(max(0, sb.balance_paise - floor))} available "
                f"above its minimum balance; this needs {format_inr(amount_paise)}.",
                field="from_account",
            )
        return Line.dr(sb, amount_paise, "Transfer to new deposit", floor_paise=floor), "transfer"
    raise ValidationError("Funding is by cash or transfer from the member's savings account.", field="funding")


def open_account(
    req: OpenRequest, *, by: StaffUser | None = None, channel: str = "branch", idempotency_key: str | None = None
) -> Account:
    """Open a savings, fixed or recurring deposit for an active member with approved KYC.

    The account gets a product-prefixed number with a check digit; the first money (SB
    initial deposit, FD principal, RD first instalment) is taken in cash at the acting
    cashier's open drawer under the counter's rules (PAN / Form 60, cash register, CTR), or
    transferred from the member's SB. Raises a DomainError (nothing written) for any bad input.

    ``idempotency_key`` (a form's one-time token, an API key) makes a repeated request return
    the account the first one opened instead of opening another.
    """
    from app.services.counter import teller

    from . import fixed as fixed_deposits
    from . import recurring as recurring_deposits

    on = calendar.current_business_date()
    if req.kind not in DEPOSIT_KINDS:
        raise ValidationError("Type must be savings, fd or rd.", field="type")
    member = get_member(req.member_no)
    if idempotency_key:
        # Serialise requests for this member, so a double submit waits for the first to commit.
        db.session.scalars(
            select(Member).where(Member.id == member.id).with_for_update().execution_options(populate_existing=True)
        ).one()
        done = opened_under_key(idempotency_key)
        if done is not None:
            return done
    _check_member(member)
    product = product_for(req.kind, req.product_code)
    if req.funding_mode not in FUNDING_MODES:
        raise ValidationError("Funding is by cash or transfer from the member's savings account.", field="funding")
    joint: list[Member] = []
    for no in req.joint_member_nos:
        if not (no or "").strip():
            continue
        other = get_member(no)
        _check_member(other, "joint_holders")
        if other.id == member.id or other in joint:
            raise ValidationError(f"Member {other.member_no} is listed twice.", field="joint_holders")
        joint.append(other)
    nominee = None
    if req.nominee_id:
        nominee = db.session.get(Nominee, req.nominee_id)
        if nominee is None or nominee.member_id != member.id:
            raise ValidationError("Choose one of the member's registered nominees.", field="nominee")

    da = DepositAccount(
        kind=req.kind, product_id=product.id, member_id=member.id, nominee_id=nominee.id if nominee else None
    )
    da.start_date = on
    sb_rate_bp: int | None = None
    amount = 0
    narration = ""
    if req.kind == "savings":
        amount = _check_amount(req.amount_paise, "amount", allow_zero=True)
        minimum = int(product.setting("min_opening_paise", 0) or 0)
        if amount < minimum:
            raise ValidationError(
                f"The opening deposit for {product.name} must be at least {format_inr(minimum)}.", field="amount"
            )
        sb_rate_bp = savings_rate_bp(product, on)
        narration = "Savings account opened"
    elif req.kind == "fd":
        amount = _check_amount(req.amount_paise, "principal")
        terms = fixed_deposits.terms_for(
            product, member, amount, req.months, req.days, req.payout, on, maturity_action=req.maturity_action
        )
        da.rate_bp, da.senior, da.maturity_date = terms.rate_bp, terms.senior, terms.maturity_date
        da.months, da.days, da.principal_paise = req.months, req.days, amount
        da.payout, da.maturity_action = req.payout, req.maturity_action
        da.expected_interest_paise = terms.interest_paise
        if req.payout != "cumulative" or req.maturity_action == "credit_sb":
            da.payout_account_id = payout_target(member, req.payout_account_no).id
        narration = f"Fixed deposit opened: {terms.describe()}"
    else:
        installment = _check_amount(req.installment_paise, "installment")
        if req.amount_paise and req.amount_paise != installment:
            raise ValidationError(
                f"The first deposit {format_inr(req.amount_paise)} does not match the instalment {format_inr(installment)}.",
                field="installment",
            )
        terms = recurring_deposits.terms_for(product, member, installment, req.months, on)
        amount = installment
        da.rate_bp, da.senior, da.maturity_date = terms.rate_bp, terms.senior, terms.maturity_date
        da.months, da.installment_paise, da.due_day = req.months, installment, on.day
        da.expected_interest_paise = terms.interest_paise
        da.maturity_action = "credit_sb"
        if req.si_account_no:
            da.si_account_id = _own_savings(member, req.si_account_no, "si_account").id
        if req.payout_account_no or req.si_account_no:
            da.payout_account_id = payout_target(member, req.payout_account_no or req.si_account_no).id
        narration = f"Recurring deposit opened: {terms.describe()}"
    fund_line = None
    entry_kind = "deposit"
    if amount and req.funding_mode == "cash":
        teller.check_amount(amount, cash=True)
        teller.cashier_drawer(by)  # refuse early: cash needs the acting cashier's open drawer
    elif amount:
        fund_line, entry_kind = funding_lines(member, amount, req.funding_mode, req.from_account_no)

    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == CONTROL_GL[req.kind]))
    account = Account(
        account_no=new_account_no(product),
        kind=req.kind,
        title=f"{member.name} — {product.name}"[:160],
        member_id=member.id,
        control_gl=gl,
        balance_paise=0,
        min_balance_paise=0,
        enforce_limit=True,
        status="active",
        branch_id=member.branch_id,
        opened_on=on,
    )
    db.session.add(account)
    db.session.flush()
    da.account_id = account.id
    db.session.add(da)
    if req.kind == "savings":
        db.session.add(
            SbDailyProduct(
                account_id=account.id,
                product_id=product.id,
                rate_bp=sb_rate_bp,
                product_paise=0,
                period_start=on,
                last_product_date=on - timedelta(days=1),
            )
        )
    for position, other in enumerate(joint, start=2):
        db.session.add(AccountHolder(account_id=account.id, member_id=other.id, position=position))
    db.session.flush()
    entry = None
    if amount and req.funding_mode == "cash":
        entry = teller.receive_cash(
            account,
            amount,
            [Line.cr(account, amount, narration)],
            cashier=by,
            narration=f"{narration} — {account.account_no}",
            form60_ref=req.form60_ref,
            idempotency_key=idempotency_key,
            channel=channel,
        ).entry
    elif fund_line is not None:
        entry = ledger.post(
            [fund_line, Line.cr(account, amount, narration)],
            kind=entry_kind,
            narration=f"{narration} — {account.account_no}",
            idempotency_key=idempotency_key,
            posted_by_id=by.id if by else None,
            branch_id=account.branch_id,
            channel=channel,
            reference=account.account_no,
        )
    if req.kind == "rd":
        recurring_deposits.create_schedule(account, da)
        if entry is not None:
            recurring_deposits.record_instalment(account, amount, entry)
    audit.record(
        "deposits.open",
        "account",
        account.account_no,
        after={
            "kind": req.kind,
            "product": product.code,
            "member": member.member_no,
            "amount_paise": amount,
            "rate_bp": da.rate_bp if req.kind != "savings" else sb_rate_bp,
            "start": on,
            "maturity": da.maturity_date,
            "months": da.months,
            "days": da.days,
            "payout": da.payout,
            "maturity_action": da.maturity_action,
            "funding": req.funding_mode if amount else None,
            "joint": [m.member_no for m in joint],
            "entry": entry.number if entry is not None else None,
        },
    )
    if idempotency_key:
        audit.record(OPEN_KEY_ACTION, OPEN_KEY_ENTITY, idempotency_key[:64], after={"account_no": account.account_no})
    return account


OPEN_KEY_ACTION = "deposits.open_key"
OPEN_KEY_ENTITY = "account_open_key"


def opened_under_key(idempotency_key: str) -> Account | None:
    """The account an earlier opening request with this key opened (a retry or double submit)."""
    after = db.session.scalar(
        select(AuditLog.after)
        .where(
            AuditLog.entity_type == OPEN_KEY_ENTITY,
            AuditLog.action == OPEN_KEY_ACTION,
            AuditLog.entity_id == idempotency_key[:64],
        )
        .order_by(AuditLog.id)
        .limit(1)
    )
    if not after:
        return None
    return db.session.scalar(select(Account).where(Account.account_no == after.get("account_no")))


# ---------------------------------------------------------------- status: freeze, unfreeze, dormancy


def submit_status_change(account: Account, action: str, reason: str, *, maker: StaffUser) -> ApprovalRequest:
    """Queue a freeze or unfreeze of a deposit account for a checker (``accounts.approve``)."""
    reason = (reason or "").strip()
    if action not in ("freeze", "unfreeze"):
        raise ValidationError("Choose freeze or unfreeze.", field="action")
    if not reason:
        raise ValidationError("Give a reason.", field="reason")
    if account.kind not in DEPOSIT_KINDS:
        raise NotFound("No such deposit account.")
    if account.status == "closed":
        raise ValidationError(f"Account {account.account_no} is closed.")
    if action == "freeze" and account.status == "frozen":
        raise ValidationError(f"Account {account.account_no} is already frozen.")
    if action == "unfreeze" and account.status != "frozen":
        raise ValidationError(f"Account {account.account_no} is not frozen.")
    pending = db.session.scalar(
        select(ApprovalRequest.id).where(
            ApprovalRequest.kind == "deposits.status",
            ApprovalRequest.status == "pending",
            ApprovalRequest.entity_id == account.account_no,
        )
    )
    if pending:
        raise Conflict(f"A status change of {account.account_no} is already awaiting approval (request #{pending}).")
    return approvals.submit(
        "deposits.status",
        {"account_no": account.account_no, "action": action, "reason": reason[:200]},
        maker=maker,
        summary=f"{action.title()} account {account.account_no}: {reason[:150]}",
        entity_type="account",
        entity_id=account.account_no,
    )


def _execute_status(req: ApprovalRequest, checker: StaffUser) -> dict:
    account = get_account(req.payload["account_no"])
    action, reason = req.payload["action"], req.payload["reason"]
    before = {"status": account.status, "reason": account.status_reason}
    if action == "freeze":
        if account.status in ("frozen", "closed"):
            raise ValidationError(f"Account {account.account_no} is {account.status}.")
        account.status = "frozen"
        account.status_reason = f"{reason} (was {before['status']})"[:255]
    else:
        if account.status != "frozen":
            raise ValidationError(f"Account {account.account_no} is not frozen.")
        previous = "dormant" if (account.status_reason or "").endswith("(was dormant)") else "active"
        account.status = previous
        account.status_reason = f"Unfrozen: {reason}"[:255]
    audit.record(
        f"deposits.{action}",
        "account",
        account.account_no,
        before=before,
        after={"status": account.status, "reason": account.status_reason, "approval": req.id},
    )
    return {"account_no": account.account_no, "status": account.status}


def pending_status_changes(account: Account) -> list[ApprovalRequest]:
    return list(
        db.session.scalars(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.kind == "deposits.status",
                ApprovalRequest.status == "pending",
                ApprovalRequest.entity_id == account.account_no,
            )
            .order_by(ApprovalRequest.id)
        )
    )


CUSTOMER_KINDS = ("deposit", "withdrawal", "transfer", "payment", "opening")


def mark_dormant(on: date) -> list[str]:
    """Mark savings accounts dormant after DORMANT_AFTER_MONTHS with no customer-induced transaction.

    Interest, charges and TDS do not count as customer activity (RBI). Returns the account
    numbers marked; each change is audited.
    """
    from app.models.ledger import JournalLine

    from .interest import add_months

    months = int(current_app.config.get("DORMANT_AFTER_MONTHS", 24))
    cutoff = add_months(on, -months)
    recent = (
        select(JournalLine.id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account_id == Account.id,
            JournalLine.business_date > cutoff,
            JournalEntry.kind.in_(CUSTOMER_KINDS),
        )
        .exists()
    )
    rows = db.session.scalars(
        select(Account).where(
            Account.kind == "savings", Account.status == "active", Account.opened_on <= cutoff, ~recent
        )
    ).all()
    marked = []
    for account in rows:
        account.status = "dormant"
        account.status_reason = f"No customer transaction since {cutoff:%d-%m-%Y}"
        audit.record(
            "deposits.dormant",
            "account",
            account.account_no,
            before={"status": "active"},
            after={"status": "dormant", "reason": account.status_reason},
        )
        marked.append(account.account_no)
    db.session.flush()
    return marked


def reactivate(account: Account, *, reason: str, by: StaffUser | None = None) -> Account:
    """Bring a dormant account back to active (after fresh KYC, as the manager records)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason.", field="reason")
    if account.status != "dormant":
        raise ValidationError(f"Account {account.account_no} is not dormant.")
    account.status = "active"
    account.status_reason = f"Reactivated: {reason}"[:255]
    audit.record(
        "deposits.reactivate",
        "account",
        account.account_no,
        before={"status": "dormant"},
        after={"status": "active", "reason": account.status_reason},
    )
    return account


# ---------------------------------------------------------------- payouts, interest settlement


def pay_out(
    account: Account,
    amount_paise: int,
    mode: str,
    to_account_no: str | None,
    *,
    by: StaffUser | None,
    narration: str,
    post_kw: dict | None = None,
    form60_ref: str | None = None,
) -> JournalEntry:
    """Pay a closing balance out: in cash from the acting cashier's drawer, under the counter's
    rules (``teller.pay_cash``: PAN / Form 60, cash register, no payout above the
    large-withdrawal threshold without the counter's approval), or to the member's SB."""
    from app.services.counter import teller

    if mode == "cash":
        result = teller.pay_cash(
            account,
            amount_paise,
            cashier=by,
            narration=f"{narration} in cash",
            form60_ref=form60_ref,
            channel=(post_kw or {}).get("channel") or "branch",
        )
        assert result.entry is not None
        return result.entry
    line, where = payout_line(account, amount_paise, mode, to_account_no)
    kw = {k: v for k, v in (post_kw or {}).items() if k in ("value_date", "allow_backdate", "channel")}
    return ledger.post(
        [Line.dr(account, amount_paise, "Deposit paid out"), line],
        kind="transfer",
        narration=f"{narration} to {where}",
        posted_by_id=by.id if by else None,
        reference=account.account_no,
        **kw,
    )


def payout_line(account: Account, amount_paise: int, mode: str, to_account_no: str | None) -> tuple[Line, str]:
    """Where closing money goes by transfer: a savings account of the same member (cash: ``pay_out``)."""
    if mode == "transfer":
        member = db.session.get(Member, account.member_id)
        target = _own_savings(member, to_account_no, "to_account")
        if target.id == account.id:
            raise ValidationError("Pay the balance to another account.", field="to_account")
        return Line.cr(target, amount_paise, f"From {account.account_no}"), target.account_no
    raise ValidationError("Pay out in cash or by transfer to the member's savings account.", field="mode")


def settlement_lines(exp_gl: str, payable_gl: str, accrued_paise: int, due_paise: int) -> list[Line]:
    """GL lines that fund an interest credit of ``due_paise`` (may be negative: a recovery).

    The interest payable accrued so far is released; the difference goes to the expense
    (a debit when more is due than was accrued, a credit when the accrual was too high).
    The caller adds the member-account line for ``due_paise``.
    """
    lines = []
    if accrued_paise:
        lines.append(Line.dr(payable_gl, accrued_paise, "Interest payable released"))
    diff = due_paise - accrued_paise
    if diff > 0:
        lines.append(Line.dr(exp_gl, diff))
    elif diff < 0:
        lines.append(Line.cr(exp_gl, -diff, "Excess accrual reversed"))
    return lines


def close_account(
    account: Account,
    *,
    mode: str = "transfer",
    to_account_no: str | None = None,
    reason: str = "",
    by: StaffUser | None = None,
    form60_ref: str | None = None,
) -> list[JournalEntry]:
    """Close a deposit account paying out everything due: SB (balance + interest to date),
    FD (premature, or a matured FD being paid), RD (premature or matured). Cash is paid from
    the acting cashier's drawer (``pay_out``)."""
    from . import fixed as fixed_deposits
    from . import recurring as recurring_deposits
    from . import savings

    if account.status == "closed":
        raise ValidationError(f"Account {account.account_no} is already closed.")
    if account.status == "frozen":
        raise ValidationError(f"Account {account.account_no} is frozen and cannot be closed: {account.status_reason}")
    if account.kind == "savings":
        return savings.close_account(
            account, mode=mode, to_account_no=to_account_no, reason=reason, by=by, form60_ref=form60_ref
        )
    if account.kind == "fd":
        return fixed_deposits.close(
            account, mode=mode, to_account_no=to_account_no, reason=reason, by=by, form60_ref=form60_ref
        )
    if account.kind == "rd":
        return recurring_deposits.close(
            account, mode=mode, to_account_no=to_account_no, reason=reason, by=by, form60_ref=form60_ref
        )
    raise NotFound("No such deposit account.")


def mark_closed(account: Account, on: date, reason: str) -> None:
    """Set an account closed (its balance must be zero) and audit it."""
    if account.balance_paise != 0:
        raise ValidationError(f"Account {account.account_no} still has {format_inr(account.balance_paise)}.")
    before = account.status
    account.status = "closed"
    account.closed_on = on
    account.status_reason = (reason or "Closed")[:255]
    audit.record(
        "deposits.close",
        "account",
        account.account_no,
        before={"status": before},
        after={"status": "closed", "closed_on": on, "reason": account.status_reason},
    )


# ---------------------------------------------------------------- day-end entry points


def check_not_after_business_date(on: date, field_name: str = "date") -> date:
    """Refuse a day-end date after the open business date; return the open business date.

    Maturities, payouts, accruals and daily products for a day that has not come would pay
    or count money before it is due.
    """
    today = calendar.current_business_date()
    if not isinstance(on, date):
        raise ValidationError("Give the date as YYYY-MM-DD.", field=field_name)
    if on > today:
        raise ValidationError(
            f"{on:%d-%m-%Y} is after the open business date {today:%d-%m-%Y}; "
            "day-end steps run only for dates up to it.",
            field=field_name,
        )
    return today


@dataclass
class StepReport:
    """What a batch step could not do: accounts that failed (rolled back) or were held."""

    failed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def isolated(account: Account, step: str, report: StepReport, work: Callable[[], Any]) -> Any:
    """Run one account's part of a batch step in a savepoint; on a DomainError roll it back,
    audit the failure, list it in ``report.failed`` and return None so the batch goes on."""
    try:
        with db.session.begin_nested():
            return work()
    except DomainError as exc:
        report.failed.append(f"{account.account_no}: {exc.message}")
        audit.record("deposits.batch_failed", "account", account.account_no, after={"step": step, "error": exc.message})
        return None


def run_maturities(on: date) -> dict[str, Any]:
    """FD payouts and maturities, RD standing instructions, overdue marking and maturities for ``on``.

    ``on`` may not be after the open business date. Each account is processed in its own
    savepoint: ``failed`` lists accounts whose step failed (and were rolled back), ``held``
    payouts that found no savings account able to take them.
    """
    from . import fixed as fixed_deposits
    from . import recurring as recurring_deposits

    check_not_after_business_date(on)
    report = StepReport()
    result: dict[str, Any] = {
        "fd_payouts": fixed_deposits.pay_due_payouts(on, report=report),
        "fd_matured": fixed_deposits.mature(on, report=report),
    }
    si = recurring_deposits.run_standing_instructions(on)
    result["rd_standing_instructions"] = si.paid
    result["rd_overdue"] = recurring_deposits.mark_overdue(on)
    result["rd_matured"] = recurring_deposits.mature(on, report=report)
    result["held"] = report.held
    result["failed"] = report.failed
    return result


def accrue_month_end(month_end: date) -> dict[str, int]:
    """Month-end accrual of FD and RD interest payable (GL only); not for a month end still to come."""
    from . import fixed as fixed_deposits
    from . import recurring as recurring_deposits

    check_not_after_business_date(month_end, "month_end")
    return {"fd": fixed_deposits.accrue_interest(month_end), "rd": recurring_deposits.accrue_interest(month_end)}


# ---------------------------------------------------------------- registration


def _rd_credit_check(account: Account, amount_paise: int) -> None:
    from . import recurring as recurring_deposits

    recurring_deposits.check_credit(account, amount_paise)


def _rd_after_credit(account: Account, amount_paise: int, entry: JournalEntry) -> None:
    from . import recurring as recurring_deposits

    recurring_deposits.record_instalment(account, amount_paise, entry)


approvals.register(
    "deposits.product", label="Deposit product change", permission="products.approve", execute=_execute_product
)
approvals.register(
    "deposits.status", label="Freeze / unfreeze account", permission="accounts.approve", execute=_execute_status
)
deposit_rules.register_withdrawal_floor("savings", savings_floor)
deposit_rules.register_credit_check("rd", _rd_credit_check)
deposit_rules.register_after_credit("rd", _rd_after_credit)
