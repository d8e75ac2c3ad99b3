"""Payout accounting (decision 0050) and the member API payout's SMS code.

A processed payout moves its money out of transit once — Dr payouts in transit / Cr the
RazorpayX balance, ledger key ``payout-processed:<payout_id>`` — whether the webhook or the
reconciliation says processed, however often it is told; a payout the bank returns after it was
processed undoes that move and returns the money once; the day's reconciliation then shows no
difference, and ``ledger verify`` passes. A member's API payout above ``PAYOUT_OTP_PAISE`` needs
the ``payout`` SMS code (428 first, 401 counted on a wrong code, 202 once with the right one).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import ist_date
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import JournalEntry, JournalLine
from app.models.members import Member, MemberOtp
from app.models.payments import Payout
from app.services import ledger, payments
from app.services.common import uow
from app.services.ledger import coa
from tests.integration.payments.conftest import point_at
from tests.integration.payments.helpers import event, member_token, member_with_loan, post_webhook
from tests.integration.portal.helpers import last_code, sms_fixture  # noqa: F401  (the "sms" fixture)

BEN = {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}


@pytest.fixture
def gw(app, books, razorpay, sms):
    point_at(app, razorpay)
    return razorpay


def _sent_payout(m, sb, paise: int = 1_500_00) -> Payout:
    payout = payments.create_payout(m, payments.PayoutRequest(sb.account_no, paise, "IMPS", BEN))
    uow.commit()
    payments.send(payout)
    uow.commit()
    assert payout.status == "processing"
    return payout


def _paid_entries(payout: Payout) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            select(JournalEntry).where(JournalEntry.idempotency_key == f"payout-processed:{payout.payout_id}")
        )
    )


def _lines(entry: JournalEntry) -> list[tuple[str, int, int]]:
    rows = db.session.scalars(select(JournalLine).where(JournalLine.entry_id == entry.id).order_by(JournalLine.id))
    return [(ln.gl_account.code, ln.debit_paise, ln.credit_paise) for ln in rows]


def _clean_books() -> None:
    db.session.expire_all()
    report = ledger.verify()
    assert report.ok, report.problems
    assert payments.reconcile.daily(ist_date(utcnow())).differences == []


def _processed_hook(payout: Payout, utr: str = "UTR777") -> dict:
    return event("payout.processed", payout={"id": payout.gateway_payout_id, "reference_id": payout.payout_id,
                                              "status": "processed", "utr": utr})  # fmt: skip


def test_processed_by_webhook_posts_once_even_when_replayed(client, gw):
    m, sb, _loan = member_with_loan()
    payout = _sent_payout(m, sb)
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 1_500_00
    _clean_books()  # open payout = in transit: no difference while it is processing
    hook = _processed_hook(payout)
    assert post_webhook(client, hook, event_id="evt_pa1").status_code == 200
    assert post_webhook(client, hook, event_id="evt_pa1").get_json()["status"] == "duplicate"
    assert post_webhook(client, hook, event_id="evt_pa2").status_code == 200  # the same news, another event id
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert (payout.status, payout.utr) == ("processed", "UTR777")
    (entry,) = _paid_entries(payout)
    assert entry.kind == "payout" and entry.reference == payout.payout_id and "UTR777" in entry.narration
    assert sorted(_lines(entry)) == sorted(
        [(coa.PAYOUTS_IN_TRANSIT, 1_500_00, 0), (coa.RAZORPAYX_BALANCE, 0, 1_500_00)]
    )
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0
    assert ledger.gl_balance(coa.RAZORPAYX_BALANCE) == -1_500_00
    report = payments.reconcile.daily(ist_date(utcnow()))
    assert (report.paid_out_paise, report.razorpayx_paise, report.processed_in_transit_paise) == (
        1_500_00,
        -1_500_00,
        0,
    )
    # reconciliation later finds nothing to post
    payments.reconcile.run(now=utcnow() + timedelta(hours=2))
    uow.commit()
    assert len(_paid_entries(payout)) == 1
    _clean_books()


def test_processed_by_reconciliation_posts_once(app, gw):
    m, sb, _loan = member_with_loan()
    payout = _sent_payout(m, sb, 2_000_00)
    gw.payouts[payout.gateway_payout_id].update(status="processed", utr="UTRREC1")  # the webhook never came
    with app.test_request_context():
        result = payments.reconcile.run(now=utcnow() + timedelta(hours=1))
        uow.commit()
        assert result.payouts_settled == 1
        again = payments.reconcile.run(now=utcnow() + timedelta(hours=2))
        uow.commit()
    assert again.payouts_settled == 0
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert (payout.status, payout.utr) == ("processed", "UTRREC1")
    assert len(_paid_entries(payout)) == 1
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0 and ledger.gl_balance(coa.RAZORPAYX_BALANCE) == -2_000_00
    _clean_books()


def test_reversed_after_processed_undoes_the_move_and_returns_the_money_once(client, gw):
    m, sb, _loan = member_with_loan()
    db.session.refresh(sb)
    balance = sb.balance_paise
    payout = _sent_payout(m, sb)
    post_webhook(client, _processed_hook(payout), event_id="evt_rv1")
    back = event("payout.reversed", payout={"id": payout.gateway_payout_id, "status": "reversed"})
    post_webhook(client, back, event_id="evt_rv2")
    post_webhook(client, back, event_id="evt_rv3")  # told twice
    post_webhook(client, event("payout.failed", payout={"id": payout.gateway_payout_id}), event_id="evt_rv4")
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == "reversed" and payout.return_entry_id is not None
    (paid,) = _paid_entries(payout)
    assert ledger.reversal_of(paid) is not None
    assert db.session.get(JournalEntry, payout.return_entry_id).reverses_id == payout.entry_id
    db.session.refresh(sb)
    assert sb.balance_paise == balance
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0 and ledger.gl_balance(coa.RAZORPAYX_BALANCE) == 0
    reversals = db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "reversal"))
    assert reversals == 2  # the move out of transit, then the SB debit
    _clean_books()


def test_a_processed_payout_without_its_posting_is_a_difference_until_reconciliation_posts_it(app, gw):
    m, sb, _loan = member_with_loan()
    payout = _sent_payout(m, sb, 700_00)
    payments.history.move(payout, "processed", "webhook.processed", detail={"utr": "OLD1"})  # as before 0050
    payout.utr = "OLD1"
    uow.commit()
    (diff,) = payments.reconcile.daily(ist_date(utcnow())).differences
    assert (
        diff.amount_paise == 700_00
        and "not posted" in diff.explanation
        and "Run reconciliation now" in diff.explanation
    )
    with app.test_request_context():
        payments.reconcile.run()
        uow.commit()
        payments.reconcile.run()
        uow.commit()
    assert len(_paid_entries(payout)) == 1
    _clean_books()


# ---------------------------------------------------------------- the member's SMS code on API payouts


def _body(sb, amount: str = "1500") -> dict:
    return {"from_account": sb.account_no, "amount": amount, "mode": "IMPS", "beneficiary": BEN}


def _payouts() -> int:
    return db.session.scalar(select(func.count(Payout.id))) or 0


def test_member_api_payout_needs_the_sms_code(client, gw):
    m, sb, _loan = member_with_loan()
    headers = {**member_token(m), "Idempotency-Key": "otp-po-1"}
    mobile = db.session.get(Member, m.id).mobile
    first = client.post("/api/v1/payouts", json=_body(sb), headers=headers)
    assert first.status_code == 428 and first.mimetype == "application/problem+json"
    problem = first.get_json()
    assert problem["type"].endswith("otp-required") and problem["otp_required"] is True
    assert "code we sent by SMS" in problem["detail"] and '"otp"' in problem["detail"]
    assert _payouts() == 0 and not [q for q in gw.requests if q["path"] == "/v1/payouts"]

    wrong = client.post("/api/v1/payouts", json={**_body(sb), "otp": "000000"}, headers=headers)
    assert wrong.status_code == 401 and wrong.mimetype == "application/problem+json"
    assert "attempt(s) left" in wrong.get_json()["detail"]
    assert db.session.scalar(select(MemberOtp.attempts).where(MemberOtp.purpose == "payout")) == 1  # counted
    assert _payouts() == 0

    body = {**_body(sb), "otp": last_code(mobile)}
    done = client.post("/api/v1/payouts", json=body, headers=headers)
    assert done.status_code == 202, done.get_json()
    again = client.post("/api/v1/payouts", json=body, headers=headers)  # a retry replays, the spent code is fine
    assert again.status_code == 202 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["payout_id"] == done.get_json()["payout_id"]
    assert _payouts() == 1
    # the spent code does not pay a second payout
    reuse = client.post("/api/v1/payouts", json=body, headers={**headers, "Idempotency-Key": "otp-po-2"})
    assert reuse.status_code == 401 and _payouts() == 1


def test_a_bad_payout_is_refused_before_a_code_is_sent_and_small_ones_pass_under_a_threshold(app, client, gw, sms):
    m, sb, _loan = member_with_loan()
    headers = {**member_token(m), "Idempotency-Key": "otp-po-3"}
    bad = client.post("/api/v1/payouts", json={**_body(sb), "beneficiary": {**BEN, "ifsc": "BAD"}}, headers=headers)
    assert bad.status_code == 422 and "ifsc" in str(bad.get_json())
    assert db.session.scalar(select(func.count(MemberOtp.id))) == 0 and not sms
    app.config["PAYOUT_OTP_PAISE"] = 1_000_00
    small = client.post("/api/v1/payouts", json=_body(sb, "1000"), headers=headers)
    assert small.status_code == 202, small.get_json()
    big = client.post("/api/v1/payouts", json=_body(sb, "1000.01"), headers={**headers, "Idempotency-Key": "otp-po-4"})
    assert big.status_code == 428 and "above 1000.00" in big.get_json()["detail"]


def test_staff_tokens_keep_maker_checker_and_need_no_code(client, gw, make_user):
    from tests.conftest import PASSWORD

    _m, sb, _loan = member_with_loan()
    user = make_user("clerk", username="api_po_clerk")
    login = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {login['access_token']}", "Idempotency-Key": "staff-po-1"}
    r = client.post("/api/v1/payouts", json=_body(sb, "1,20,000"), headers=headers)
    assert r.status_code == 202 and r.get_json()["status"] == "pending_approval", r.get_json()
    assert db.session.scalar(select(func.count(MemberOtp.id))) == 0
