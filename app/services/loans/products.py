"""Loan products: terms, limits, dated rate cards; changes go through maker-checker.

A product change (create or update) is submitted as an approval request of kind
``loans.product``; another user holding ``products.approve`` carries it out
(``apply_product_change``), which is audited. The rate card is dated: a new rate inserts a
row from its effective date and the history is kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.ledger import GLAccount
from app.models.loans import (
    FREQUENCIES,
    INTEREST_TYPES,
    LOAN_KINDS,
    PENAL_MODES,
    SECURITY_TYPES,
    LoanProduct,
    LoanProductRate,
    rate_of,
)
from app.models.users import StaffUser
from app.money import format_inr
from app.services.common import NotFound, ValidationError, approvals, audit
from app.services.ledger import calendar, coa

APPROVAL_KIND = "loans.product"
ACTIONS = ("create", "update")
CONTROL_GL = {
    "personal": coa.LOANS_PERSONAL,
    "gold": coa.LOANS_GOLD,
    "agri": coa.LOANS_AGRI,
    "housing": coa.LOANS_HOUSING,
    "vehicle": coa.LOANS_VEHICLE,
    "deposit": coa.LOANS_AGAINST_DEPOSIT,
    "business": coa.LOANS_BUSINESS,
}
INT_FIELDS = (
    "min_rate_bp", "max_rate_bp", "min_amount_paise", "max_amount_paise", "min_months", "max_months",
    "processing_fee_bp", "gst_bp", "penal_rate_bp", "penal_fixed_paise", "grace_days", "max_ltv_bp",
    "share_link_bp", "foreclosure_charge_bp",
)  # fmt: skip
CHOICE_FIELDS = {
    "kind": LOAN_KINDS,
    "interest_type": INTEREST_TYPES,
    "frequency": tuple(FREQUENCIES),
    "penal_mode": PENAL_MODES,
    "security_type": SECURITY_TYPES,
}
# Sanction authority by default: a manager up to ₹5 lakh, above that the admin (committee).
DEFAULT_SANCTION_LIMITS = {"manager": 5_00_000_00, "admin": None}
# Guarantors by amount band: [up to paise (None = above), guarantors needed].
DEFAULT_GUARANTOR_BANDS = [[2_00_000_00, 0], [10_00_000_00, 1], [None, 2]]


def _int(payload: dict[str, Any], name: str, default: int | None = None) -> int:
    value = payload.get(name, default)
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"{name.replace('_', ' ')}: a whole number is required.", field=name)
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ValidationError(f"{name.replace('_', ' ')}: a whole number is required.", field=name) from exc
    if number < 0:
        raise ValidationError(f"{name.replace('_', ' ')} cannot be negative.", field=name)
    return number


def normalize(payload: dict[str, Any], *, existing: LoanProduct | None = None) -> dict[str, Any]:
    """A product payload checked and with defaults filled in (ValidationError on anything wrong)."""
    base = _snapshot(existing) if existing is not None else {}
    data = {**base, **{k: v for k, v in payload.items() if v is not None}}
    code = str(data.get("code") or "").strip().upper()
    if not code.isalnum() or not 1 <= len(code) <= 12:
        raise ValidationError("Code: 1 to 12 letters or digits.", field="code")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationError("Give the product a name.", field="name")
    out: dict[str, Any] = {"code": code, "name": name[:120], "prefix": str(data.get("prefix") or code[:4]).upper()[:4]}
    for field, choices in CHOICE_FIELDS.items():
        value = data.get(field) or {"interest_type": "reducing", "frequency": "monthly"}.get(field)
        value = value or {"penal_mode": "percent", "security_type": "none"}.get(field)
        if value not in choices:
            raise ValidationError(f"{field.replace('_', ' ')}: one of {', '.join(choices)}.", field=field)
        out[field] = value
    defaults = {"processing_fee_bp": 0, "gst_bp": 1800, "penal_rate_bp": 200, "penal_fixed_paise": 0,
                "grace_days": 0, "max_ltv_bp": 7500, "share_link_bp": 500, "foreclosure_charge_bp": 0}  # fmt: skip
    for field in INT_FIELDS:
        out[field] = _int(data, field, defaults.get(field))
    _check_ranges(out)
    out["floating_rate"] = bool(data.get("floating_rate", True))
    out["is_default"] = bool(data.get("is_default", False))
    out["active"] = bool(data.get("active", True))
    out["description"] = (str(data.get("description") or "").strip() or None) and str(data["description"])[:255]
    settings = dict(data.get("settings") or {})
    settings.setdefault("sanction_limits", DEFAULT_SANCTION_LIMITS)
    settings.setdefault("guarantor_bands", DEFAULT_GUARANTOR_BANDS)
    out["settings"] = settings
    out["rate_bp"] = _int(data, "rate_bp", out["min_rate_bp"])
    if not out["min_rate_bp"] <= out["rate_bp"] <= out["max_rate_bp"]:
        raise ValidationError("The standard rate must lie inside the rate range.", field="rate_bp")
    return out


def _check_ranges(out: dict[str, Any]) -> None:
    if out["max_rate_bp"] < out["min_rate_bp"] or out["max_rate_bp"] > 3600:
        raise ValidationError(
            "Rate range: the highest rate must be at least the lowest and at most 36%.", field="max_rate_bp"
        )
    if out["min_amount_paise"] <= 0 or out["max_amount_paise"] < out["min_amount_paise"]:
        raise ValidationError(
            "Amount range: the smallest loan must be above zero and not above the largest.", field="min_amount_paise"
        )
    if out["min_months"] <= 0 or out["max_months"] < out["min_months"] or out["max_months"] > 360:
        raise ValidationError("Tenure: 1 to 360 months, the shortest not above the longest.", field="min_months")
    step = FREQUENCIES[out["frequency"]]
    if out["min_months"] % step or out["max_months"] % step:
        raise ValidationError(
            f"Tenures of a {out['frequency'].replace('_', '-')} product are multiples of {step} months.",
            field="min_months",
        )
    if out["max_ltv_bp"] > 10000 or out["share_link_bp"] > 10000:
        raise ValidationError("LTV and share linkage are at most 100%.", field="max_ltv_bp")


def _snapshot(product: LoanProduct) -> dict[str, Any]:
    data = {f: getattr(product, f) for f in ("code", "name", "prefix", *CHOICE_FIELDS, *INT_FIELDS)}
    data.update(
        floating_rate=product.floating_rate, is_default=product.is_default, active=product.active,
        description=product.description, settings=dict(product.settings or {}),
        rate_bp=current_rate_bp(product, calendar.business_date_or_today()),
    )  # fmt: skip
    return data


def products(*, active_only: bool = False) -> list[LoanProduct]:
    stmt = select(LoanProduct).order_by(LoanProduct.code)
    if active_only:
        stmt = stmt.where(LoanProduct.active.is_(True))
    return list(db.session.scalars(stmt))


def get_product(code: str | None) -> LoanProduct:
    """The product with this code, or the default product when ``code`` is blank."""
    text = (code or "").strip().upper()
    if not text:
        product = db.session.scalar(
            select(LoanProduct).where(LoanProduct.is_default.is_(True), LoanProduct.active.is_(True))
        )
        if product is None:
            raise NotFound("There is no default loan product; give product_code.", field="product_code")
        return product
    product = db.session.scalar(select(LoanProduct).where(LoanProduct.code == text))
    if product is None:
        raise NotFound(f"No loan product {text}.", field="product_code")
    return product


def current_rate_bp(product: LoanProduct, on: date) -> int:
    """The product's standard rate on ``on`` (the latest card from on or before it)."""
    rate = db.session.scalar(
        select(LoanProductRate.rate_bp)
        .where(LoanProductRate.product_id == product.id, LoanProductRate.effective_from <= on)
        .order_by(LoanProductRate.effective_from.desc(), LoanProductRate.id.desc())
        .limit(1)
    )
    return int(rate if rate is not None else product.min_rate_bp)


