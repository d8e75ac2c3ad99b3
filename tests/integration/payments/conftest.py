"""Fixtures for the payment tests: the imitation Razorpay server and the app pointed at it."""

from __future__ import annotations

import pytest

from tests.integration.payments.fake_razorpay import KEY_ID, KEY_SECRET, FakeRazorpay

WEBHOOK_SECRET = "whsec-test-123"


def point_at(app, fake: FakeRazorpay) -> None:
    app.config.update(RAZORPAY_KEY_ID=KEY_ID, RAZORPAY_KEY_SECRET=KEY_SECRET, RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
                      RAZORPAYX_ACCOUNT_NUMBER="7878780080316316", RAZORPAY_BASE_URL=fake.url)  # fmt: skip


@pytest.fixture
def razorpay():
    with FakeRazorpay() as fake:
        yield fake
