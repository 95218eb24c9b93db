"""A tiny stand-in for the gateway's Deliverect webhooks: verifies signatures, records bodies.

Enough to test ``kds-sim send`` and ``WebhookSender`` on their own; the gateway's tests run the
same sender against the real gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request

SIGNATURE_HEADER = "X-Server-Authorization-HMAC-SHA256"


@dataclass(frozen=True)
class Received:
    path: str
    body: bytes
    signed_ok: bool
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Records every webhook; ``answers`` queues status codes to answer next (per path)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.base_url = ""
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.answers: dict[str, deque[int]] = {}

    def queue(self, path: str, *codes: int) -> None:
        with self.lock:
            self.answers.setdefault(path, deque()).extend(codes)

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def app(self) -> Flask:
        app = Flask(__name__)

        def take(path: str, ok_code: int, ok_body: Any) -> tuple[Response, int]:
            raw = request.get_data()
            expected = hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
            signed_ok = hmac.compare_digest(expected, request.headers.get(SIGNATURE_HEADER, ""))
            with self.lock:
                queued = self.answers.get(path)
                code = queued.popleft() if queued else (ok_code if signed_ok else 401)
                self.received.append(Received(path, raw, signed_ok, code))
            if code == 401:
                return jsonify(error="bad signature"), 401
            return jsonify(ok_body if code < 300 else {"error": "injected"}), code

        @app.post("/deliverect/register")
        def register() -> Any:
            base = self.base_url
            urls = {
                "productSyncUrl": f"{base}/hooks/products?t=loc1",
                "orderWebhookUrl": f"{base}/hooks/orders?t=loc1",
                "orderStatusUpdateUrl": f"{base}/hooks/status?t=loc1",
            }
            return take("register", 200, urls)

        @app.post("/hooks/products")
        def products() -> Any:
            return take("products", 200, {})

        @app.post("/hooks/orders")
        def orders() -> Any:
            return take("orders", 201, {})

        @app.post("/hooks/status")
        def status() -> Any:
            return take("status", 200, {})

        return app
