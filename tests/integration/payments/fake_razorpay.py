"""A small local HTTP server imitating the Razorpay endpoints the gateway adapter uses.

Orders, an order's payments, payment fetch and refund, payouts (``X-Payout-Idempotency``:
the same key answers the first payout) and payout fetch. ``fail_next_payouts`` makes the next
payout requests answer 500 as Razorpay's SERVER_ERROR does; every request is recorded.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY_ID, KEY_SECRET = "rzp_test_fake", "fake-secret"


class FakeRazorpay:
    def __init__(self) -> None:
        self.orders: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.payouts: dict[str, dict] = {}
        self.payout_keys: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.fail_next_payouts = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                path = self.path.split("?", 1)[0]
                with fake._lock:
                    fake.requests.append({"method": method, "path": path, "headers": dict(self.headers), "body": body})
                    status, answer = fake.route(method, path, body, self.headers)
                self._answer(status, answer)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRazorpay:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _id(self, prefix: str) -> str:
        return f"{prefix}_FAKE{next(self._ids):08d}"

    @staticmethod
    def _error(status: int, code: str, text: str) -> tuple[int, dict]:
        return status, {"error": {"code": code, "description": text}}

    def route(self, method: str, path: str, body: dict, headers) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        if headers.get("Authorization") != expected:
            return self._error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        parts = [p for p in path.split("/") if p]
        if method == "POST" and parts == ["v1", "orders"]:
            order = {"id": self._id("order"), "entity": "order", "amount": body["amount"], "amount_paid": 0,
                     "currency": body["currency"], "receipt": body.get("receipt"), "status": "created",
                     "notes": body.get("notes", {})}  # fmt: skip
            self.orders[order["id"]] = order
            return 200, order
        if method == "GET" and len(parts) == 3 and parts[1] == "orders":
            return (
                (200, self.orders[parts[2]])
                if parts[2] in self.orders
                else self._error(400, "BAD_REQUEST_ERROR", "no order")
            )
        if method == "GET" and len(parts) == 4 and parts[1] == "orders" and parts[3] == "payments":
            items = [p for p in self.payments.values() if p["order_id"] == parts[2]]
            return 200, {"entity": "collection", "count": len(items), "items": items}
        if method == "GET" and len(parts) == 3 and parts[1] == "payments":
            return (
                (200, self.payments[parts[2]])
                if parts[2] in self.payments
                else self._error(400, "BAD_REQUEST_ERROR", "no payment")
            )
        if method == "POST" and len(parts) == 4 and parts[1] == "payments" and parts[3] == "refund":
            return 200, {"id": self._id("rfnd"), "entity": "refund", "payment_id": parts[2], "amount": body.get("amount"),
                         "status": "processed"}  # fmt: skip
        if method == "POST" and parts == ["v1", "payouts"]:
            key = headers.get("X-Payout-Idempotency")
            if not key:
                return self._error(400, "BAD_REQUEST_ERROR", "X-Payout-Idempotency header is required")
            if self.fail_next_payouts > 0:
                self.fail_next_payouts -= 1
                return self._error(500, "SERVER_ERROR", "We are facing some trouble completing your request")
            if key in self.payout_keys:
                return 200, self.payouts[self.payout_keys[key]]
            payout = {"id": self._id("pout"), "entity": "payout", "status": "processing", "utr": None,
                      "amount": body["amount"], "mode": body["mode"], "reference_id": body.get("reference_id"),
                      "fund_account": body.get("fund_account")}  # fmt: skip
            self.payouts[payout["id"]] = payout
            self.payout_keys[key] = payout["id"]
            return 200, payout
        if method == "GET" and len(parts) == 3 and parts[1] == "payouts":
            return (
                (200, self.payouts[parts[2]])
                if parts[2] in self.payouts
                else self._error(400, "BAD_REQUEST_ERROR", "no payout")
            )
        return self._error(404, "BAD_REQUEST_ERROR", f"no route {method} {path}")

    def capture(self, order_id: str, amount: int | None = None, currency: str | None = None) -> dict:
        """What a customer paying at Checkout makes: a captured payment on the order."""
        order = self.orders[order_id]
        payment = {"id": self._id("pay"), "entity": "payment", "order_id": order_id, "status": "captured",
                   "amount": order["amount"] if amount is None else amount,
                   "currency": currency or order["currency"], "method": "upi"}  # fmt: skip
        self.payments[payment["id"]] = payment
        order.update(status="paid", amount_paid=payment["amount"])
        return payment
