"""All models, imported here so that Alembic and the app see every table."""

from app.models.api import IdempotencyRecord, RefreshToken
from app.models.approvals import ApprovalRequest
from app.models.audit import AuditLog
from app.models.calendar import BusinessDay
from app.models.deposits import DepositAccount, DepositProduct  # noqa: F401  (all deposit tables)
from app.models.eod import EodChunk, EodRun, EodStepRun, Holiday  # noqa: F401
from app.models.ledger import Account, GLAccount, GLDailyBalance, JournalEntry, JournalLine
from app.models.loans import Loan, LoanProduct  # noqa: F401  (all loan tables)
from app.models.members import (
    KycDocument,
    Member,
    MemberLogin,
    MemberStatusChange,
    Nominee,
    Notification,
    ShareCertificate,
)
from app.models.numbering import Counter
from app.models.payments import Beneficiary, Payment, PaymentEvent, Payout  # noqa: F401
from app.models.portal import MemberPreference, MemberSession, StatementFile  # noqa: F401
from app.models.reports import DividendLine, YearEndRun  # noqa: F401
from app.models.users import ROLES, Branch, RecoveryCode, StaffUser

__all__ = [
    "ROLES",
    "Account",
    "ApprovalRequest",
    "AuditLog",
    "Branch",
    "BusinessDay",
    "Counter",
    "GLAccount",
    "GLDailyBalance",
    "IdempotencyRecord",
    "JournalEntry",
    "JournalLine",
    "KycDocument",
    "Member",
    "MemberLogin",
    "MemberStatusChange",
    "Nominee",
    "Notification",
    "RecoveryCode",
    "RefreshToken",
    "ShareCertificate",
    "StaffUser",
]