def sanction_limit(product: LoanProduct, role: str) -> tuple[bool, int | None]:
    """(may sanction at all, up to paise or None for no limit) for a role under this product."""
    limits = product.setting("sanction_limits", DEFAULT_SANCTION_LIMITS) or {}
    if role not in limits:
        return False, None
    value = limits[role]
    return True, None if value is None else int(value)


def guarantors_required(product: LoanProduct, amount_paise: int) -> int:
    """How many guarantors a loan of ``amount_paise`` under this product needs."""
    for upto, count in product.setting("guarantor_bands", DEFAULT_GUARANTOR_BANDS) or []:
        if upto is None or amount_paise <= int(upto):
            return int(count)
    return 0


def _control_gl(kind: str) -> GLAccount:
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == CONTROL_GL[kind]))
    if gl is None:
        raise ValidationError("The chart of accounts has no loans GL for this kind; run flask ledger seed-coa.")
    return gl


def apply_product_change(action: str, payload: dict[str, Any], *, approval_id: int | None = None) -> LoanProduct:
    """Create or update a product from a normalised payload (what an approved change runs)."""
    if action not in ACTIONS:
        raise ValidationError(f"Unknown product action {action!r}.")
    existing = db.session.scalar(select(LoanProduct).where(LoanProduct.code == str(payload.get("code", "")).upper()))
    if action == "create" and existing is not None:
        raise ValidationError(f"Product {existing.code} already exists.", field="code")
    if action == "update" and existing is None:
        raise NotFound(f"No loan product {payload.get('code')}.")
    data = normalize(payload, existing=existing)
    before = _snapshot(existing) if existing is not None else None
    product = existing or LoanProduct(code=data["code"], control_gl_id=_control_gl(data["kind"]).id)
    rate_bp = data.pop("rate_bp")
    for key, value in data.items():
        setattr(product, key, value)
    product.updated_at = utcnow()
    if product.is_default:
        for other in products():
            if other is not product:
                other.is_default = False
    db.session.add(product)
    db.session.flush()
    on = calendar.business_date_or_today()
    if before is None or before.get("rate_bp") != rate_bp:
        db.session.add(
            LoanProductRate(product_id=product.id, effective_from=on, rate_bp=rate_bp, approval_id=approval_id)
        )
    db.session.flush()
    audit.record(
        f"loans.product.{action}", "loan_product", product.code, before=before, after={**data, "rate_bp": rate_bp}
    )
    return product


