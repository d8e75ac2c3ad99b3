"""The read model of a deposit account, shared by staff account pages and the API.

``account_view(account)`` reads what either shows about a savings, fixed or recurring
deposit: holders, product, the rate in force, the savings floor and what may be withdrawn,
and for FD / RD the tenure, the maturity figures and the instalments. Amounts are integer
paise; the API turns them into money strings, the pages format them in en_IN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.models.deposits import rate_of
from app.models.ledger import Account
from app.services.ledger import calendar

from . import fixed, recurring
from .accounts import deposit_of, holders, savings_floor
from .catalogue import savings_rate_bp


@dataclass(frozen=True)
class AccountView:
    account_no: str
    kind: str
    status: str
    status_reason: str | None
    balance_paise: int
    interest_rate: Decimal
    member_no: str
    product_code: str
    product_name: str
    opened_on: date | None
    closed_on: date | None
    joint_holders: list[str] = field(default_factory=list)
    # savings
    minimum_balance_paise: int | None = None
    available_balance_paise: int | None = None
    # FD and RD
    start_date: date | None = None
    maturity_date: date | None = None
    months: int | None = None
    payout_account: str | None = None
    maturity_paise: int | None = None
    # FD
    principal_paise: int | None = None
    days: int | None = None
    payout: str | None = None
    maturity_action: str | None = None
    # RD
    installment_paise: int | None = None
    installments_paid: int | None = None
    installments_total: int | None = None
    si_account: str | None = None


def account_view(account: Account) -> AccountView:
    """Everything an account page or the API shows about a deposit account."""
    da = deposit_of(account)
    product = da.product
    base = {
        "account_no": account.account_no,
        "kind": account.kind,
        "status": account.status,
        "status_reason": account.status_reason,
        "balance_paise": account.balance_paise,
        "member_no": da.member.member_no,
        "product_code": product.code,
        "product_name": product.name,
        "opened_on": account.opened_on,
        "closed_on": account.closed_on,
        "joint_holders": [m.member_no for m in holders(account)],
    }
    if account.kind == "savings":
        on = account.closed_on or calendar.business_date_or_none() or account.opened_on
        floor = savings_floor(account)
        return AccountView(
            **base,
            interest_rate=rate_of(savings_rate_bp(product, on)),
            minimum_balance_paise=floor,
            available_balance_paise=max(account.balance_paise - floor, 0),
        )
    term = {
        "interest_rate": da.rate,
        "start_date": da.start_date,
        "maturity_date": da.maturity_date,
        "months": da.months,
        "payout_account": da.payout_account.account_no if da.payout_account else None,
    }
    if account.kind == "fd":
        value = fixed.maturity_value(da)
        return AccountView(
            **base,
            **term,
            principal_paise=da.principal_paise,
            days=da.days,
            payout=da.payout,
            maturity_action=da.maturity_action,
            maturity_paise=value.maturity_paise,
        )
    rows = recurring.installments(account)
    quote = recurring.maturity_quote(account, da)
    return AccountView(
        **base,
        **term,
        installment_paise=int(da.installment_paise or 0),
        installments_paid=sum(1 for r in rows if r.status == "paid"),
        installments_total=len(rows),
        maturity_paise=quote.payout_paise,
        si_account=da.si_account.account_no if da.si_account else None,
    )
