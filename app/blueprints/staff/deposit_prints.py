"""Staff screens: what a deposit clerk prints at opening — the FD receipt (certificate) and the
RD passbook with its instalment schedule — as a print view (the browser's print dialog) and a PDF.

Same mechanism as the ledger's printouts (``app.blueprints.printing.printed`` around a partial);
every figure comes from the deposits read model (``deposits.account_view``) and the deposits
service, never from the template.
"""

from __future__ import annotations

from typing import Any

from flask import abort

from app.blueprints import printing
from app.blueprints.staff import bp
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account
from app.models.users import Branch
from app.permissions import permission_required
from app.services import deposits
from app.services.deposits import fixed as fixed_deposits
from app.services.deposits import recurring as recurring_deposits


def _account_of_kind(account_no: str, kind: str) -> Account:
    account = deposits.get_account(account_no)
    if account.kind != kind:
        abort(404)
    return account


def _header(account: Account) -> dict[str, Any]:
    """What both printouts show at the top: the deposit's read model, holder, branch and nominee."""
    da = deposits.deposit_of(account)
    branch_id = account.branch_id or da.member.branch_id
    return {
        "account": account,
        "view": deposits.account_view(account),
        "da": da,
        "member": da.member,
        "holders": deposits.holders(account),
        "branch": db.session.get(Branch, branch_id) if branch_id else None,
        "printed_at": utcnow(),
    }


@bp.get("/staff/deposits/<account_no>/receipt.pdf", defaults={"fmt": "pdf"})
@bp.get("/staff/deposits/<account_no>/receipt", defaults={"fmt": "html"})
@permission_required("accounts.view")
def deposit_fd_receipt(account_no: str, fmt: str = "html"):
    """The fixed deposit receipt handed to the member at opening (print view or PDF)."""
    account = _account_of_kind(account_no, "fd")
    ctx = _header(account)
    view = ctx["view"]
    ctx["tenure"] = fixed_deposits.tenure_label(view.months or 0, view.days or 0)
    ctx["payout_label"] = fixed_deposits.PAYOUT_LABELS.get(view.payout or "", view.payout or "")
    ctx["schedule"] = fixed_deposits.schedule(ctx["da"])
    filename = f"fd-receipt-{account.account_no}.pdf"
    return printing.printed("staff/deposits/_fd_receipt.html", "Fixed deposit receipt", fmt, filename, **ctx)


@bp.get("/staff/deposits/<account_no>/rd-passbook.pdf", defaults={"fmt": "pdf"})
@bp.get("/staff/deposits/<account_no>/rd-passbook", defaults={"fmt": "html"})
@permission_required("accounts.view")
def deposit_rd_passbook(account_no: str, fmt: str = "html"):
    """The recurring deposit passbook printed at opening: header details and the instalment schedule."""
    account = _account_of_kind(account_no, "rd")
    ctx = _header(account)
    ctx["installments"] = recurring_deposits.installments(account)
    filename = f"rd-passbook-{account.account_no}.pdf"
    return printing.printed("staff/deposits/_rd_passbook.html", "Recurring deposit passbook", fmt, filename, **ctx)
