"""Sends Deliverect's webhooks to a gateway the way Deliverect does: signed, and retried.

Every body is signed with ``X-Server-Authorization-HMAC-SHA256`` = hex HMAC-SHA256 of the exact
bytes sent (protocol notes 3.1). Retries follow Deliverect's documented order-webhook policy
(section 5): only on failing to connect, or on 502/503/504; delays are configurable and short by
default (Deliverect waits 10, 20, 40, 80, 160 s). Any other answer is reported, not retried.
Used by ``kds-sim send``, the demo and the gateway's tests and benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from kds_device.http_close import close_session

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Server-Authorization-HMAC-SHA256"
#: Deliverect's own retry delays for the order webhook, for runs that want the real pacing.
DELIVERECT_RETRY_DELAYS_S = (10.0, 20.0, 40.0, 80.0, 160.0)
FAST_RETRY_DELAYS_S = (0.2, 0.4, 0.8, 1.6, 3.2)
RETRY_STATUSES = frozenset({502, 503, 504})
#: What Deliverect counts as a delivered order webhook; anything else is a failure.
ORDER_OK_STATUSES = frozenset({200, 201, 204})


def sign(secret: str | bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` under ``secret``: the value of ``SIGNATURE_HEADER``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is (as Deliverect sends names like "Chloé")."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class SendError(Exception):
    """The gateway did not take a webhook (registration cannot go on without its answer)."""


@dataclass(frozen=True)
class RegisteredUrls:
    """The three URLs a KDS answers to registration; empty ones are not used (section 2.1)."""

    product_sync_url: str
    order_webhook_url: str
    order_status_update_url: str


@dataclass(frozen=True)
class Delivery:
    """How one webhook went: ``ok`` when the gateway took it (after ``attempts`` tries)."""

    kind: str  # register | products | order | duplicate | cancel | status
    url: str
    ok: bool
    status_code: int | None
    attempts: int
    detail: str
    order_id: str = ""
    answer: bytes = b""


class WebhookSender:
    """Deliverect's side of the KDS webhooks, aimed at one gateway and one HMAC secret."""

    def __init__(
        self,
        gateway_url: str,
        secret: str,
        *,
        register_path: str = "/deliverect/register",
        retry_delays_s: Sequence[float] = FAST_RETRY_DELAYS_S,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "Deliverect/kds-sim",
    ) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self._secret = secret
        self.register_path = register_path
        self.retry_delays_s = tuple(retry_delays_s)
        self.timeout = (connect_timeout_s, read_timeout_s)
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self.urls: RegisteredUrls | None = None

    def close(self) -> None:
        close_session(self._session)

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the webhooks -------------------------------------------------------------------

    def register(
        self, account_id: str, location_id: str, external_reference: str
    ) -> RegisteredUrls:
        """POST the registration; remember and return the URLs the gateway answered."""
        url = f"{self.gateway_url}{self.register_path}"
        body = {
            "accountId": account_id,
            "locationId": location_id,
            "externalReference": external_reference,
        }
        delivery = self.post("register", url, encode(body), ok_statuses=frozenset({200}))
        if not delivery.ok:
            raise SendError(f"registration refused: {delivery.detail}")
        try:
            answer = json.loads(delivery.answer)
            self.urls = RegisteredUrls(
                str(answer.get("productSyncUrl") or ""),
                str(answer.get("orderWebhookUrl") or ""),
                str(answer.get("orderStatusUpdateUrl") or ""),
            )
        except (ValueError, AttributeError) as exc:
            raise SendError(f"registration answer is not a JSON object: {exc}") from exc
        return self.urls

    def push_products(self, products: Sequence[Mapping[str, Any]]) -> Delivery:
        """POST the product list (a bare JSON array) to ``productSyncUrl``."""
        return self.post("products", self._url("product_sync_url"), encode(list(products)))

    def send_order(self, payload: Mapping[str, Any], kind: str = "order") -> Delivery:
        """POST a new order (or, with ``kind="duplicate"``, the same one again)."""
        return self._order(kind, payload)

    def send_cancel(self, cancel: Mapping[str, Any]) -> Delivery:
        """POST a cancel (status 100, e.g. ``OrderGenerator.cancel(order)``) to the order URL."""
        if cancel.get("status") != 100:
            raise ValueError("a cancel has status 100; build it with OrderGenerator.cancel()")
        return self._order("cancel", cancel)

    def send_status_update(self, payload: Mapping[str, Any]) -> Delivery:
        """POST an order-status-change event to ``orderStatusUpdateUrl`` (shape: section 2.4)."""
        return self.post(
            "status",
            self._url("order_status_update_url"),
            encode(dict(payload)),
            order_id=str(payload.get("orderId", "")),
        )

    # ---- the transport ------------------------------------------------------------------

    def post(
        self,
        kind: str,
        url: str,
        body: bytes,
        *,
        ok_statuses: frozenset[int] = ORDER_OK_STATUSES,
        order_id: str = "",
    ) -> Delivery:
        """Sign and POST ``body`` as is; retry like Deliverect; report how it went."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body)}
        attempts = 0
        while True:
            attempts += 1
            code: int | None = None
            try:
                response = self._session.post(url, data=body, headers=headers, timeout=self.timeout)
            except requests.ConnectionError as exc:  # includes the connect timeout
                detail = f"cannot connect: {exc}"
            except requests.RequestException as exc:  # read timeout and the like: not retried
                return Delivery(kind, url, False, None, attempts, f"failed: {exc}", order_id)
            else:
                code = response.status_code
                if code not in RETRY_STATUSES:
                    ok = code in ok_statuses
                    detail = f"HTTP {code}" + ("" if ok else f": {response.text[:300]}")
                    return Delivery(
                        kind, url, ok, code, attempts, detail, order_id, response.content
                    )
                detail = f"HTTP {code}: {response.text[:300]}"
            if attempts > len(self.retry_delays_s):
                return Delivery(kind, url, False, code, attempts, detail, order_id)
            delay = self.retry_delays_s[attempts - 1]
            log.info("%s to %s failed (%s); retry in %.1f s", kind, url, detail, delay)
            self._sleep(delay)

    def _order(self, kind: str, payload: Mapping[str, Any]) -> Delivery:
        order_id = str(payload.get("orderId", ""))
        url = self._url("order_webhook_url")
        return self.post(kind, url, encode(dict(payload)), order_id=order_id)

    def _url(self, name: str) -> str:
        if self.urls is None:
            raise SendError("register() first: the gateway's URLs are not known yet")
        url = str(getattr(self.urls, name))
        if not url:
            raise SendError(f"the gateway answered no {name}")
        return url
