"""What the portal's dashboard, account list and profile show, read through ``access.scoping``.

Presentation-side assembly only: every row comes from the scoping service (the member's own
accounts, first or joint holder), the passbook and the loans face; nothing here decides who
may see what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from app import money
from app.models.members import Member, MemberLogin
from app.services import access, loans, members
from app.services.common import validators as v
from app.services.deposits import passbook, statements
from app.settings import setting

DEPOSIT_KINDS = ("savings", "fd", "rd")
FD_ALERT_DAYS = 30


def locale() -> str:
    return str(get_locale() or "en")


@dataclass
class Alert:
    level: str
    text: str
    url: str | None = None


@dataclass
class Dashboard:
    member: Member
    total_deposits_paise: int
    share_paise: int
    loan_outstanding_paise: int
    next_emi: Any | None
    recent: list
    alerts: list[Alert] = field(default_factory=list)
    accounts: list = field(default_factory=list)


def _today() -> date:
    return members.today()


def account_cards(login: MemberLogin) -> list[dict[str, Any]]:
    """The member's accounts with masked numbers, balance and status (open ones first)."""
    rows = access.visible_accounts(login)
    rows.sort(
        key=lambda a: (
            a.status == "closed",
            ("savings", "fd", "rd", "loan", "share").index(a.kind)
            if a.kind in ("savings", "fd", "rd", "loan", "share")
            else 9,
            a.id,
        )
    )
    return [
        {
            "account": a,
            "masked": statements.mask_account(a.account_no),
            "joint": a.member_id != login.member_id,
        }
        for a in rows
    ]


def kyc_alert(member: Member, today: date) -> Alert | None:
    if member.kyc_status != "approved":
        return Alert("warning", _("Your KYC is not complete. Please visit your branch with your documents."))
    window = int(setting("KYC_DUE_WINDOW_DAYS"))
    if member.rekyc_due_on and member.rekyc_due_on <= today + timedelta(days=window):
        return Alert(
            "warning",
            _(
                "Your KYC is due for renewal on %(date)s. Please visit your branch.",
                date=member.rekyc_due_on.strftime("%d-%m-%Y"),
            ),
        )
    return None


def dashboard(login: MemberLogin) -> Dashboard:
    member = access.own_member(login)
    today = _today()
    accounts = access.visible_accounts(login)
    deposits = [a for a in accounts if a.kind in DEPOSIT_KINDS and a.status != "closed"]
    view = Dashboard(
        member=member,
        total_deposits_paise=sum(a.balance_paise for a in deposits),
        share_paise=sum(a.balance_paise for a in accounts if a.kind == "share"),
        loan_outstanding_paise=sum(a.balance_paise for a in accounts if a.kind == "loan" and a.status != "closed"),
        next_emi=None,
        recent=[],
        accounts=account_cards(login),
    )
    if deposits:
        view.recent = passbook.transactions(deposits, page=1, per_page=5, newest_first=True).lines
    summaries = [
        loans.summary(loan)
        for loan in loans.member_loans(member)
        if loan.account_id and loan.status in ("disbursed", "active")
    ]
    due = [s for s in summaries if s.next_due_date]
    if due:
        view.next_emi = min(due, key=lambda s: s.next_due_date)
    for s in summaries:
        if s.overdue_paise:
            view.alerts.append(
                Alert(
                    "danger",
                    _(
                        "EMI overdue on %(no)s: %(amount)s.",
                        no=s.loan.loan_no,
                        amount=money.format_inr(s.overdue_paise),
                    ),
                    f"/portal/loans/{s.loan.loan_no}",
                )
            )
    alert = kyc_alert(member, today)
    if alert:
        view.alerts.append(alert)
    for a in deposits:
        if a.kind == "fd":
            summary = statements.deposit_summary(a)
            if (
                summary
                and summary.maturity_date
                and today <= summary.maturity_date <= today + timedelta(days=FD_ALERT_DAYS)
            ):
                view.alerts.append(
                    Alert(
                        "info",
                        _(
                            "Your fixed deposit %(no)s matures on %(date)s.",
                            no=statements.mask_account(a.account_no),
                            date=summary.maturity_date.strftime("%d-%m-%Y"),
                        ),
                        f"/portal/accounts/{a.account_no}",
                    )
                )
    return view


@dataclass
class Profile:
    member: Member
    mobile: str
    email: str | None
    nominees: list
    kyc_status: str
    kyc_due: date | None
    alert: Alert | None


def profile(login: MemberLogin) -> Profile:
    member = access.own_member(login)
    return Profile(
        member=member,
        mobile=v.mask_mobile(member.mobile),
        email=member.email,
        nominees=list(member.nominees),
        kyc_status=member.kyc_status,
        kyc_due=member.rekyc_due_on,
        alert=kyc_alert(member, _today()),
    )
