"""The API's JSON shapes of the shared read models (``members.profile_view``,
``deposits.account_view``, passbook lines). Money as strings ("1234.50"), dates ISO."""

from __future__ import annotations

from typing import Any

from app.models.ledger import Account
from app.models.members import KycDocument, Member
from app.money import to_json
from app.services import deposits, members
from app.services.deposits import passbook


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _money(paise: int | None) -> str | None:
    return to_json(paise) if paise is not None else None


def document_json(doc: KycDocument) -> dict[str, Any]:
    """A KYC document's metadata (never its content)."""
    return {
        "id": doc.id,
        "doc_type": doc.doc_type,
        "status": doc.status,
        "content_type": doc.content_type,
        "size_bytes": doc.size_bytes,
        "sha256": doc.sha256,
        "uploaded_at": _iso(doc.uploaded_at),
        "rejection_reason": doc.rejection_reason,
    }


def member_json(member: Member) -> dict[str, Any]:
    """A member as the API shows it: Aadhaar and PAN only masked."""
    profile = members.profile_view(member)
    held = profile.holding
    return {
        "member_no": member.member_no,
        "name": member.name,
        "father_or_spouse_name": member.father_or_spouse_name,
        "date_of_birth": _iso(member.date_of_birth),
        "gender": member.gender,
        "mobile": member.mobile,
        "email": member.email,
        "address": {
            "line1": member.address_line,
            "city": member.village_town,
            "district": member.district,
            "state": member.state,
            "pin": member.pin,
        },
        "occupation": member.occupation,
        "member_type": member.member_type,
        "branch": profile.branch_code,
        "status": member.status,
        "kyc_status": member.kyc_status,
        "kyc_risk": member.kyc_risk,
        "rekyc_due_on": _iso(member.rekyc_due_on),
        "joined_on": _iso(member.joined_on),
        "pan": profile.pan,
        "aadhaar": profile.aadhaar,
        "form60_on_file": bool(member.form60_on_file),
        "guardian": {"name": member.guardian_name, "relation": member.guardian_relation}
        if member.guardian_name
        else None,
        "nominees": [
            {
                "name": n.name,
                "relationship": n.relationship_,
                "date_of_birth": _iso(n.date_of_birth),
                "share_percent": f"{n.share_bp // 100}.{n.share_bp % 100:02d}",
                "guardian_name": n.guardian_name,
            }
            for n in member.nominees
        ],
        "shares": {
            "account_no": held.account.account_no if held.account else None,
            "shares": held.shares,
            "amount": to_json(held.amount_paise),
            "certificates": [
                {
                    "certificate_no": c.certificate_no,
                    "first_share_no": c.first_share_no,
                    "last_share_no": c.last_share_no,
                    "shares": c.shares,
                    "status": c.status,
                }
                for c in held.certificates
            ],
        },
        "documents": [document_json(d) for d in profile.documents],
    }


def account_json(account: Account) -> dict[str, Any]:
    """The API shape of a deposit account."""
    view = deposits.account_view(account)
    out: dict[str, Any] = {
        "account_no": view.account_no,
        "type": view.kind,
        "status": view.status,
        "status_reason": view.status_reason,
        "balance": to_json(view.balance_paise),
        "member_no": view.member_no,
        "product_code": view.product_code,
        "product_name": view.product_name,
        "opened_on": _iso(view.opened_on),
        "closed_on": _iso(view.closed_on),
        "joint_holders": view.joint_holders,
        "interest_rate": str(view.interest_rate),
    }
    if view.kind == "savings":
        out["minimum_balance"] = _money(view.minimum_balance_paise)
        out["available_balance"] = _money(view.available_balance_paise)
        return out
    out.update(
        start_date=_iso(view.start_date),
        maturity_date=_iso(view.maturity_date),
        months=view.months,
        payout_account=view.payout_account,
        maturity_amount=_money(view.maturity_paise),
    )
    if view.kind == "fd":
        out.update(
            principal=_money(view.principal_paise),
            days=view.days,
            payout=view.payout,
            maturity_action=view.maturity_action,
        )
    else:
        out.update(
            installment=_money(view.installment_paise),
            installments_paid=view.installments_paid,
            installments_total=view.installments_total,
            si_account=view.si_account,
        )
    return out


def line_json(ln: passbook.StatementLine) -> dict[str, Any]:
    """One passbook line with its running balance."""
    return {
        "entry_no": ln.entry_no,
        "date": ln.business_date.isoformat(),
        "value_date": ln.value_date.isoformat(),
        "account_no": ln.account_no,
        "narration": ln.narration,
        "mode": ln.mode,
        "kind": ln.kind,
        "channel": ln.channel,
        "debit": to_json(ln.debit_paise),
        "credit": to_json(ln.credit_paise),
        "balance": to_json(ln.balance_paise),
    }
