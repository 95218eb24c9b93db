"""What the simulated Deliverect knows: issued tokens, recorded calls, queued faults.

Shared by the Flask app (``deliverect_api``), the tests and the in-process demo; thread-safe.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SCOPE = "genericKDS"
#: Besides these, a fault kind may be any HTTP error status from 400 to 599 ("429", "503", ...).
FAULT_ACTIONS = frozenset({"slow", "expire_tokens"})
FAULT_ENDPOINTS = frozenset({"orderStatus", "token"})


@dataclass(frozen=True)
class CallRecord:
    """One ``POST /kds/orderStatus/{orderId}`` as the simulator saw and answered it."""

    order_id: str
    status: int | None
    reason: str
    at: str  # ISO-8601 UTC, when the call arrived
    http_status: int  # what the simulator answered
    fault: str | None  # the injected fault that shaped the answer, if any
    detail: str  # why an error was answered ("" on 200)

    @property
    def accepted(self) -> bool:
        return self.http_status == 200

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /_sim/calls``), in Deliverect's camelCase."""
        return {
            "orderId": self.order_id,
            "status": self.status,
            "reason": self.reason,
            "at": self.at,
            "httpStatus": self.http_status,
            "fault": self.fault,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Fault:
    """A misbehaviour for the next call to ``endpoint``: an HTTP error status such as ``429``
    (``Retry-After: retry_after``, 1 s by default) or ``503`` (``Retry-After`` only if given),
    ``slow`` (answer normally after ``seconds``) or ``expire_tokens`` (every token issued so far
    expires, then the call is handled, so it gets 401 token_expired)."""

    kind: str
    retry_after: float | None = None
    seconds: float = 0.0
    endpoint: str = "orderStatus"

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | str) -> list[Fault]:
        """A fault from its JSON form (``{"kind": "429", "retry_after": 2, "times": 3}``) or a
        bare kind; ``times`` repeats it. Raises ValueError on anything else."""
        if isinstance(raw, str):
            raw = {"kind": raw}
        if not isinstance(raw, Mapping):
            raise ValueError("a fault is an object with a 'kind'")
        kind = str(raw.get("kind", ""))
        if kind not in FAULT_ACTIONS and not (kind.isdigit() and 400 <= int(kind) <= 599):
            raise ValueError(f"unknown fault kind {kind!r}: 400-599, slow or expire_tokens")
        endpoint = str(raw.get("endpoint", "orderStatus"))
        if endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(FAULT_ENDPOINTS)}")
        try:
            times = int(raw.get("times", 1))
            retry_after = None if raw.get("retry_after") is None else float(raw["retry_after"])
            seconds = float(raw.get("seconds", 0.0))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad fault number: {exc}") from None
        if not 1 <= times <= 10_000 or seconds < 0 or (retry_after is not None and retry_after < 0):
            raise ValueError("times must be 1..10000, seconds and retry_after not negative")
        if kind == "429" and retry_after is None:
            retry_after = 1.0  # Deliverect's rate limiter answers Retry-After: 1
        return [cls(kind, retry_after, seconds, endpoint)] * times


class SimState:
    """Everything the simulator knows; shared by the Flask app, tests and the in-process demo.

    ``clock`` gives wall-clock epoch seconds (token expiry). ``on_call`` is called with every
    ``CallRecord`` (from the server thread; keep it short).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_ttl_s: float = 86400.0,
        audience: str = "https://api.deliverect.com",
        clock: Callable[[], float] = time.time,
        on_call: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl_s = float(token_ttl_s)
        self.audience = audience
        self.clock = clock
        self.on_call = on_call
        self.stopping = threading.Event()  # ends slow answers early when the server stops
        self._changed = threading.Condition()
        self._calls: list[CallRecord] = []
        self._faults: dict[str, deque[Fault]] = {name: deque() for name in FAULT_ENDPOINTS}
        self._tokens: dict[str, float] = {}  # token -> expires at (epoch seconds)
        self.tokens_issued = 0

    # ---- inspection --------------------------------------------------------------------

    def calls(self) -> list[CallRecord]:
        with self._changed:
            return list(self._calls)

    def accepted_calls(self) -> list[CallRecord]:
        """The calls answered 200: what Deliverect actually took."""
        return [call for call in self.calls() if call.accepted]

    def last_status(self, order_id: str) -> int | None:
        """The latest status Deliverect accepted for ``order_id``."""
        for call in reversed(self.calls()):
            if call.accepted and call.order_id == order_id:
                return call.status
        return None

    def wait_for_calls(
        self, n: int, timeout: float = 5.0, accepted_only: bool = False
    ) -> list[CallRecord]:
        """Block until at least ``n`` calls (or accepted calls) are recorded; return them.
        Raises TimeoutError with what did arrive."""

        def matching() -> list[CallRecord]:
            return [c for c in self._calls if c.accepted or not accepted_only]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= n, timeout):
                raise TimeoutError(f"wanted {n} calls within {timeout} s, got {matching()}")
            return matching()

    def pending_faults(self) -> list[Fault]:
        with self._changed:
            return [f for queue in self._faults.values() for f in queue]

    # ---- control -----------------------------------------------------------------------

    def inject(self, *faults: Fault | Mapping[str, Any] | str) -> int:
        """Queue faults (``Fault``, their JSON form, or a bare kind); returns how many."""
        parsed: list[Fault] = []
        for fault in faults:
            parsed.extend([fault] if isinstance(fault, Fault) else Fault.parse(fault))
        with self._changed:
            for fault in parsed:
                self._faults[fault.endpoint].append(fault)
        return len(parsed)

    def reset(self) -> None:
        """Forget calls and pending faults (issued tokens stay valid)."""
        with self._changed:
            self._calls.clear()
            for queue in self._faults.values():
                queue.clear()
            self._changed.notify_all()

    def expire_tokens(self) -> None:
        with self._changed:
            now = self.clock()
            self._tokens = {token: min(until, now) for token, until in self._tokens.items()}

    # ---- used by the app ---------------------------------------------------------------

    def next_fault(self, endpoint: str) -> Fault | None:
        with self._changed:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._changed:
            self._tokens[token] = now + self.token_ttl_s
            self.tokens_issued += 1
        ttl = self.token_ttl_s
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(ttl) if ttl.is_integer() else ttl,
            "expires_at": int(now + self.token_ttl_s),
            "scope": SCOPE,
        }

    def token_state(self, token: str) -> str:
        """``valid``, ``expired`` or ``unknown``."""
        with self._changed:
            until = self._tokens.get(token)
        if until is None:
            return "unknown"
        return "valid" if self.clock() < until else "expired"

    def record(self, call: CallRecord) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        if self.on_call is not None:
            try:
                self.on_call(call)
            except Exception:  # a broken hook must not break the simulated API
                log.exception("on_call hook failed")
