"""The gateway's client for Deliverect's KDS API: OAuth token + ``POST /kds/orderStatus``.

One attempt per call: the gateway's durable outbox stores and retries, this client only says
how a call went (``SendResult``) and how long to wait (``backoff_s``). Protocol notes 3.2, 3.3, 5.

Classification (documented choice):

* 2xx -> ``ok``.
* connection error, timeout, 408, 429, 5xx -> ``retry`` (``retry_after_s`` from ``Retry-After``).
* 401 from orderStatus: the token is dropped, a new one fetched and the call repeated once;
  a second 401 -> ``retry``: a fresh token being refused is a credentials/scope problem of the
  gateway, not of this status, so the status must wait for the operator rather than be dropped.
* token endpoint failures -> ``retry``, including refused credentials (401/403): the same
  reasoning; ``detail`` starts with ``token:`` so the outbox can raise an alarm.
* any other 4xx -> ``rejected`` (this status will never be accepted as sent).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

from kds_device.domain.status import KDS_SENDABLE
from kds_device.http_close import close_session

log = logging.getLogger(__name__)

OK = "ok"
RETRY = "retry"
REJECTED = "rejected"

DEFAULT_AUDIENCE = "https://api.deliverect.com"
#: Refresh this long before expiry (24 h tokens), or 10 % of the lifetime for short tokens.
TOKEN_MARGIN_S = 300.0
_RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class SendResult:
    """How one orderStatus call went: ``outcome`` is ``ok``, ``retry`` or ``rejected``."""

    outcome: str
    http_status: int | None
    retry_after_s: float | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome == OK


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP-date); None if absent
    or unreadable. Never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_s(
    attempt: int,
    retry_after_s: float | None,
    base: float = 1.0,
    cap: float = 300.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before retry number ``attempt`` (1 = first retry): exponential ``base * 2**(n-1)``
    capped at ``cap``, with "equal jitter" (half fixed, half random) so many gateways do not
    retry in step; never less than the server's ``Retry-After``."""
    exponent = min(max(attempt, 1) - 1, 62)
    ceiling = min(cap, base * (2.0**exponent))
    delay = ceiling / 2 + rand() * ceiling / 2
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


class _TokenError(Exception):
    """The token endpoint did not give us a token; carries the result to report."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.detail)
        self.result = result


class DeliverectClient:
    """Sends KDS order statuses (50/60/70/80) to Deliverect with a cached bearer token.

    Thread-safe: the token is fetched under a lock. ``clock`` is a monotonic seconds source
    (tests may pass a fake one); token lifetimes use ``expires_in`` so a wrong wall clock on a
    Pi without RTC does not matter.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        audience: str = DEFAULT_AUDIENCE,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.audience = audience
        self.timeout_s = timeout_s
        self._clock = clock
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "kds-gateway"
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_valid_until = 0.0
        #: How many tokens this client fetched (tests and the status page read it).
        self.tokens_fetched = 0

    def close(self) -> None:
        close_session(self._session)

    def __enter__(self) -> DeliverectClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the one call -------------------------------------------------------------------

    def send_status(self, order_id: str, status: int, reason: str = "") -> SendResult:
        """POST one status for ``order_id``; one attempt (plus one token refresh on 401)."""
        if isinstance(status, bool) or not isinstance(status, int) or status not in KDS_SENDABLE:
            raise ValueError(f"a KDS may only send statuses 50/60/70/80, not {status!r}")
        if not order_id:
            raise ValueError("order_id is empty")
        body: dict[str, Any] = {"orderId": order_id, "status": status}
        if reason:
            body["reason"] = reason
        url = f"{self.base_url}/kds/orderStatus/{quote(order_id, safe='')}"
        for first in (True, False):
            try:
                token = self._current_token()
            except _TokenError as exc:
                return exc.result
            result = self._post_status(url, body, token)
            if result.http_status == 401 and first:
                log.info("orderStatus answered 401 for %s; fetching a new token", order_id)
                self.invalidate_token(token)
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_status(self, url: str, body: dict[str, Any], token: str) -> SendResult:
        try:
            response = self._session.post(
                url,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout_s,
            )
        except requests.Timeout as exc:
            return SendResult(RETRY, None, None, f"timeout: {exc}")
        except requests.RequestException as exc:
            return SendResult(RETRY, None, None, f"connection: {exc}")
        return classify(response)

    # ---- token --------------------------------------------------------------------------

    def invalidate_token(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still ``token``, when given)."""
        with self._lock:
            if token is None or token == self._token:
                self._token = None
                self._token_valid_until = 0.0

    def _current_token(self) -> str:
        with self._lock:
            if self._token is not None and self._clock() < self._token_valid_until:
                return self._token
            token, lifetime = self._fetch_token()
            self._token = token
            self._token_valid_until = self._clock() + lifetime - min(TOKEN_MARGIN_S, lifetime / 10)
            self.tokens_fetched += 1
            return token

    def _fetch_token(self) -> tuple[str, float]:
        body = {
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "audience": self.audience,
            "grant_type": "client_credentials",
        }
        try:
            response = self._session.post(
                f"{self.base_url}/oauth/token", json=body, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            raise _TokenError(SendResult(RETRY, None, None, f"token: connection: {exc}")) from exc
        if response.status_code in (401, 403):
            raise _TokenError(
                SendResult(
                    RETRY,
                    response.status_code,
                    None,
                    f"token: credentials refused ({response.status_code}); check client id/secret",
                )
            )
        if not 200 <= response.status_code < 300:
            got = classify(response)
            raise _TokenError(
                SendResult(RETRY, got.http_status, got.retry_after_s, f"token: {got.detail}")
            )
        try:
            data = response.json()
            token = str(data["access_token"])
            lifetime = _lifetime_s(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise _TokenError(
                SendResult(RETRY, response.status_code, None, f"token: unreadable answer: {exc}")
            ) from exc
        if not token:
            raise _TokenError(SendResult(RETRY, response.status_code, None, "token: empty token"))
        return token, lifetime


def _lifetime_s(data: dict[str, Any]) -> float:
    """Seconds the token lives: ``expires_in``, else ``expires_at`` minus the wall clock."""
    if data.get("expires_in") is not None:
        lifetime = float(data["expires_in"])
    elif data.get("expires_at") is not None:
        lifetime = float(data["expires_at"]) - time.time()
    else:
        raise KeyError("expires_in")
    if lifetime <= 0:
        raise ValueError(f"token already expired ({lifetime:.0f} s)")
    return lifetime


def classify(response: requests.Response) -> SendResult:
    """Turn an HTTP answer into a ``SendResult`` (see the module docstring)."""
    code = response.status_code
    detail = f"HTTP {code}: {_snippet(response)}"
    if 200 <= code < 300:
        return SendResult(OK, code, None, f"HTTP {code}")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if code in _RETRY_STATUSES or code >= 500 or code == 401:
        return SendResult(RETRY, code, retry_after, detail)
    return SendResult(REJECTED, code, None, detail)


def _snippet(response: requests.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] if text else response.reason or ""
