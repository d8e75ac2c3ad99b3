"""The payment gateway: an adapter around the ``razorpay`` SDK, or an offline sandbox.

``current()`` answers the gateway the settings describe: with ``RAZORPAY_KEY_ID`` and
``RAZORPAY_KEY_SECRET`` set, :class:`RazorpayGateway` (the real SDK, pointed at
``RAZORPAY_BASE_URL``); without keys, :class:`SandboxGateway`, which answers with the same
shapes from memory (development and tests). Both raise :class:`GatewayUnavailable` for a
timeout, a refused connection or a 5xx (the caller may retry with the same idempotency key)
and :class:`GatewayRefused` for a definite 4xx refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Any, ClassVar, Protocol

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError

from app.settings import setting

from ..common import DomainError

TIMEOUT_SECONDS = 10


class GatewayUnavailable(DomainError):
    """The gateway did not answer definitely (timeout, connection refused, 5xx): retry later, same key."""

    status = 503
    title = "Payment gateway unavailable"


class GatewayRefused(DomainError):
    """The gateway refused the request (a definite 4xx)."""

    status = 422
    title = "Payment gateway refused the request"


def sign(body: bytes | str, secret: str) -> str:
    """Hex HMAC-SHA256 of ``body`` with ``secret`` (webhooks and checkout signatures)."""
    data = body.encode() if isinstance(body, str) else body
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def signature_ok(body: bytes | str, signature: str | None, secret: str) -> bool:
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip())


class Gateway(Protocol):
    name: str
    key_id: str
    key_secret: str

    def create_order(self, amount_paise: int, currency: str, receipt: str, notes: dict) -> dict: ...
    def fetch_order(self, order_id: str) -> dict: ...
    def order_payments(self, order_id: str) -> list[dict]: ...
    def fetch_payment(self, payment_id: str) -> dict: ...
    def refund(self, payment_id: str, amount_paise: int) -> dict: ...
    def create_payout(self, body: dict, idempotency_key: str) -> dict: ...
    def fetch_payout(self, payout_id: str) -> dict: ...


class RazorpayGateway:
    """The real Razorpay API through the official SDK."""

    name = "razorpay"

    def __init__(self, key_id: str, key_secret: str, base_url: str) -> None:
        self.key_id, self.key_secret = key_id, key_secret
        self.client = razorpay.Client(auth=(key_id, key_secret), base_url=base_url.rstrip("/"))
        self.client.set_app_details({"title": "Sahakari", "version": "1"})

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ServerError, GatewayError, requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise GatewayUnavailable(f"Razorpay did not answer definitely: {exc or type(exc).__name__}") from exc
        except BadRequestError as exc:
            raise GatewayRefused(str(exc) or "Razorpay refused the request.") from exc
        except (requests.exceptions.RequestException, ValueError) as exc:
            raise GatewayUnavailable(f"Razorpay answered unreadably: {exc}") from exc

    def create_order(self, amount_paise: int, currency: str, receipt: str, notes: dict) -> dict:
        body = {"amount": amount_paise, "currency": currency, "receipt": receipt, "notes": notes}
        return self._call(self.client.order.create, data=body, timeout=TIMEOUT_SECONDS)

    def fetch_order(self, order_id: str) -> dict:
        return self._call(self.client.order.fetch, order_id, timeout=TIMEOUT_SECONDS)

    def order_payments(self, order_id: str) -> list[dict]:
        return self._call(self.client.order.payments, order_id, timeout=TIMEOUT_SECONDS).get("items", [])

    def fetch_payment(self, payment_id: str) -> dict:
        return self._call(self.client.payment.fetch, payment_id, timeout=TIMEOUT_SECONDS)

    def refund(self, payment_id: str, amount_paise: int) -> dict:
        return self._call(self.client.payment.refund, payment_id, {"amount": amount_paise}, timeout=TIMEOUT_SECONDS)

    def create_payout(self, body: dict, idempotency_key: str) -> dict:
        data = {"account_number": setting("RAZORPAYX_ACCOUNT_NUMBER"), **body}
        headers = {"X-Payout-Idempotency": idempotency_key}
        return self._call(self.client.post, "/v1/payouts", data, headers=headers, timeout=TIMEOUT_SECONDS)

    def fetch_payout(self, payout_id: str) -> dict:
        return self._call(self.client.get, f"/v1/payouts/{payout_id}", {}, timeout=TIMEOUT_SECONDS)


class SandboxGateway:
    """Offline stand-in with Razorpay's shapes; state lives in this process (development only)."""

    name = "sandbox"
    key_id = "rzp_test_sandbox"
    key_secret = "sandbox-key-secret"
    _lock = threading.Lock()
    orders: ClassVar[dict[str, dict]] = {}
    payments: ClassVar[dict[str, dict]] = {}
    payouts: ClassVar[dict[str, dict]] = {}
    payout_keys: ClassVar[dict[str, str]] = {}

    @staticmethod
    def _id(prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(7)}"

    def create_order(self, amount_paise: int, currency: str, receipt: str, notes: dict) -> dict:
        order = {
            "id": self._id("order"),
            "entity": "order",
            "amount": amount_paise,
            "amount_paid": 0,
            "currency": currency,
            "receipt": receipt,
            "status": "created",
            "notes": notes,
            "created_at": int(time.time()),
        }
        with self._lock:
            self.orders[order["id"]] = order
        return dict(order)

    def fetch_order(self, order_id: str) -> dict:
        if order_id not in self.orders:
            raise GatewayRefused(f"No order {order_id}.")
        return dict(self.orders[order_id])

    def order_payments(self, order_id: str) -> list[dict]:
        return [dict(p) for p in self.payments.values() if p["order_id"] == order_id]

    def capture(self, order_id: str, amount_paise: int | None = None) -> dict:
        """Sandbox only: a captured payment for ``order_id`` (what a card/UPI payment would be)."""
        order = self.fetch_order(order_id)
        payment = {
            "id": self._id("pay"),
            "entity": "payment",
            "order_id": order_id,
            "status": "captured",
            "amount": order["amount"] if amount_paise is None else amount_paise,
            "currency": order["currency"],
            "method": "upi",
            "created_at": int(time.time()),
        }
        with self._lock:
            self.payments[payment["id"]] = payment
            self.orders[order_id].update(status="paid", amount_paid=payment["amount"])
        return dict(payment)

    def fetch_payment(self, payment_id: str) -> dict:
        if payment_id not in self.payments:
            raise GatewayRefused(f"No payment {payment_id}.")
        return dict(self.payments[payment_id])

    def refund(self, payment_id: str, amount_paise: int) -> dict:
        self.fetch_payment(payment_id)
        return {
            "id": self._id("rfnd"),
            "entity": "refund",
            "payment_id": payment_id,
            "amount": amount_paise,
            "status": "processed",
        }

    def create_payout(self, body: dict, idempotency_key: str) -> dict:
        with self._lock:
            known = self.payout_keys.get(idempotency_key)
            if known:
                return dict(self.payouts[known])
            payout = {"id": self._id("pout"), "entity": "payout", "status": "processing", "utr": None, **body}
            self.payouts[payout["id"]] = payout
            self.payout_keys[idempotency_key] = payout["id"]
        return dict(payout)

    def fetch_payout(self, payout_id: str) -> dict:
        if payout_id not in self.payouts:
            raise GatewayRefused(f"No payout {payout_id}.")
        return dict(self.payouts[payout_id])


_sandbox = SandboxGateway()


def current() -> Gateway:
    """The configured gateway (Razorpay with keys, else the sandbox)."""
    key_id, key_secret = setting("RAZORPAY_KEY_ID"), setting("RAZORPAY_KEY_SECRET")
    if key_id and key_secret:
        return RazorpayGateway(key_id, key_secret, setting("RAZORPAY_BASE_URL"))
    return _sandbox


def is_sandbox() -> bool:
    return isinstance(current(), SandboxGateway)


def sandbox() -> SandboxGateway:
    return _sandbox
