"""Builders for the member portal and member API tests: members with logins and money, sign-in."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.extensions import db
from app.services.access import member_auth
from app.services.common import notifications, uow
from tests.factories import make_member

PASSWORD = "Khet-2026-Sinnar"
DELIVERED: list[tuple[str, str]] = []


@pytest.fixture(name="sms")
def sms_fixture(monkeypatch):
    """Record every delivered SMS (the stored outbox copy has its code removed)."""
    original = notifications.deliver
    DELIVERED.clear()

    def deliver(row, text):
        DELIVERED.append((row.recipient, text))
        original(row, text)

    monkeypatch.setattr(notifications, "deliver", deliver)
    yield DELIVERED
    DELIVERED.clear()


def last_code(mobile: str) -> str:
    """The code in the last SMS delivered to ``mobile``."""
    text = next(text for recipient, text in reversed(DELIVERED) if recipient == mobile)
    return re.search(r"\b(\d{6})\b", text).group(1)


def member_with_login(*, mobile: str | None = None, name: str = "Sunita Patil", dob: date = date(1985, 6, 15), **kw):
    """An active member with approved KYC and a verified portal login (password PASSWORD)."""
    member = make_member(name=name, mobile=mobile, date_of_birth=dob, **kw)
    login = member_auth.create_login(member, PASSWORD)
    uow.commit()
    return member, login


def sign_in(client, mobile: str, password: str = PASSWORD):
    """Mobile + password, then the SMS code; returns the final response (a redirect to the dashboard)."""
    first = client.post("/portal/login", data={"mobile": mobile, "password": password})
    assert first.status_code == 302, first.get_data(as_text=True)
    assert "/portal/code/login" in first.headers["Location"]
    done = client.post("/portal/code/login", data={"code": last_code(mobile)})
    assert done.status_code == 302, done.get_data(as_text=True)
    db.session.expire_all()
    return done


def account_of(member, *, kind: str = "savings", opening_paise: int = 0, status: str = "active"):
    """A member account funded from vault cash through the ledger (needs the ``books`` fixture)."""
    from tests.conftest import new_account

    account = new_account(kind, opening_paise=opening_paise)
    account.member_id = member.id
    account.title = member.name
    account.status = status
    uow.commit()
    return account
