"""Ledger hardening: snapshot verification, chart deletion guards, control accounts, back value dates,
one open business day, and retries that never repeat committed work."""

from datetime import date

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.audit import AuditLog
from app.models.calendar import BusinessDay
from app.models.ledger import Account, GLAccount, GLDailyBalance, JournalEntry
from app.services import ledger
from app.services.common import ValidationError, approvals, audit, uow
from app.services.ledger import Line, calendar, coa
from app.services.ledger import workflows as wf
from tests.conftest import BUSINESS_DATE, new_account

DAY2 = date(2026, 4, 2)


class _Orig(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"simulated {sqlstate}")
        self.sqlstate = sqlstate


def serialization_failure(sqlstate: str = "40001") -> OperationalError:
    return OperationalError("COMMIT", {}, _Orig(sqlstate))


def gl(code: str) -> GLAccount:
    return db.session.scalar(select(GLAccount).where(GLAccount.code == code))


@pytest.fixture
def staff(books, make_user):
    return {role: make_user(role) for role in ("accountant", "manager", "admin")}


# ---------------------------------------------------------------- 2. verify checks the day-end snapshots


def _two_days_with_snapshot():
    sb = new_account("savings", opening_paise=10_000)
    ledger.post([Line.dr(coa.VAULT_CASH, 2_500), Line.cr(sb, 2_500)], kind="deposit", narration="d1")
    uow.commit()
    ledger.close_day(BUSINESS_DATE)
    calendar.open_business_day(DAY2)
    uow.commit()
    ledger.post([Line.dr(coa.VAULT_CASH, 700), Line.cr(sb, 700)], kind="deposit", narration="d2")
    uow.commit()
    return sb


def test_verify_passes_when_snapshots_equal_the_lines(books):
    _two_days_with_snapshot()
    snap = db.session.scalar(
        select(GLDailyBalance).where(
            GLDailyBalance.business_date == BUSINESS_DATE, GLDailyBalance.gl_account_id == gl(coa.VAULT_CASH).id
        )
    )
    assert (snap.debit_total_paise, snap.credit_total_paise) == (12_500, 0)  # day 2's ₹7 not in it
    report = ledger.verify()
    assert report.ok, report.problems


def test_verify_reports_a_tampered_snapshot(runner, books):
    _two_days_with_snapshot()
    cash = gl(coa.VAULT_CASH)
    db.session.execute(
        update(GLDailyBalance)
        .where(GLDailyBalance.gl_account_id == cash.id, GLDailyBalance.business_date == BUSINESS_DATE)
        .values(debit_total_paise=99_999)
    )
    db.session.commit()
    report = ledger.verify()
    assert not report.ok
    assert any(
        "snapshot 2026-04-01 for GL 1101 holds debits 99999, credits 0" in p and "debits 12500, credits 0" in p
        for p in report.problems
    ), report.problems
    # The CLI says so too and exits 1.
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "snapshot 2026-04-01 for GL 1101" in result.output


def test_verify_reports_a_snapshot_row_that_is_missing(books):
    _two_days_with_snapshot()
    sb_gl = gl(coa.SB_DEPOSITS)
    db.session.execute(text("DELETE FROM gl_daily_balances WHERE gl_account_id = :g"), {"g": sb_gl.id})
    db.session.commit()
    report = ledger.verify()
    assert any("snapshot 2026-04-01 for GL 2101 has no row" in p for p in report.problems), report.problems


# ---------------------------------------------------------------- 5. chart deletion guards


def test_deleting_a_heading_with_children_is_refused_at_submission(staff):
    heading = gl("5000")
    with pytest.raises(ValidationError, match=r"cannot be deleted: .*account\(s\) under it"):
        wf.submit_gl_change("delete", {"gl_id": heading.id}, maker=staff["admin"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 0


@pytest.mark.parametrize("code", [coa.VAULT_CASH, coa.SUSPENSE, coa.EXP_CASH_SHORTAGE])
def test_deleting_a_system_account_without_postings_is_refused(staff, code):
    target = gl(code)
    with pytest.raises(ValidationError, match="system account"):
        wf.submit_gl_change("delete", {"gl_id": target.id}, maker=staff["admin"])
    db.session.rollback()
    assert gl(code) is not None


def test_deleting_a_gl_with_member_accounts_or_snapshots_is_refused(staff):
    # A new, non-system GL with no lines, but a snapshot row and (separately) a member account.
    req = wf.submit_gl_change(
        "create", {"code": "5291", "name": "Electricity", "type": "expense", "parent": "5000"}, maker=staff["admin"]
    )
    uow.commit()
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    new = gl("5291")
    db.session.add(
        GLDailyBalance(gl_account_id=new.id, business_date=BUSINESS_DATE, debit_total_paise=0, credit_total_paise=0)
    )
    db.session.commit()
    with pytest.raises(ValidationError, match=r"day-end snapshot row"):
        wf.submit_gl_change("delete", {"gl_id": new.id}, maker=staff["admin"])
    db.session.rollback()
    db.session.execute(text("DELETE FROM gl_daily_balances"))
    db.session.add(Account(account_no="X1", kind="savings", title="x", control_gl_id=new.id))
    db.session.commit()
    with pytest.raises(ValidationError, match=r"member account\(s\) sit under it"):
        wf.submit_gl_change("delete", {"gl_id": new.id}, maker=staff["admin"])


def test_deletion_is_checked_again_at_approval(staff):
    req = wf.submit_gl_change(
        "create",
        {"code": "5300", "name": "Utilities", "type": "expense", "parent": "5000", "is_group": True},
        maker=staff["admin"],
    )
    uow.commit()
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    heading = gl("5300")
    delete = wf.submit_gl_change("delete", {"gl_id": heading.id}, maker=staff["admin"])
    uow.commit()
    # Meanwhile a child account appears under the heading.
    db.session.add(GLAccount(code="5305", name="Water", type="expense", normal_side="debit", parent_id=heading.id))
    db.session.commit()
    with pytest.raises(ValidationError, match=r"account\(s\) under it"):
        approvals.approve(delete.id, checker=staff["manager"])
    db.session.rollback()
    assert gl("5300") is not None and gl("5305") is not None
    assert db.session.get(ApprovalRequest, delete.id).status == "pending"


# ---------------------------------------------------------------- 7. member accounts only under control GLs


def test_member_account_under_a_non_control_gl_is_refused(books):
    acc = Account(account_no="BAD1", kind="savings", title="misfiled", control_gl=gl(coa.SUNDRY_PAYABLE))
    db.session.add(acc)
    db.session.commit()
    with pytest.raises(ledger.NotAControlAccount, match="not a control account"):
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(acc, 100)], kind="deposit", narration="x")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0
    assert db.session.get(Account, acc.id).balance_paise == 0


