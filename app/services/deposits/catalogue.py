"""Deposit products and their rate cards: product settings (checked by each kind's rules),
rate cards with history, product changes by maker-checker, and the default products (seed).

What a kind's settings and rate bands are comes from the kind registry (``kinds``); this
module holds what is common to every kind. Nothing here commits; every change is audited.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.deposits import DEPOSIT_KINDS, DepositProduct, ProductRate, rate_of
from app.models.members import Member
from app.models.users import StaffUser
from app.services import members as member_rules
from app.services.common import Conflict, NotFound, ValidationError, approvals, audit
from app.services.ledger import calendar
from app.settings import setting

from . import kinds
from .kinds import KIND_LABELS

MAX_RATE_BP = 50_00
_PREFIX = re.compile(r"^[A-Z]{2,4}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,11}$")
_RATE = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")


# ---------------------------------------------------------------- settings


def rounding() -> str:
    """INTEREST_ROUNDING: "rupee" (default) or "paise"."""
    return str(setting("INTEREST_ROUNDING"))


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


def int_setting(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} is required.", field=name)
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be a whole number.", field=name) from exc
    if not low <= number <= high:
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be between {low} and {high}.", field=name)
    return number


def paise_setting(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be whole paise.", field=name)
    if value < 0:
        raise ValidationError("Amounts cannot be negative.", field=name)
    return value


def normalize_settings(kind: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a product's settings for ``kind``, fill the kind's defaults; paise as ints, rates as strings."""
    if kind not in DEPOSIT_KINDS:
        raise ValidationError("Choose savings, fd or rd.", field="kind")
    spec = kinds.get(kind)
    raw = dict(raw or {})
    out = spec.default_settings()
    unknown = set(raw) - set(out)
    if unknown:
        raise ValidationError(f"Unknown setting(s) for a {kind} product: {', '.join(sorted(unknown))}.")
    out.update(raw)
    return spec.normalize_settings(out)


def _rate_row(row: dict[str, Any]) -> dict[str, int | None]:
    if "rate_bp" in row:  # an already validated row (re-checked when a proposal is approved)
        rate_bp = parse_rate_bp(rate_of(int(row["rate_bp"])), "rates")
        extra_bp = parse_rate_bp(rate_of(int(row.get("senior_extra_bp") or 0)), "rates")
    else:
        rate_bp = parse_rate_bp(row.get("rate"), "rates")
        extra = row.get("senior_extra")
        extra_bp = parse_rate_bp(extra, "rates") if extra not in (None, "") else 0
    return {"rate_bp": rate_bp, "senior_extra_bp": extra_bp}


def normalize_rates(kind: str, rows: list[dict[str, Any]]) -> list[dict[str, int | None]]:
    """Validate a rate card: one row for an unbanded kind (savings); non-overlapping tenure
    bands for a banded one (FD in days, RD in months), within the kind's longest tenure."""
    if not rows:
        raise ValidationError("Give at least one rate.", field="rates")
    bands = kinds.get(kind).bands
    out: list[dict[str, int | None]] = []
    for row in rows:
        item = _rate_row(row)
        if bands is not None:
            key_low, key_high = bands.fields
            low = int_setting(row.get(key_low), key_low, 1, bands.limit())
            high = int_setting(row.get(key_high), key_high, low, bands.limit())
            item.update({key_low: low, key_high: high})
        out.append(item)
    if bands is None:
        if len(out) != 1:
            raise ValidationError("A savings product has one rate.", field="rates")
        out[0]["senior_extra_bp"] = 0
        return out
    key_low, key_high = bands.fields
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
    bands = kinds.get(kind).bands
    rows: list[dict[str, str]] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if bands is None:
            rows.append({"rate": parts[0]})
            continue
        if len(parts) not in (2, 3) or "-" not in parts[0]:
            raise ValidationError(f"Line {n}: write the band as 'from-to rate [senior extra]', e.g. 7-45 4.50 0.50.")
        low, _, high = parts[0].partition("-")
        names = bands.fields
        rows.append(
            {names[0]: low, names[1]: high, "rate": parts[1], "senior_extra": parts[2] if len(parts) == 3 else "0"}
        )
    return rows


def rate_card_text(kind: str, card: list[ProductRate]) -> str:
    """The inverse of ``parse_rate_card_text`` (to pre-fill the form)."""
    bands = kinds.get(kind).bands
    if bands is None:
        return "\n".join(f"{r.rate}" for r in card)
    low, high = bands.fields
    lines = [f"{getattr(r, low)}-{getattr(r, high)} {r.rate} {r.senior_extra}" for r in card]
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
    bands = kinds.get(product.kind).bands
    if bands is None:
        return "none"
    low, high = bands.fields
    return ", ".join(f"{getattr(r, low)}–{getattr(r, high)} {bands.unit}" for r in card) or "none"


def is_senior(member: Member, on: date) -> bool:
    """Whether the member is a senior citizen on ``on`` (the members rule)."""
    return member_rules.is_senior_citizen(member, on)


# ---------------------------------------------------------------- product changes (maker-checker)


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
        entity=("deposit_product", product.id if product is not None else clean.get("code")),
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
        "settings": {"min_amount_paise": 1_000_00, "min_days": 7, "premature_penalty": "1.00"},
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


approvals.register(
    "deposits.product", label="Deposit product change", permission="products.approve", execute=_execute_product
)
