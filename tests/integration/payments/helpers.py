"""Builders for the payment tests: a borrower with savings and a loan, tokens, signed webhooks."""

from __future__ import annotations

import json

from app.services import payments
from app.services.access import member_auth, tokens
from app.services.common import uow
from tests.integration.loans.helpers import borrower, disbursed, setup_products
from tests.integration.payments.conftest import WEBHOOK_SECRET


def member_with_loan(sb_paise: int = 50_000_00, principal: int = 1_00_000_00):
    setup_products()
    m, sb = borrower(sb_paise)
    loan = disbursed(m, sb, principal, 12)
    return m, sb, loan


def member_token(m, password: str = "Member-Pass-123") -> dict[str, str]:
    login = member_auth.create_login(m, password)
    uow.commit()
    access, _ttl = tokens.access_token(member_auth.subject_for(login))
    return {"Authorization": f"Bearer {access}"}


def event(name: str, **entities: dict) -> dict:
    return {"entity": "event", "event": name, "payload": {k: {"entity": v} for k, v in entities.items()}}


def post_webhook(client, body: dict, *, event_id: str, secret: str = WEBHOOK_SECRET, signature: str | None = None):
    raw = json.dumps(body).encode()
    sig = signature if signature is not None else payments.sign(raw, secret)
    return client.post("/api/v1/payments/webhook", data=raw, content_type="application/json",
                       headers={"X-Razorpay-Signature": sig, "X-Razorpay-Event-Id": event_id})  # fmt: skip
