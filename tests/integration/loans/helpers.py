"""Builders for the loan tests: products, staff, a member with savings, a loan through the workflow."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.loans import Loan
from app.models.users import StaffUser
from app.services import deposits, loans
from app.services.access import staff_auth
from app.services.common import uow
from tests.conftest import PASSWORD
from tests.deposit_helpers import member, open_sb


def staff(role: str, username: str | None = None) -> StaffUser:
    name = username or f"loan_{role}"
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == name))
    if user is None:
        user = staff_auth.create_user(username=name, password=PASSWORD, role=role)
        uow.commit()
    return user


def setup_products() -> None:
    deposits.seed_products()
    loans.seed_products()
    uow.commit()


def borrower(sb_paise: int = 50_000_00, **kw):
    m = member(**kw)
    sb = open_sb(m, sb_paise)
    return m, sb


def applied(m, principal: int, months: int, *, product: str | None = None, rate_bp: int | None = None, **kw) -> Loan:
    loan = loans.apply(
        loans.Application(member_no=m.member_no, principal_paise=principal, months=months, product_code=product,
                          rate_bp=rate_bp, purpose="Test", **kw),
        by=staff("clerk"),
    )  # fmt: skip
    uow.commit()
    return loan


def sanctioned(m, principal: int, months: int, **kw) -> Loan:
    loan = applied(m, principal, months, **kw)
    loans.sanction(loan, by=staff("manager"), remarks="OK")
    uow.commit()
    return loan


def disbursed(m, sb, principal: int, months: int, **kw) -> Loan:
    loan = sanctioned(m, principal, months, **kw)
    loans.disburse(loan, by=staff("clerk"), to_account_no=sb.account_no)
    uow.commit()
    return loan


def rows_of(loan: Loan):
    db.session.expire_all()
    return loans.schedule.rows(loan)


def d(y: int, m: int, day: int) -> date:
    return date(y, m, day)
