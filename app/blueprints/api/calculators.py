"""Public calculator endpoints: GET /api/v1/calculators/emi|fd|rd (DESIGN.md §9).

Input parsing and limits come from the service layer (``deposits.calculators``,
``loans.calculators``), shared with the HTML calculators; money goes out as
two-decimal strings, dates as ISO strings. Bad input → 422 problem+json with field errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, jsonify, request

from app.blueprints.api import bp
from app.errors import problem
from app.money import to_json
from app.permissions import public
from app.services.common import DomainError
from app.services.deposits import calculators as deposit_calc
from app.services.loans import calculators as loan_calc


def _invalid(errors: dict[str, list[str]]) -> Response:
    detail = " ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return problem(422, "Invalid input", detail, type_="validation-error", errors=errors)


def _run(parse: Callable[[Mapping[str, str]], deposit_calc.Parsed], compute: Callable[[Mapping[str, Any]], Any]) -> Any:
    """Parse the query string and compute, or return the 422 problem response."""
    parsed = parse(request.args)
    if parsed.errors:
        return _invalid(parsed.errors)
    try:
        return compute(parsed.values)
    except DomainError as exc:
        return _invalid(exc.errors or {"": [exc.message]})


@bp.get("/v1/calculators/emi")
@public
def calculator_emi():
    """EMI, totals and the reducing-balance schedule."""
    result = _run(loan_calc.parse_emi, loan_calc.compute_emi)
    if isinstance(result, Response):
        return result
    return jsonify(
        emi=to_json(result.emi_paise),
        total_interest=to_json(result.total_interest_paise),
        total_payment=to_json(result.total_payment_paise),
        schedule=[
            {
                "installment": row.installment,
                "due_date": row.due_date.isoformat(),
                "emi": to_json(row.emi_paise),
                "principal": to_json(row.principal_paise),
                "interest": to_json(row.interest_paise),
                "balance": to_json(row.balance_paise),
            }
            for row in result.rows
        ],
    )


@bp.get("/v1/calculators/fd")
@public
def calculator_fd():
    """Cumulative FD maturity amount, interest and date."""
    result = _run(deposit_calc.parse_fd, deposit_calc.compute_fd)
    if isinstance(result, Response):
        return result
    return jsonify(
        maturity_amount=to_json(result.maturity_paise),
        interest=to_json(result.interest_paise),
        maturity_date=result.maturity_date.isoformat(),
    )


@bp.get("/v1/calculators/rd")
@public
def calculator_rd():
    """RD maturity amount, total deposited and interest."""
    result = _run(deposit_calc.parse_rd, deposit_calc.compute_rd)
    if isinstance(result, Response):
        return result
    return jsonify(
        maturity_amount=to_json(result.maturity_paise),
        total_deposited=to_json(result.total_deposited_paise),
        interest=to_json(result.interest_paise),
    )