def submit_product_change(action: str, payload: dict[str, Any], *, maker: StaffUser) -> ApprovalRequest:
    """Queue a product change for a checker (validated now, carried out on approval)."""
    existing = None
    if action == "update":
        existing = get_product(str(payload.get("code") or "") or "?")
    data = normalize(payload, existing=existing)
    if action == "create" and db.session.scalar(select(LoanProduct.id).where(LoanProduct.code == data["code"])):
        raise ValidationError(f"Product {data['code']} already exists.", field="code")
    return approvals.submit(
        APPROVAL_KIND,
        {"action": action, "product": data},
        maker=maker,
        summary=f"Loan product {action}: {data['code']} {data['name']} "
        f"({rate_of(data['min_rate_bp'])}–{rate_of(data['max_rate_bp'])}%, up to {format_inr(data['max_amount_paise'])})",
        entity=("loan_product", data["code"]),
    )


def pending_changes() -> list[ApprovalRequest]:
    return approvals.pending(APPROVAL_KIND)


def _execute(req: ApprovalRequest, checker: StaffUser) -> dict:
    product = apply_product_change(req.payload["action"], req.payload["product"], approval_id=req.id)
    return {"code": product.code}


approvals.register(APPROVAL_KIND, label="Loan product change", permission="products.approve", execute=_execute)