# ---------------------------------------------------------------- 4. back value dates on vouchers

VOUCHER = [
    {"gl": "5202", "debit": 150000, "credit": 0},
    {"gl": coa.BANK_DCCB, "debit": 0, "credit": 150000},
]


def test_posting_service_refuses_a_back_value_date_without_allow_backdate(books):
    with pytest.raises(ledger.BackdateNotAllowed):
        ledger.post(
            [Line.dr("5202", 100), Line.cr(coa.BANK_DCCB, 100)],
            kind="journal",
            narration="x",
            options=ledger.PostOptions(
                value_date=date(2026, 3, 30),
            ),
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0


def test_back_valued_voucher_needs_the_permission(staff):
    with pytest.raises(ledger.BackdateNotAllowed) as refused:
        wf.submit_voucher(VOUCHER, narration="rent", maker=staff["accountant"], value_date=date(2026, 3, 30))
    assert "value_date" in refused.value.errors
    db.session.rollback()
    with pytest.raises(ValidationError, match="after the business date"):
        wf.submit_voucher(VOUCHER, narration="rent", maker=staff["manager"], value_date=date(2026, 4, 2))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 0
    # The business date itself is fine for anyone, and is not stored as a back value.
    same = wf.submit_voucher(VOUCHER, narration="rent", maker=staff["accountant"], value_date=BUSINESS_DATE)
    assert "value_date" not in same.payload


def test_back_valued_voucher_posts_with_its_value_date(staff):
    req = wf.submit_voucher(VOUCHER, narration="March rent", maker=staff["manager"], value_date=date(2026, 3, 30))
    uow.commit()
    approvals.approve(req.id, checker=staff["admin"])
    uow.commit()
    entry = db.session.scalar(select(JournalEntry))
    assert entry.value_date == date(2026, 3, 30) and entry.business_date == BUSINESS_DATE
    assert ledger.gl_balance("5202") == 150000


def test_back_value_is_rechecked_at_approval(staff):
    req = wf.submit_voucher(VOUCHER, narration="March rent", maker=staff["manager"], value_date=date(2026, 3, 30))
    uow.commit()
    staff["manager"].role = "accountant"  # lost the permission before approval
    db.session.commit()
    with pytest.raises(ledger.BackdateNotAllowed):
        approvals.approve(req.id, checker=staff["admin"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0


# ---------------------------------------------------------------- 8. one open business day in the database


def test_database_refuses_a_second_open_day_and_unknown_status(books):
    db.session.add(BusinessDay(business_date=DAY2, status="open"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(BusinessDay(business_date=DAY2, status="pending"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # Closing one and opening the next is fine.
    calendar.close_business_day(BUSINESS_DATE)
    calendar.open_business_day(DAY2)
    uow.commit()
    assert calendar.current_business_date() == DAY2


# ---------------------------------------------------------------- 1. close takes the day lock (service level)


def test_posting_after_close_is_refused_and_snapshot_matches(books):
    sb = new_account("savings", opening_paise=5_000)
    assert ledger.close_day(BUSINESS_DATE) > 0
    uow.commit()
    with pytest.raises(calendar.DayClosed):
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="late")
    db.session.rollback()
    assert ledger.verify().ok


# ---------------------------------------------------------------- 3. retries never repeat committed work


def test_uow_run_retries_a_failed_commit_of_the_work(books, monkeypatch):
    sb = new_account("savings")
    calls = []
    real_commit = db.session.commit

    def flaky_commit():
        if len(calls) == 1:
            raise serialization_failure()
        return real_commit()

    def work():
        calls.append(1)
        return ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="retried")

    monkeypatch.setattr(db.session, "commit", flaky_commit)
    uow.run(work)
    monkeypatch.undo()
    assert len(calls) == 2
    assert (
        db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.narration == "retried"))
        == 1
    )
    assert db.session.get(Account, sb.id).balance_paise == 100


def test_a_sealing_failure_after_commit_does_not_rerun_the_work(books, monkeypatch):
    sb = new_account("savings")
    calls = []

    def work():
        calls.append(1)
        return ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="once")

    def failing_seal(*args, **kwargs):
        raise serialization_failure()

    monkeypatch.setattr(audit, "seal_pending", failing_seal)
    entry = uow.run(work)
    uow.commit()  # a plain commit after a failed seal does not raise either
    monkeypatch.undo()
    assert len(calls) == 1
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 1
    assert db.session.get(JournalEntry, entry.id).narration == "once"
    assert db.session.get(Account, sb.id).balance_paise == 100
    unsealed = db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.hash.is_(None)))
    assert unsealed >= 1  # left for the next sealer
    assert audit.seal_pending() == unsealed and audit.verify().ok
