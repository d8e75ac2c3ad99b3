"""Public EMI, FD and RD calculators (mobile-first, HTMX with a no-JS fallback).

Input parsing and limits live in the service layer (``deposits.calculators``,
``loans.calculators``), shared with the JSON API, so a value the page refuses is refused by
the API with the same message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, request

from app.permissions import public
from app.services.common import DomainError
from app.services.deposits import calculators as deposit_calc
from app.services.loans import calculators as loan_calc
from app.web import is_htmx, render

Parsed = deposit_calc.Parsed

bp = Blueprint("calculators", __name__)
PAYOUTS = deposit_calc.PAYOUTS


def _page(
    kind: str, parse: Callable[[Mapping[str, str]], Parsed], compute: Callable[[Mapping[str, Any]], Any], **extra
):
    args = request.args
    submitted = any(args.get(k) for k in ("principal", "installment", "annual_rate", "months", "days"))
    parsed = parse(args) if submitted else Parsed()
    result = None
    if submitted and not parsed.errors:
        try:
            result = compute(parsed.values)
        except DomainError as exc:
            for name, messages in (exc.errors or {"": [exc.message]}).items():
                for message in messages:
                    parsed.add(name or "principal", message)
    context = {
        "form": args,
        "errors": parsed.errors,
        "values": parsed.values,
        "result": result,
        "submitted": submitted,
        "oob": is_htmx(),
        **extra,
    }
    if kind == "fd" and result is not None:
        context["payouts"] = deposit_calc.fd_payouts(parsed.values)
    status = 422 if parsed.errors and not is_htmx() else 200
    return render(f"calculators/{kind}.html", f"calculators/_{kind}_result.html", status=status, **context)


@bp.get("/")
@public
def index():
    """The list of calculators."""
    return render("calculators/index.html")


@bp.get("/emi")
@public
def emi():
    """Loan EMI and repayment schedule."""
    return _page("emi", loan_calc.parse_emi, loan_calc.compute_emi)


@bp.get("/fd")
@public
def fd():
    """Fixed deposit maturity (cumulative or with periodic payouts)."""
    return _page(
        "fd",
        deposit_calc.parse_fd_page,
        deposit_calc.compute_fd,
        payouts=None,
        payout_choices=PAYOUTS,
        days_hint=deposit_calc.fd_tenure_hint(),
    )


@bp.get("/rd")
@public
def rd():
    """Recurring deposit maturity."""
    return _page("rd", deposit_calc.parse_rd, deposit_calc.compute_rd, months_hint=deposit_calc.rd_tenure_hint())