DEFAULT_PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "PL", "name": "Personal loan", "kind": "personal", "prefix": "PL", "is_default": True,
        "min_rate_bp": 1100, "max_rate_bp": 1600, "rate_bp": 1200, "min_amount_paise": 10_000_00,
        "max_amount_paise": 10_00_000_00, "min_months": 6, "max_months": 84, "processing_fee_bp": 100,
        "penal_rate_bp": 200, "grace_days": 3, "security_type": "none",
        "description": "General-purpose personal loan; no guarantor up to ₹2 lakh",
    },
    {
        "code": "GL", "name": "Gold loan", "kind": "gold", "prefix": "GL", "min_rate_bp": 900,
        "max_rate_bp": 1200, "rate_bp": 950, "min_amount_paise": 5_000_00, "max_amount_paise": 25_00_000_00,
        "min_months": 3, "max_months": 36, "processing_fee_bp": 50, "penal_rate_bp": 200, "grace_days": 7,
        "security_type": "gold", "max_ltv_bp": 7500,
        "settings": {"guarantor_bands": [[None, 0]]},
    },
    {
        "code": "LAD", "name": "Loan against deposit", "kind": "deposit", "prefix": "LD", "min_rate_bp": 800,
        "max_rate_bp": 1100, "rate_bp": 900, "min_amount_paise": 1_000_00, "max_amount_paise": 50_00_000_00,
        "min_months": 1, "max_months": 60, "processing_fee_bp": 0, "penal_rate_bp": 200, "grace_days": 7,
        "security_type": "deposit", "settings": {"guarantor_bands": [[None, 0]]},
    },
    {
        "code": "KCC", "name": "Crop loan (quarterly)", "kind": "agri", "prefix": "AG", "min_rate_bp": 700,
        "max_rate_bp": 1000, "rate_bp": 700, "min_amount_paise": 10_000_00, "max_amount_paise": 3_00_000_00,
        "min_months": 3, "max_months": 36, "frequency": "quarterly", "processing_fee_bp": 0, "gst_bp": 0,
        "penal_rate_bp": 200, "grace_days": 15, "security_type": "none",
    },
    {
        "code": "HL", "name": "Housing loan (tranches)", "kind": "housing", "prefix": "HL", "min_rate_bp": 850,
        "max_rate_bp": 1100, "rate_bp": 900, "min_amount_paise": 2_00_000_00, "max_amount_paise": 75_00_000_00,
        "min_months": 60, "max_months": 240, "processing_fee_bp": 50, "penal_rate_bp": 200, "grace_days": 7,
        "security_type": "property", "settings": {"tranches": True},
        "description": "Released in tranches as construction progresses",
    },
    {
        "code": "VEH", "name": "Vehicle loan", "kind": "vehicle", "prefix": "VH", "min_rate_bp": 950,
        "max_rate_bp": 1300, "rate_bp": 1050, "min_amount_paise": 50_000_00, "max_amount_paise": 15_00_000_00,
        "min_months": 12, "max_months": 84, "processing_fee_bp": 50, "penal_rate_bp": 200, "grace_days": 5,
        "security_type": "vehicle", "description": "Hypothecation of the vehicle bought",
    },
    {
        "code": "BUS", "name": "Business loan", "kind": "business", "prefix": "BU", "min_rate_bp": 1150,
        "max_rate_bp": 1500, "rate_bp": 1250, "min_amount_paise": 25_000_00, "max_amount_paise": 25_00_000_00,
        "min_months": 12, "max_months": 60, "processing_fee_bp": 100, "penal_rate_bp": 200, "grace_days": 3,
        "security_type": "none", "description": "Working capital and equipment for members' businesses",
    },
]  # fmt: skip


def seed_products() -> int:
    """Create the default products where missing (demo seed and tests); returns how many were made."""
    made = 0
    for spec in DEFAULT_PRODUCTS:
        if db.session.scalar(select(LoanProduct.id).where(LoanProduct.code == spec["code"])) is None:
            apply_product_change("create", spec)
            made += 1
    return made
