"""The device's HTTP client for the gateway's device API (ARCHITECTURE 4.3).

One :class:`GatewayClient` per thread (a ``requests.Session`` is not meant to be shared): the
event poller has one, the outbox sender another. Every call has a timeout; every answer comes
back typed. Transport failures, timeouts, 5xx and answers that are not what the contract says
raise :class:`GatewayUnreachable` (worth retrying); 4xx raise :class:`GatewayRefused` (final,
except 401/403/429 which the callers treat as "wait and retry").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from kds_device import __version__
from kds_device.adapters.clock_sync import ClockCheck
from kds_device.adapters.credentials import RENEW_PATH, ROTATED, Credentials
from kds_device.adapters.enrollment import Enrollment, MqttSettings, now_iso
from kds_device.domain.events import Event
from kds_device.domain.ticket import PartChange, Request, StatusChange
from kds_device.http_close import close_session

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0
#: Added to the long-poll hold time for the read timeout (the gateway answers at ``wait``).
HOLD_MARGIN_S = 5.0
MAX_HOLD_S = 30.0  # the gateway holds at most this long, whatever we ask


class GatewayUnreachable(Exception):
    """No usable answer: connection refused or reset, timeout, 5xx, or a malformed body."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class GatewayRefused(Exception):
    """The gateway answered 4xx: ``status``, its ``error`` code and ``detail``."""

    def __init__(
        self, status: int, error: str, detail: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.retry_after = retry_after

    @property
    def final(self) -> bool:
        """True when sending the same request again cannot help (not auth, not rate limit)."""
        return self.status not in (401, 403, 408, 429)


@dataclass(frozen=True)
class EventBatch:
    """One answer of ``GET /api/v1/events``: events in ``seq`` order (junk left out)."""

    events: tuple[Event, ...]
    last_seq: int  # the newest seq the gateway has for this location
    first_seq: int | None  # the oldest it still keeps
    skipped: int = 0  # entries that were not events (logged)


@dataclass(frozen=True)
class StatusAccepted:
    """``POST /api/v1/orders/{id}/status`` answered 200 (also for a repeated key)."""

    order_id: str
    status: int
    key: str
    accepted: bool  # False: the gateway kept it but will not forward it (e.g. backwards)
    seq: int | None


def enroll(
    gateway_url: str,
    code: str,
    name: str,
    station: str,
    session: requests.Session | None = None,
    ca_file: str = "",
    role: Mapping[str, Any] | None = None,
) -> Enrollment:
    """Trade a one-time code for an identity (not saved here: see ``save_enrollment``).

    ``ca_file``: the site CA that signed the gateway's HTTPS certificate."""
    base = gateway_url.rstrip("/")
    client = GatewayClient(base, token="", session=session, ca_file=ca_file)
    request: dict[str, Any] = {"code": code, "name": name, "station": station}
    if role is not None:
        request["role"] = dict(role)
    try:
        body = client.request_json("POST", "/api/v1/enroll", json=request)
    finally:
        if session is None:
            client.close()
    try:
        device_id = _string(body, "deviceId")
        token = _string(body, "token")
        location_id = _string(body, "locationId")
        mqtt = MqttSettings.from_json(body.get("mqtt"))
    except ValueError as error:
        raise GatewayUnreachable(f"enroll answer malformed: {error}") from None
    return Enrollment(
        gateway_url=base,
        device_id=device_id,
        token=token,
        location_id=location_id,
        name=name,
        station=station,
        mqtt=mqtt,
        enrolled_at=now_iso(),
        ca_file=ca_file,
        role=body["role"] if isinstance(body.get("role"), Mapping) else role,
    )


class GatewayClient:
    """Typed calls to the device API with one enrolled identity."""

    def __init__(
        self,
        base_url: str,
        token: str,
        session: requests.Session | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        credentials: Credentials | None = None,
        ca_file: str = "",
        clock: ClockCheck | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock  # told the gateway's Date of every answer
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"kds-device/{__version__}"
        #: A site CA: only certificates it signed pass. Given with each request, because
        #: requests lets $REQUESTS_CA_BUNDLE override a session's own ``verify``.
        self._verify: str | bool = ca_file or True
        self._token = token
        #: Shared with the screen's other clients: a rotated token is renewed there, once.
        self._credentials = credentials
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s

    @classmethod
    def for_enrollment(
        cls, enrollment: Enrollment, credentials: Credentials | None = None, **kwargs: Any
    ) -> GatewayClient:
        kwargs.setdefault("ca_file", enrollment.ca_file)
        return cls(enrollment.gateway_url, enrollment.token, credentials=credentials, **kwargs)

    @property
    def token(self) -> str:
        return self._credentials.token if self._credentials is not None else self._token

    def close(self) -> None:
        close_session(self._session)

    # ---- the calls ----------------------------------------------------------------------

    def fetch_events(self, after: int, wait_s: float = 0.0, limit: int | None = None) -> EventBatch:
        """Events with ``seq > after``; the gateway holds up to ``wait_s`` when there are none."""
        wait = int(max(0.0, min(wait_s, MAX_HOLD_S)))  # whole seconds: what the contract says
        params: dict[str, Any] = {"after": max(0, after), "wait": wait}
        if limit is not None:
            params["limit"] = limit
        body = self.request_json(
            "GET", "/api/v1/events", params=params, read_timeout_s=wait + HOLD_MARGIN_S
        )
        raw_events = body.get("events")
        last_seq = body.get("lastSeq")
        if not isinstance(raw_events, list) or not _is_int(last_seq):
            raise GatewayUnreachable("events answer malformed: needs events[] and lastSeq")
        first_seq = body.get("firstSeq")
        events: list[Event] = []
        skipped = 0
        for raw in raw_events:
            try:
                events.append(Event.from_json(raw))
            except ValueError as error:
                skipped += 1
                log.warning("skipping a junk event from the gateway: %s", error)
        events.sort(key=lambda e: e.seq)
        return EventBatch(
            events=tuple(events),
            last_seq=_as_int(last_seq) or 0,
            first_seq=_as_int(first_seq),
            skipped=skipped,
        )

    def post_status(self, change: StatusChange, reason: str | None = None) -> StatusAccepted:
        """Hand one bump to the gateway; the same ``key`` twice is one change there."""
        payload: dict[str, Any] = {"status": change.status, "key": change.key}
        if reason:
            payload["reason"] = reason
        path = f"/api/v1/orders/{quote(change.order_id, safe='')}/status"
        body = self.request_json("POST", path, json=payload)
        status = _as_int(body.get("status"))
        return StatusAccepted(
            order_id=str(body.get("orderId") or change.order_id),
            status=change.status if status is None else status,
            key=str(body.get("key") or change.key),
            accepted=bool(body.get("accepted", True)),
            seq=_as_int(body.get("seq")),
        )

    def post_request(self, change: Request) -> StatusAccepted:
        """Hand one request (a status, a part or an item change) to the gateway; the same
        ``key`` twice is one change there."""
        if isinstance(change, StatusChange):
            return self.post_status(change)
        order = quote(change.order_id, safe="")
        station = quote(change.station, safe="")
        if isinstance(change, PartChange):
            path = f"/api/v1/orders/{order}/parts/{station}"
            payload: dict[str, Any] = {"done": change.done, "key": change.key}
        else:
            path = f"/api/v1/orders/{order}/items/{change.item}"
            payload = {"station": change.station, "done": change.done, "key": change.key}
        body = self.request_json("POST", path, json=payload)
        return StatusAccepted(
            order_id=change.order_id,
            status=0,
            key=change.key,
            accepted=bool(body.get("accepted", True)),
            seq=_as_int(body.get("seq")),
        )

    def post_heartbeat(self, body: Mapping[str, Any]) -> None:
        """``POST /api/v1/heartbeat`` (answered 204)."""
        self.request_json("POST", "/api/v1/heartbeat", json=dict(body))

    def device_info(self) -> Mapping[str, Any]:
        """``GET /api/v1/device``: this screen's name, location and role."""
        return self.request_json("GET", "/api/v1/device")

    def health(self) -> bool:
        try:
            self.request_json("GET", "/api/v1/health")
        except (GatewayUnreachable, GatewayRefused):
            return False
        return True

    # ---- plumbing -----------------------------------------------------------------------

    def request_json(
        self,
        method: str,
        path: str,
        read_timeout_s: float | None = None,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        """One request; the JSON object answered, or one of this module's exceptions.

        A 401 ``credentials_rotated`` renews the shared credentials and retries once."""
        token = self.token
        try:
            return self._request(method, path, read_timeout_s, token, **kwargs)
        except GatewayRefused as refusal:
            credentials = self._credentials
            if refusal.status != 401 or refusal.error != ROTATED or credentials is None:
                raise
            if path == RENEW_PATH or not credentials.renew(token, self._renew):
                raise
        return self._request(method, path, read_timeout_s, self.token, **kwargs)

    def _renew(self, path: str, stale_token: str) -> Mapping[str, Any]:
        return self._request("POST", path, None, stale_token)

    def _request(
        self,
        method: str,
        path: str,
        read_timeout_s: float | None,
        token: str,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        timeout = (self._connect_timeout, read_timeout_s or self._read_timeout)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                timeout=timeout,
                headers=headers,
                verify=self._verify,
                **kwargs,
            )
        except requests.Timeout:
            raise GatewayUnreachable(f"{method} {path}: timed out") from None
        except requests.RequestException as error:
            raise GatewayUnreachable(f"{method} {path}: {_short(error)}") from None
        if self.clock is not None:
            self.clock.note_date(response.headers.get("Date"), datetime.now(UTC), time.monotonic())
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if response.status_code >= 500:
            raise GatewayUnreachable(
                f"{method} {path}: HTTP {response.status_code}", retry_after=retry_after
            )
        if response.status_code == 204:
            return {}  # taken, nothing to say (a heartbeat)
        try:
            body = response.json()
        except ValueError:
            body = None
        if 400 <= response.status_code < 500:
            code, detail = "", response.text[:200]
            if isinstance(body, Mapping):
                code = str(body.get("error") or "")
                detail = str(body.get("detail") or detail)
            raise GatewayRefused(response.status_code, code, detail, retry_after)
        if not isinstance(body, Mapping):
            raise GatewayUnreachable(
                f"{method} {path}: HTTP {response.status_code} without a JSON object"
            )
        return body


def _string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _short(error: Exception) -> str:
    """The useful end of requests' nested error messages."""
    text = str(error)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "the gateway's certificate is not trusted (check the site CA file: --ca-file)"
    for marker in ("Connection refused", "Connection reset", "Name or service not known"):
        if marker in text:
            return marker.lower()
    return text[:160]
