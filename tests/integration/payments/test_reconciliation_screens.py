"""Staff screens against the local imitation of Razorpay: the reconciliation screen (the IST day's
figures, each difference explained, the CSV, "Run reconciliation now" settling a stuck order with
HTMX and without), resolving mismatches and unknown webhook events (remark required, history row
and audit entry, who and when in IST), and the payouts queue in IST."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import ist_date
from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.ledger import JournalEntry
from app.models.payments import Payment, PaymentEvent
from app.services import ledger, payments
from app.services.common import uow
from tests.integration.payments.conftest import point_at
from tests.integration.payments.helpers import event, member_with_loan, post_webhook

HX = {"HX-Request": "true"}
RECON = "/staff/payments-reconciliation"


@pytest.fixture
def gw(app, books, razorpay):
    point_at(app, razorpay)
    return razorpay


def _order(m, sb, paise: int) -> Payment:
    payment = payments.create_order(m, payments.OrderRequest("deposit", sb.account_no, paise))
    uow.commit()
    return payment


def _paid(gw, m, sb, paise: int, *, received: int | None = None) -> Payment:
    payment = _order(m, sb, paise)
    pay = gw.capture(payment.gateway_order_id, amount=received)
    payments.credit(payment, gateway_payment_id=pay["id"], amount_paise=pay["amount"], currency="INR", source="webhook")
    uow.commit()
    return payment


def _processed_payout(m, sb, paise: int, *, legacy: bool = False) -> None:
    """A payout the gateway processed; ``legacy``: marked processed without the move out of transit
    (as before decision 0050), which the reconciliation shows as a difference and posts once."""
    ben = {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}
    payout = payments.create_payout(m, payments.PayoutRequest(sb.account_no, paise, "IMPS", ben))
    uow.commit()
    payments.send(payout)
    if legacy:
        payments.history.move(payout, "processed", "webhook.processed", detail={"utr": "UTR1"})
        payout.utr = "UTR1"
    else:
        payments.settle(payout, "processed", utr="UTR1", gateway_payout_id=payout.gateway_payout_id, source="webhook")
    uow.commit()


def _tile(html: str, label: str) -> str:
    found = re.search(rf'<div class="label">{re.escape(label)}</div><div class="value num">([^<]+)</div>', html)
    assert found, f"no tile {label!r}"
    return found.group(1)


def _to_resolve_part(html: str) -> str:
    """The to-resolve table only (the recently-resolved table follows it)."""
    return html.split('id="to-resolve"', 1)[1].split('id="resolved"', 1)[0]


def test_recon_page_shows_the_ist_days_figures_differences_and_csv(client, gw, login):
    m, sb, _loan = member_with_loan()
    _paid(gw, m, sb, 1_000_00)
    _processed_payout(m, sb, 400_00, legacy=True)
    day = ist_date(utcnow())
    login("accountant")
    assert RECON in client.get("/staff/payments").get_data(as_text=True)  # linked from the payments list

    page = client.get(f"{RECON}?date={day.isoformat()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Figures for {day:%d-%m-%Y}" in html and "00:00–24:00 IST" in html
    assert (_tile(html, "Collected"), _tile(html, "Refunded"), _tile(html, "Paid out")) == (
        "₹1,000.00", "₹0.00", "₹400.00")  # fmt: skip
    assert (_tile(html, "Razorpay clearing GL"), _tile(html, "Payouts in transit GL"), _tile(html, "Open payouts")) == (
        "₹1,000.00", "₹400.00", "₹0.00")  # fmt: skip
    # the processed payout still sits in transit: one difference, explained line by line
    table = html.split('id="recon-differences"', 1)[1]
    assert "Payouts in transit vs open payouts" in table and "400.00" in table
    assert "gateway reports processed are still in it" in table
    assert "Run reconciliation now" in html

    # the day by DD-MM-YYYY too; the default is the business date; HTMX gets the panel only
    assert f"Figures for {day:%d-%m-%Y}" in client.get(f"{RECON}?date={day:%d-%m-%Y}").get_data(as_text=True)
    assert "Figures for 01-04-2026" in client.get(RECON).get_data(as_text=True)
    part = client.get(f"{RECON}?date={day.isoformat()}", headers=HX)
    assert "<html" not in part.get_data(as_text=True) and 'id="recon-panel"' in part.get_data(as_text=True)
    assert "HX-Request" in part.headers.get("Vary", "")

    bad = client.get(f"{RECON}?date=31-02-2026")
    assert bad.status_code == 422 and "is not a date" in bad.get_data(as_text=True)
    assert 'id="recon-figures"' not in bad.get_data(as_text=True)

    out = client.get(f"{RECON}?date={day.isoformat()}&format=csv")
    assert out.status_code == 200 and out.mimetype == "text/csv"
    assert f"payments-reconciliation-{day.isoformat()}.csv" in out.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(out.get_data(as_text=True))))
    assert rows[0] == ["day_ist", "figure", "amount_inr", "note"]
    figures = {r[1]: r[2] for r in rows[1:]}
    assert figures["Collected"] == "1000.00" and figures["Paid out"] == "400.00"
    assert figures["Razorpay clearing GL"] == "1000.00" and figures["Open payouts"] == "0.00"
    assert figures["difference: Payouts in transit vs open payouts (queued or processing)"] == "400.00"
    assert all(r[0] == day.isoformat() for r in rows[1:])


def test_run_now_settles_a_stuck_order_swaps_the_panel_and_works_without_js(client, gw, login):
    m, sb, _loan = member_with_loan()
    payment = _order(m, sb, 300_00)
    gw.capture(payment.gateway_order_id)  # paid at the gateway; the webhook never came
    payment.created_at = utcnow() - timedelta(hours=2)
    uow.commit()
    day = ist_date(utcnow())
    login("manager")
    before = client.get(f"{RECON}?date={day.isoformat()}").get_data(as_text=True)
    assert _tile(before, "Collected") == "₹0.00" and 'id="recon-result"' not in before
    entries = db.session.scalar(select(func.count(JournalEntry.id)))

    r = client.post(f"{RECON}/run", data={"date": day.isoformat()}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and 'id="recon-panel"' in html
    trigger = json.loads(r.headers["HX-Trigger"])["toast"]
    assert trigger["level"] == "success" and "orders checked 1, credited 1;" in trigger["message"]
    assert 'id="recon-result"' in html and "credited 1" in html and " IST" in html
    assert _tile(html, "Collected") == "₹300.00" and _tile(html, "Razorpay clearing GL") == "₹300.00"
    assert gw.requests[-1]["path"] == f"/v1/orders/{payment.gateway_order_id}/payments"
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "paid"
    assert db.session.scalar(select(func.count(JournalEntry.id))) == entries + 1
    assert db.session.scalar(
        select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "reconcile.credited")
    ) == 1  # fmt: skip

    # without JavaScript: POST, then the redirect back to the screen with the toast; nothing credited twice
    plain = client.post(f"{RECON}/run", data={"date": day.isoformat()})
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"{RECON}?date={day.isoformat()}")
    shown = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert "Reconciliation run: orders checked 0, credited 0" in shown
    assert db.session.scalar(select(func.count(JournalEntry.id))) == entries + 1
    bad = client.post(f"{RECON}/run", data={"date": "yesterday"}, headers=HX)
    assert bad.status_code == 422 and "is not a date" in bad.get_data(as_text=True)
    assert ledger.verify().ok
    # the payouts page's button answers with its small result box
    small = client.post("/staff/payments-reconcile", headers=HX)
    assert small.status_code == 200 and "Orders checked: 0" in small.get_data(as_text=True)


def _events(payment_pk: int | None = None) -> list[PaymentEvent]:
    db.session.expire_all()
    stmt = select(PaymentEvent).order_by(PaymentEvent.id)
    if payment_pk is not None:
        stmt = stmt.where(PaymentEvent.payment_id == payment_pk)
    return list(db.session.scalars(stmt))


def _audits() -> int:
    return db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "payment_event.resolve"))


def test_resolving_a_mismatch_needs_a_remark_then_records_who_when_and_audits(client, gw, login):
    m, sb, _loan = member_with_loan()
    wrong = _paid(gw, m, sb, 500_00, received=400_00)
    assert wrong.status == "mismatch"
    hook = event(
        "payment.captured", payment={"id": "pay_zz", "order_id": "order_nobody", "amount": 100, "currency": "INR"}
    )
    assert post_webhook(client, hook, event_id="evt_unknown_1").status_code == 200
    flagged = payments.attention_events()
    mismatch = next(e for e in flagged if e.payment_id == wrong.id)
    unknown = next(e for e in flagged if e.kind == "webhook.unknown")
    manager = login("manager")
    listed = client.get("/staff/payments-attention").get_data(as_text=True)
    assert f'id="event-{mismatch.id}"' in _to_resolve_part(listed) and f'id="event-{unknown.id}"' in listed
    count = len(_events())

    url = f"/staff/payments-attention/{mismatch.id}/resolve"
    for remark, message in (("", "Say how it was resolved."), ("   ", "Say how it was resolved."),
                            ("x" * 256, "Keep the remark to 255 characters")):  # fmt: skip
        r = client.post(url, data={"remark": remark}, headers=HX)
        assert r.status_code == 422 and message in r.get_data(as_text=True), r.get_data(as_text=True)
        assert json.loads(r.headers["HX-Trigger"])["toast"]["level"] == "error"
    plain = client.post(url, data={"remark": ""})
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True)
    assert len(_events()) == count and _audits() == 0  # nothing changed
    assert db.session.get(PaymentEvent, mismatch.id).resolved_at is None

    remark = "Member paid ₹400 by mistake; refunded ₹400 at the bank on 02-12"
    done = client.post(url, data={"remark": remark}, headers=HX)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "resolved" in json.loads(done.headers["HX-Trigger"])["toast"]["message"]
    assert f'id="event-{mismatch.id}"' not in _to_resolve_part(html)  # gone from the to-resolve list
    resolved_part = html.split('id="resolved"', 1)[1]
    assert f'id="event-{mismatch.id}"' in resolved_part and manager.full_name in resolved_part
    assert remark in resolved_part and " IST" in resolved_part
    row = db.session.get(PaymentEvent, mismatch.id)
    assert (row.resolved_by_id, row.resolution) == (manager.id, remark) and row.resolved_at is not None
    history = [e for e in _events(wrong.id) if e.kind == "staff.resolved"]
    assert len(history) == 1 and history[0].detail["remark"] == remark and history[0].detail["by"] == manager.username
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "payment_event.resolve"))
    assert audit.entity_id == str(mismatch.id) and audit.after["remark"] == remark
    assert audit.after["payment"] == wrong.payment_id and audit.actor_name == manager.username
    assert mismatch.id not in [e.id for e in payments.attention_events()]
    again = client.post(url, data={"remark": "twice"}, headers=HX)
    assert again.status_code == 409 and "Already resolved" in again.get_data(as_text=True) and _audits() == 1
    detail = client.get(f"/staff/payments/{wrong.payment_id}").get_data(as_text=True)
    assert "staff.resolved" in detail and remark in detail

    # the unknown webhook event, without JavaScript: POST then redirect to the list, where it is gone
    plain = client.post(f"/staff/payments-attention/{unknown.id}/resolve", data={"remark": "Test order of the gateway"})
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/staff/payments-attention")
    after = client.get("/staff/payments-attention").get_data(as_text=True)
    assert "Nothing to resolve." in _to_resolve_part(after) and f"Event #{unknown.id} resolved." in after
    assert _audits() == 2
    assert client.post("/staff/payments-attention/999999/resolve", data={"remark": "x"}).status_code == 404


def test_a_clerk_reads_the_screens_but_may_not_run_or_resolve(client, gw, login):
    m, sb, _loan = member_with_loan()
    wrong = _paid(gw, m, sb, 500_00, received=400_00)
    (flagged,) = payments.attention_events(wrong)
    login("clerk")
    day = ist_date(utcnow())
    seen = client.get(f"{RECON}?date={day.isoformat()}")
    assert seen.status_code == 200 and "Run reconciliation now" not in seen.get_data(as_text=True)
    assert client.post(f"{RECON}/run", data={"date": day.isoformat()}).status_code == 403
    listed = client.get("/staff/payments-attention").get_data(as_text=True)
    assert f'id="event-{flagged.id}"' in listed and 'name="remark"' not in listed and "To resolve" in listed
    assert client.post(f"/staff/payments-attention/{flagged.id}/resolve", data={"remark": "no"}).status_code == 403
    assert db.session.get(PaymentEvent, flagged.id).resolved_at is None and _audits() == 0


def test_a_mismatched_payment_is_resolved_from_its_own_page(client, gw, login):
    m, sb, _loan = member_with_loan()
    wrong = _paid(gw, m, sb, 200_00, received=250_00)
    flagged = payments.attention_events(wrong)
    assert len(flagged) == 1
    login("accountant")
    page = client.get(f"/staff/payments/{wrong.payment_id}").get_data(as_text=True)
    assert 'id="payment-attention"' in page and f'name="back" value="{wrong.payment_id}"' in page
    url = f"/staff/payments-attention/{flagged[0].id}/resolve"
    empty = client.post(url, data={"remark": "", "back": wrong.payment_id}, headers=HX)
    assert empty.status_code == 422 and 'id="payment-attention"' in empty.get_data(as_text=True)
    done = client.post(url, data={"remark": "Excess ₹50 returned by NEFT", "back": wrong.payment_id}, headers=HX)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and html.lstrip().startswith('<section id="payment-attention"')
    assert "Resolved" in html and "Excess ₹50 returned by NEFT" in html and 'name="remark"' not in html
    assert payments.attention_events(wrong) == []


def test_the_payouts_queue_reads_ist(client, gw, login):
    m, sb, _loan = member_with_loan()
    _processed_payout(m, sb, 100_00)
    login("manager")
    html = client.get("/staff/payouts").get_data(as_text=True)
    listed = html.split('id="payouts-list"', 1)[1]
    assert re.search(r"\d\d-\d\d-\d{4} \d\d:\d\d IST", listed) and "UTC" not in html
