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
