"""The read model of a member's profile, shared by the staff member page and the API.

``profile_view(member)`` gathers what either shows about a member besides the row itself:
the branch code, the share holding (account, shares, certificates) and the current KYC
documents (metadata only). Identity numbers appear only masked (``member.pan_masked``,
``member.aadhaar_masked``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.extensions import db
from app.models.members import KycDocument, Member
from app.models.users import Branch

from .kyc import current_documents
from .share_register import Holding, holding


@dataclass(frozen=True)
class MemberProfile:
    member: Member
    branch_code: str | None
    holding: Holding
    documents: list[KycDocument] = field(default_factory=list)

    @property
    def pan(self) -> str | None:
        return self.member.pan_masked or None

    @property
    def aadhaar(self) -> str | None:
        return self.member.aadhaar_masked or None


def branch_code(member: Member) -> str | None:
    if not member.branch_id:
        return None
    branch = db.session.get(Branch, member.branch_id)
    return branch.code if branch else None


def profile_view(member: Member) -> MemberProfile:
    """Everything a profile page or the API shows about ``member``."""
    return MemberProfile(
        member=member,
        branch_code=branch_code(member),
        holding=holding(member),
        documents=current_documents(member),
    )
