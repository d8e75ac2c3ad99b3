"""Day-end dates, frozen payout accounts, per-account isolation, TDS never above the credit,
cash at opening / closure through the counter, single-RD maturity on closure, approved large
withdrawals and transfers under the form's key, and premature closure of payout FDs."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.deposits import DepositAccount, SbDailyProduct, TdsDeduction
from app.models.ledger import Account, JournalEntry
from app.models.teller import CashTransaction
from app.services import deposits, ledger
from app.services.common import ValidationError, approvals, uow
from app.services.counter import teller, transfers
from app.services.deposits import OpenRequest, savings, tds
from app.services.deposits import fixed as fixed_deposits
from app.services.deposits import recurring as recurring_deposits
from app.services.ledger import coa
from tests.deposit_helpers import (
    F60,
    cashier,
    entries_since,
    last_entry_id,
    lines_of,
    member,
    move_to,
    open_sb,
)
from tests.teller_helpers import fund_vault, member_account


def _open(m, **kw) -> Account:
    acc = deposits.open_account(OpenRequest(member_no=m.member_no, form60_ref=F60, **kw), by=cashier())
    uow.commit()
    return acc


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def _freeze(account: Account, reason: str = "Court order") -> None:
    account.status = "frozen"
    account.status_reason = reason
    uow.commit()


# ---------------------------------------------------------------- 1. no day-end step for a future date


def test_day_end_steps_refuse_dates_after_the_business_date(deposit_products):
    m = member()
    sb = open_sb(m, 10_000_00)
    fd = _open(m, kind="fd", amount_paise=10_000_00, days=30)
    _open(m, kind="fd", amount_paise=10_000_00, months=12, payout="monthly")
    before = _entries()
    for step in (
        lambda: deposits.run_maturities(date(2035, 1, 1)),
        lambda: fixed_deposits.mature(date(2035, 1, 1)),
        lambda: fixed_deposits.pay_due_payouts(date(2030, 1, 1)),
        lambda: recurring_deposits.mature(date(2035, 1, 1)),
        lambda: recurring_deposits.run_standing_instructions(date(2035, 1, 1)),
        lambda: recurring_deposits.mark_overdue(date(2035, 1, 1)),
        lambda: deposits.accrue_month_end(date(2026, 4, 30)),
        lambda: savings.accumulate_until(date(2030, 1, 1)),
        lambda: savings.credit_interest(date(2026, 6, 30)),
    ):
        with pytest.raises(ValidationError, match=r"after the open business date|has not ended yet"):
            step()
        db.session.rollback()
    db.session.expire_all()
    assert _entries() == before
    assert fd.status == "active" and deposits.deposit_of(fd).matured_on is None
    daily = db.session.get(SbDailyProduct, sb.id)
    assert (daily.product_paise, daily.last_product_date) == (0, date(2026, 3, 31))  # nothing added


def test_cli_refuses_future_dates(deposit_products, app):
    m = member()
    sb = open_sb(m, 10_000_00)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deposits", "accumulate", "--date", "2030-01-01"])
    assert result.exit_code != 0 and "after the open business date" in result.output
    result = runner.invoke(args=["deposits", "mature", "--date", "2035-01-01"])
    assert result.exit_code != 0 and "after the open business date" in result.output
    db.session.expire_all()
    assert db.session.get(SbDailyProduct, sb.id).product_paise == 0
    result = runner.invoke(args=["deposits", "accumulate", "--date", "2026-04-01"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(SbDailyProduct, sb.id).product_paise == 10_000_00


# ---------------------------------------------------------------- 2. frozen payout account, isolation


def test_frozen_payout_savings_holds_that_deposit_and_the_rest_mature(deposit_products):
    a, b = member(), member()
    sb_a, sb_b = open_sb(a, 1_000_00), open_sb(b, 1_000_00)
    fd_a = _open(a, kind="fd", amount_paise=10_000_00, days=30)  # 4.50 %, matures 01-05-2026
    rd_a = _open(a, kind="rd", installment_paise=1_000_00, months=6)  # matures 01-10-2026
    fd_b = _open(b, kind="fd", amount_paise=10_000_00, days=30)
    _freeze(sb_a)
    move_to(date(2026, 5, 1))
    result = deposits.run_maturities(date(2026, 5, 1))
    uow.commit()
    db.session.expire_all()
    assert result["fd_matured"] == 2 and result["failed"] == []
    # A: interest 10,000 × 4.5 × 30 / 36500 = 36.99 → ₹37 credited to the FD, which is held.
    da_a = deposits.deposit_of(fd_a)
    assert (fd_a.status, fd_a.balance_paise, da_a.matured_on) == ("active", 10_037_00, date(2026, 5, 1))
    assert sb_a.balance_paise == 1_000_00
    held = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "fd.matured_held", AuditLog.entity_id == fd_a.account_no)
    )
    assert held.after["reason"] == f"savings account {sb_a.account_no} is frozen"
    # B is paid out as usual.
    assert (fd_b.status, sb_b.balance_paise) == ("closed", 1_000_00 + 10_037_00)
    # The RD of A is held too at its maturity (6 × ₹1,000 — only the first paid: interest on one).
    move_to(date(2026, 10, 1))
    deposits.run_maturities(date(2026, 10, 1))
    uow.commit()
    db.session.expire_all()
    da_rd = deposits.deposit_of(rd_a)
    assert rd_a.status == "active" and da_rd.matured_on == date(2026, 10, 1) and sb_a.balance_paise == 1_000_00
    # Staff pay the held FD out to another account once the member asks.
    sb_a2 = open_sb(a, 500_00)
    deposits.close_account(fd_a, mode="transfer", to_account_no=sb_a2.account_no)
    uow.commit()
    db.session.expire_all()
    assert fd_a.status == "closed" and sb_a2.balance_paise == 500_00 + 10_037_00
    assert ledger.verify().ok


def test_payouts_into_a_frozen_savings_are_held_until_it_is_unfrozen(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    fd = _open(m, kind="fd", amount_paise=1_00_000_00, months=12, payout="quarterly")
    _freeze(sb)
    move_to(date(2026, 7, 1))
    report = deposits.StepReport()
    assert fixed_deposits.pay_due_payouts(date(2026, 7, 1), report=report) == 0
    uow.commit()
    assert report.held == [f"{fd.account_no}: payout held, savings account {sb.account_no} is frozen"]
    db.session.expire_all()
    assert sb.balance_paise == 1_000_00 and deposits.deposit_of(fd).last_payout_date is None
    sb.status, sb.status_reason = "active", "Unfrozen"
    uow.commit()
    move_to(date(2026, 7, 2))
    assert fixed_deposits.pay_due_payouts(date(2026, 7, 2)) == 1  # the 01-07 payout, late
    uow.commit()
    db.session.expire_all()
    assert sb.balance_paise == 1_000_00 + 1_813_00  # 1,00,000 × 7.25 / 400 = 1,812.50 → ₹1,813


def test_a_failing_account_is_rolled_back_reported_and_the_batch_goes_on(deposit_products, monkeypatch):
    a, b = member(), member()
    open_sb(a, 1_000_00)
    sb_b = open_sb(b, 1_000_00)
    fd_a = _open(a, kind="fd", amount_paise=10_000_00, days=30)
    fd_b = _open(b, kind="fd", amount_paise=10_000_00, days=30)
    real = fixed_deposits._mature_one

    def flaky(da, account, today, by):
        done = real(da, account, today, by)  # posts interest and the payout ...
        if account.id == fd_a.id:
            raise ledger.AccountNotOperable(f"Account {account.account_no} broke")  # ... then fails
        return done

    monkeypatch.setattr(fixed_deposits, "_mature_one", flaky)
    move_to(date(2026, 5, 1))
    before = last_entry_id()
    result = deposits.run_maturities(date(2026, 5, 1))
    uow.commit()
    db.session.expire_all()
    assert result["fd_matured"] == 1
    assert result["failed"] == [f"{fd_a.account_no}: Account {fd_a.account_no} broke"]
    assert (fd_a.status, fd_a.balance_paise, deposits.deposit_of(fd_a).matured_on) == ("active", 10_000_00, None)
    assert fd_b.status == "closed" and sb_b.balance_paise == 11_037_00
    refs = {e.reference for e in entries_since(before)}
    assert fd_a.account_no not in refs and fd_b.account_no in refs
    failed = db.session.scalar(select(AuditLog).where(AuditLog.action == "deposits.batch_failed"))
    assert failed.entity_id == fd_a.account_no and failed.after["step"] == "fd.mature"
    assert ledger.verify().ok


# ---------------------------------------------------------------- 3. TDS never more than the credit


def test_tds_is_taken_from_the_interest_credited_and_the_rest_carried_to_the_next_credit(deposit_products):
    m = member(pan="ABCPE1234F")
    sb = open_sb(m, 500_00)
    fd = _open(m, kind="fd", amount_paise=1_00_000_00, months=12, payout="monthly")
    db.session.add(
        TdsDeduction(
            member_id=m.id, account_id=fd.id, fy="2026-27", credited_on=date(2026, 4, 1),
            interest_paise=49_900_00, tds_paise=0, rate_bp=0, reason="below_threshold",
        )
    )  # fmt: skip
    uow.commit()
    move_to(date(2026, 5, 1))
    before = last_entry_id()
    assert fixed_deposits.pay_due_payouts(date(2026, 5, 1)) == 1
    uow.commit()
    # Payout 1,00,000 × 7.25 / 1207.25 = 600.54 → ₹601. Year: 49,900 + 601 = 50,501 > 50,000:
    # TDS due 10 % × 50,501 = 5,050.10 → ₹5,050, but only the ₹601 credited can be taken.
    _payout, tds_entry = entries_since(before)
    assert lines_of(tds_entry) == [(coa.SB_DEPOSITS, sb.account_no, 601_00, 0), (coa.TDS_PAYABLE, None, 0, 601_00)]
    db.session.expire_all()
    assert sb.balance_paise == 500_00
    assert tds.shortfall_paise(m.id, "2026-27") == 5_050_00 - 601_00
    move_to(date(2026, 6, 1))
    fixed_deposits.pay_due_payouts(date(2026, 6, 1))
    uow.commit()
    # Year: 51,102 → ₹5,110 due, ₹601 deducted before → ₹4,509 due now; again only ₹601 is taken.
    rows = db.session.scalars(
        select(TdsDeduction).where(TdsDeduction.account_id == fd.id).order_by(TdsDeduction.id)
    ).all()
    assert [(r.interest_paise, r.tds_paise) for r in rows] == [(49_900_00, 0), (601_00, 601_00), (601_00, 601_00)]
    assert tds.shortfall_paise(m.id, "2026-27") == 5_110_00 - 1_202_00
    db.session.expire_all()
    assert sb.balance_paise == 500_00
    assert ledger.gl_balance(coa.TDS_PAYABLE) == 1_202_00
    assert ledger.verify().ok


# ---------------------------------------------------------------- 4. cash at opening and closure


def test_cash_at_opening_goes_through_the_cashiers_drawer_and_counter_rules(deposit_products):
    m = member()  # no PAN, no Form 60 on file
    clerk = cashier()
    before = _entries()
    with pytest.raises(teller.IdentityProofRequired):
        deposits.open_account(
            OpenRequest(
                member_no=m.member_no, kind="fd", amount_paise=1_00_000_00, months=12, maturity_action="auto_renew"
            ),
            by=clerk,
        )
    db.session.rollback()
    assert _entries() == before and not db.session.scalar(select(Account.id).where(Account.kind == "fd"))
    with pytest.raises(teller.DrawerNotOpen):
        deposits.open_account(
            OpenRequest(
                member_no=m.member_no, kind="fd", amount_paise=10_000_00, months=12, maturity_action="auto_renew"
            )
        )
    db.session.rollback()
    fd = _open(m, kind="fd", amount_paise=1_00_000_00, months=12, maturity_action="auto_renew")  # with Form 60
    (entry,) = [e for e in entries_since(0) if e.reference == fd.account_no]
    drawer = teller.current_drawer(clerk)
    assert lines_of(entry) == [
        (coa.TELLER_CASH, drawer.account.account_no, 1_00_000_00, 0),
        (coa.FD_DEPOSITS, fd.account_no, 0, 1_00_000_00),
    ]
    txn = db.session.scalar(select(CashTransaction).where(CashTransaction.entry_id == entry.id))
    assert (txn.direction, txn.amount_paise, txn.id_proof, txn.form60_ref, txn.member_id) == (
        "in", 1_00_000_00, "form60", F60, m.id,
    )  # fmt: skip
    assert ledger.verify().ok


def test_cash_closure_above_the_large_withdrawal_limit_is_refused(deposit_products):
    m = member(pan="ABCPE4321F")
    sb = open_sb(m, 3_00_000_00)
    before = _entries()
    with pytest.raises(ValidationError, match="withdraw it at the counter"):
        deposits.close_account(sb, mode="cash", by=cashier())
    db.session.rollback()
    small = open_sb(m, 1_000_00)
    before = _entries()
    with pytest.raises(teller.DrawerNotOpen):
        deposits.close_account(small, mode="cash")  # no acting cashier
    db.session.rollback()
    assert _entries() == before
    db.session.expire_all()
    assert sb.status == "active" and sb.balance_paise == 3_00_000_00


# ---------------------------------------------------------------- 5. closing one RD matures only it


def test_closing_a_matured_rd_leaves_the_other_rds_alone(deposit_products):
    m = member()
    sb = open_sb(m, 10_000_00)
    first = _open(m, kind="rd", installment_paise=1_000_00, months=6)
    second = _open(m, kind="rd", installment_paise=1_000_00, months=6)
    move_to(date(2026, 10, 2))
    deposits.close_account(first, mode="transfer", to_account_no=sb.account_no)
    uow.commit()
    db.session.expire_all()
    assert first.status == "closed"
    assert second.status == "active" and deposits.deposit_of(second).matured_on is None
    assert second.balance_paise == 1_000_00


# ---------------------------------------------------------------- 7. approved requests keep the form's key


@pytest.fixture
def counter(books, make_user):
    fund_vault(5_00_000_00)
    return {"cashier": make_user("cashier", username="kiran"), "manager": make_user("manager", username="meera")}


def test_resubmitted_large_withdrawal_finds_the_executed_request(counter):
    kiran, meera = counter["cashier"], counter["manager"]
    drawer = teller.open_drawer(kiran, 3_00_000_00)
    uow.commit()
    sb = member_account(opening_paise=4_00_000_00)
    key = f"counter:{kiran.id}:token-1"
    first = teller.cash_withdrawal(drawer, sb, 2_50_000_00, cashier=kiran, idempotency_key=key)
    uow.commit()
    again = teller.cash_withdrawal(drawer, sb, 2_50_000_00, cashier=kiran, idempotency_key=key)
    assert again.pending and again.approval.id == first.approval.id
    req = approvals.approve(first.approval.id, checker=meera)
    uow.commit()
    entry = db.session.get(JournalEntry, req.result["entry_id"])
    assert entry.idempotency_key == key
    count = db.session.scalar(select(func.count()).select_from(approvals.ApprovalRequest))
    after = teller.cash_withdrawal(drawer, sb, 2_50_000_00, cashier=kiran, idempotency_key=key)
    uow.commit()
    assert after.replayed and after.entry.id == entry.id and not after.pending
    assert db.session.scalar(select(func.count()).select_from(approvals.ApprovalRequest)) == count
    db.session.refresh(sb)
    assert sb.balance_paise == 1_50_000_00


def test_resubmitted_large_transfer_finds_the_executed_request(counter):
    clerk, meera = counter["cashier"], counter["manager"]
    a, b = member_account(opening_paise=10_00_000_00), member_account()
    key = f"transfer:{clerk.id}:token-2"
    first = transfers.transfer(a, b, 6_00_000_00, maker=clerk, idempotency_key=key)
    uow.commit()
    assert transfers.transfer(a, b, 6_00_000_00, maker=clerk, idempotency_key=key).approval.id == first.approval.id
    req = approvals.approve(first.approval.id, checker=meera)
    uow.commit()
    after = transfers.transfer(a, b, 6_00_000_00, maker=clerk, idempotency_key=key)
    uow.commit()
    assert after.replayed and after.entry.id == req.result["entry_id"] and not after.pending
    db.session.refresh(a)
    assert a.balance_paise == 4_00_000_00


# ---------------------------------------------------------------- 8. premature closure of a payout FD


def test_premature_closure_of_a_payout_fd_uses_simple_interest(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    fd = _open(m, kind="fd", amount_paise=1_00_000_00, months=12, payout="quarterly")
    move_to(date(2026, 10, 1))
    assert fixed_deposits.pay_due_payouts(date(2026, 10, 1)) == 2  # 01-07 and 01-10: ₹1,813 each
    uow.commit()
    move_to(date(2026, 11, 1))
    quote = fixed_deposits.premature_quote(deposits.deposit_of(fd), date(2026, 11, 1))
    # 214 days run: the 180–364 day rate 6.50 % − 1 % = 5.50 %, simple (a payout FD never
    # compounds): 1,00,000 × 5.5 × 214 / 36500 = 3,224.66 → ₹3,225 (compounding would give ₹3,249).
    assert (quote.days_run, quote.rate, quote.interest_paise) == (214, 5.5, 3_225_00)
    before = last_entry_id()
    deposits.close_account(fd, mode="transfer", to_account_no=sb.account_no)
    uow.commit()
    credit, paid = entries_since(before)
    # Paid ₹3,626 already → ₹401 recovered from the principal.
    assert lines_of(credit) == [
        (coa.EXP_FD_INTEREST, None, 0, 401_00),
        (coa.FD_DEPOSITS, fd.account_no, 401_00, 0),
    ]
    assert lines_of(paid) == [
        (coa.FD_DEPOSITS, fd.account_no, 99_599_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 99_599_00),
    ]
    db.session.expire_all()
    assert sb.balance_paise == 1_000_00 + 3_626_00 + 99_599_00
    assert db.session.scalar(select(DepositAccount.interest_paid_paise).where(DepositAccount.account_id == fd.id)) == (
        3_225_00
    )
    assert ledger.verify().ok
