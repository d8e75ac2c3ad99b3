"""The credit-once race on PostgreSQL: the browser's verified return and the webhook for the same
payment arrive together (two threads, two connections); the payment's row lock and the ledger
idempotency key let exactly one credit through."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.payments import Payment
from app.services import ledger, payments
from app.services.common import uow
from tests.integration.payments.conftest import point_at
from tests.integration.payments.helpers import event, member_with_loan, post_webhook

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("rounds", [3])
def test_verified_return_and_webhook_race_credits_once(pg_app, pg_books, razorpay, rounds):
    point_at(pg_app, razorpay)
    m, sb, _loan = member_with_loan()
    start_balance = sb.balance_paise
    for i in range(rounds):
        payment = payments.create_order(m, payments.OrderRequest("deposit", sb.account_no, 1_000_00 + i))
        uow.commit()
        pk, order_id = payment.id, payment.gateway_order_id
        pay = razorpay.capture(order_id)
        sig = payments.sign(f"{order_id}|{pay['id']}", "fake-secret")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def by_return(pk=pk, order_id=order_id, pay=pay, sig=sig, barrier=barrier, errors=errors):
            try:
                with pg_app.app_context():
                    p = db.session.get(Payment, pk)
                    barrier.wait()
                    uow.run(lambda: payments.verify_return(p, razorpay_order_id=order_id, razorpay_payment_id=pay["id"],
                                                           razorpay_signature=sig))  # fmt: skip
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        def by_webhook(pay=pay, i=i, barrier=barrier, errors=errors):
            try:
                client = pg_app.test_client()
                barrier.wait()
                r = post_webhook(client, event("payment.captured", payment=pay), event_id=f"evt_race_{i}")
                assert r.status_code == 200, r.get_data(as_text=True)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=by_return), threading.Thread(target=by_webhook)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
    db.session.expire_all()
    paid = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [p.status for p in paid] == ["paid"] * rounds
    for p in paid:  # both paths reached the credit: one booked it, the other found it done
        kinds = [e.kind.split(".", 1)[1] for e in p.events if e.kind.split(".", 1)[0] in ("return", "webhook")]
        assert sorted(k for k in kinds if k in ("credited", "duplicate")) == ["credited", "duplicate"], kinds
    keyed = db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.idempotency_key.like("payment:%")))
    assert keyed == rounds
    db.session.refresh(sb)
    assert sb.balance_paise == start_balance + sum(1_000_00 + i for i in range(rounds))
    report = ledger.verify()
    assert report.ok, report.problems


def test_processed_webhook_and_reconciliation_race_move_a_payout_out_of_transit_once(pg_app, pg_books, razorpay):
    """Decision 0050: the webhook and the reconciliation's fetch both say processed at once; the
    payout's row lock and the ``payout-processed:<id>`` key let one posting through."""
    from datetime import timedelta

    from app.models.base import utcnow
    from app.models.payments import Payout
    from app.services.ledger import coa

    point_at(pg_app, razorpay)
    m, sb, _loan = member_with_loan()
    ben = {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}
    payout = payments.create_payout(m, payments.PayoutRequest(sb.account_no, 1_500_00, "IMPS", ben))
    uow.commit()
    payments.send(payout)
    uow.commit()
    pk, gw_id, number = payout.id, payout.gateway_payout_id, payout.payout_id
    razorpay.payouts[gw_id].update(status="processed", utr="UTRRACE")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def by_reconcile():
        try:
            with pg_app.app_context():
                barrier.wait()
                uow.run(lambda: payments.reconcile.run(now=utcnow() + timedelta(hours=1)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def by_webhook():
        try:
            client = pg_app.test_client()
            barrier.wait()
            hook = event("payout.processed", payout={"id": gw_id, "reference_id": number, "status": "processed",
                                                      "utr": "UTRRACE"})  # fmt: skip
            r = post_webhook(client, hook, event_id="evt_po_race")
            assert r.status_code == 200, r.get_data(as_text=True)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=by_reconcile), threading.Thread(target=by_webhook)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.get(Payout, pk).status == "processed"
    keyed = db.session.scalar(
        select(func.count(JournalEntry.id)).where(JournalEntry.idempotency_key == f"payout-processed:{number}")
    )
    assert keyed == 1
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0
    report = ledger.verify()
    assert report.ok, report.problems
