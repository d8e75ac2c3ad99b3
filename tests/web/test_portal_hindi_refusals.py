"""A member who chose Hindi sees the services' refusals in Hindi (portal/messages.translate)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.blueprints.portal import messages
from app.extensions import db
from app.models.ledger import JournalEntry
from tests.integration.portal.helpers import (
    account_of,
    member_with_login,
    sign_in,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)


def test_a_transfer_above_the_balance_is_refused_in_hindi(books, client, sms):
    member, _login = member_with_login(mobile="9812345671")
    sb = account_of(member, opening_paise=1_000_00)
    other, _ = member_with_login(mobile="9812345672", name="Ramesh Kale")
    target = account_of(other)
    sign_in(client, "9812345671")
    client.post("/portal/language/hi", data={"next": "/portal/transfer"})
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    refused = client.post(
        "/portal/transfer", data={"from_account": sb.account_no, "to_account": target.account_no, "amount": "5,000"}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "can pay out at most" not in page  # not the service's English
    assert f"खाता {sb.account_no} से" in page and "₹5,000.00 माँगे गए थे" in page
    assert "अधिकतम ₹1,000.00" in page  # the figures go into the translation as they are
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count
    assert sb.balance_paise == 1_000_00


def test_every_templated_service_message_has_a_hindi_translation(app):
    from flask_babel import force_locale

    with app.test_request_context("/portal/"), force_locale("hi"):
        for msgid in messages.TEMPLATED:
            english = msgid.replace("%(reason)s", "").replace("%(kind)s", "savings")
            for name in ("no", "available", "amount", "needed", "mode", "limit", "floor", "left", "name", "until"):
                english = english.replace(f"%({name})s", "X1")
            english = english.replace("%(product)s", "P").replace("%(low)s", "L").replace("%(high)s", "H")
            translated = messages.translate(english)
            assert translated != english, msgid
            assert any("\u0900" <= ch <= "\u097f" for ch in translated), msgid
