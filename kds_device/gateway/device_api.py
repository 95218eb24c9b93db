"""The kitchen screens' API (ARCHITECTURE 4.3): enroll, events (long-poll), status, parts,
heartbeat, health.

Everything but enroll and health needs ``Authorization: Bearer <device token>``; a device only
ever reads and writes its own location, which comes from its token, never from the request.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, g, jsonify, request

from kds_device.domain.heartbeat import read_heartbeat
from kds_device.domain.order import OrderPayloadError, read_order_id
from kds_device.domain.roles import Role, check_station_id
from kds_device.domain.status import KDS_SENDABLE
from kds_device.gateway.broker_accounts import BrokerError
from kds_device.gateway.devices import Device, Enrolled, code_hash_of
from kds_device.gateway.enroll_limits import client_key, code_key
from kds_device.gateway.health import health_reply
from kds_device.gateway.http_util import BadJson, error, parse_json, read_body
from kds_device.gateway.outbox import record_device_status
from kds_device.gateway.parts import PartChange, record_part
from kds_device.gateway.publisher import topic_for
from kds_device.gateway.services import services
from kds_device.gateway.stations import station_names

log = logging.getLogger(__name__)

blueprint = Blueprint("device_api", __name__, url_prefix="/api/v1")

Reply = Response | tuple[Response, int]
F = TypeVar("F", bound=Callable[..., Reply])

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
MAX_TEXT = 200
#: The longest long-poll a device may ask for (the document's maximum; the server may cap it
#: lower with server.long_poll_max_s).
MAX_WAIT_S = 30.0
#: Event seqs are SQLite integers: 2**63 - 1 at most.
MAX_SEQ = 2**63 - 1
_UNSIGNED = re.compile(r"[0-9]{1,19}")


def device_auth(view: F) -> F:
    """Require a valid device token; the device is then ``g.device``.

    A rotated device's token is refused everywhere but ``POST /credentials`` (with
    ``credentials_rotated``, so the screen knows to fetch new ones rather than re-enroll)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Reply:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        device = None
        if scheme.lower() == "bearer" and token.strip():
            device = services().devices.authenticate(token.strip())
        if device is None:
            return error(401, "unauthorized", "a valid device token is required")
        if device.rotated and view.__name__ != "credentials":
            return error(
                401, "credentials_rotated", "credentials rotated: POST /api/v1/credentials"
            )
        g.device = device
        return view(*args, **kwargs)

    return cast(F, wrapper)


@blueprint.get("/health")
def health() -> Reply:
    return health_reply(services().journal.db)


def _text(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise BadJson(f"{key} must be a non-empty string of at most {MAX_TEXT} characters")
    return value.strip()


@blueprint.post("/enroll")
def enroll() -> Reply:
    try:
        data = parse_json(read_body(services().config.server.max_body_bytes))
        if not isinstance(data, Mapping):
            raise BadJson("body must be a JSON object")
        code = _text(data, "code")
        name = _text(data, "name", "Screen")
        station = _text(data, "station", "Kitchen")
        role = _role(data.get("role"))
    except BadJson as problem:
        return error(400, "bad_request", str(problem))
    found = services()
    keys = (client_key(request.remote_addr or "?"), code_key(code_hash_of(code)))
    wait = found.enroll_limits.retry_after(keys)
    if wait is not None:
        log.warning("enrollment from %s refused: too many wrong codes", request.remote_addr)
        return _too_many(wait)
    try:
        enrolled = found.devices.enroll(code, name, station, role)
    except BrokerError as problem:
        return _broker_down(problem)
    if enrolled is None:
        log.warning("enrollment refused: unknown, used or expired code")
        found.enroll_limits.failed(keys)
        return error(404, "invalid_code", "the code is unknown, already used or expired")
    found.enroll_limits.succeeded(keys[0])
    device = enrolled.device
    log.info(
        "device %s (%s, %s, role %s) enrolled at %s",
        device.id,
        name,
        station,
        device.role.to_text(),
        device.location_id,
    )
    return jsonify(
        deviceId=device.id,
        token=enrolled.token,
        locationId=device.location_id,
        mqtt=_mqtt_settings(enrolled),
        role=device.role.to_json(),
    )


def _role(raw: object) -> Role:
    """The enrollment body's optional role (Role JSON); absent = all."""
    if raw is None:
        return Role()
    try:
        return Role.from_json(raw)
    except ValueError as problem:
        raise BadJson(f"role: {problem}") from None


@blueprint.get("/device")
@device_auth
def device_info() -> Reply:
    """Who this screen is: its name, location, role and the location's station names."""
    device: Device = g.device
    found = services()
    policy = found.config.stations
    return jsonify(
        id=device.id,
        name=device.name,
        locationId=device.location_id,
        role=device.role.to_json(),
        stationNames=station_names(found.journal, device.location_id),
        # What the gateway sends for parts ([stations]); an expo bump should send "expo".
        statuses={
            "firstPart": policy.first_part_status,
            "allParts": policy.all_parts_status,
            "expo": policy.expo_status,
        },
    )


@blueprint.post("/heartbeat")
@device_auth
def heartbeat() -> Reply:
    """The screen's state every few seconds; the latest is kept (``kds-gateway devices list``)."""
    device: Device = g.device
    found = services()
    try:
        beat = read_heartbeat(parse_json(read_body(found.config.server.max_body_bytes)))
    except (BadJson, ValueError) as problem:
        return error(400, "bad_request", str(problem))
    found.devices.record_heartbeat(device, beat)
    return Response(status=204)


@blueprint.post("/credentials")
@device_auth
def credentials() -> Reply:
    """Trade this device's token for a new token and broker password; the old ones stop."""
    try:
        renewed = services().devices.renew(g.device)
    except BrokerError as problem:
        return _broker_down(problem)
    log.info("device %s: credentials renewed", renewed.device.id)
    return jsonify(
        deviceId=renewed.device.id,
        token=renewed.token,
        locationId=renewed.device.location_id,
        mqtt=_mqtt_settings(renewed),
    )


def _too_many(wait: int) -> Reply:
    response, code = error(429, "too_many_attempts", f"too many wrong codes; retry in {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response, code


def _broker_down(problem: BrokerError) -> Reply:
    log.error("broker account change failed: %s", problem)
    response, code = error(503, "broker_unavailable", "the broker is unavailable; retry shortly")
    response.headers["Retry-After"] = "5"
    return response, code


def _mqtt_settings(enrolled: Enrolled) -> dict[str, Any] | None:
    mqtt = services().config.mqtt
    if not mqtt.enabled:
        return None
    username, password = mqtt.device_username or None, mqtt.device_password or None
    if mqtt.dynsec:  # its own broker user, bound to its client id
        username, password = enrolled.device.id, enrolled.broker_password
    return {
        "host": mqtt.device_host or mqtt.host,
        "port": mqtt.device_port or mqtt.port,
        "username": username,
        "password": password,
        "tls": mqtt.device_tls or mqtt.tls,
        "topic": topic_for(enrolled.device.location_id),
        "caCert": _device_ca(mqtt.device_ca_file),
    }


def _device_ca(path: str) -> str | None:
    """The site CA's PEM for screens to check the broker with (None: the system's CAs)."""
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as problem:
        log.error("mqtt.device_ca_file unreadable: %s", problem)
        return None


def _query_int(name: str, default: int, low: int, high: int) -> int:
    """A query integer in [low, high] as ASCII digits (int() would take "٣" and "1_0")."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _UNSIGNED.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadJson(f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _query_wait(default: float) -> float:
    raw = request.args.get("wait")
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadJson("wait must be a number") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_WAIT_S:
        raise BadJson(f"wait must be a number of seconds from 0 to {MAX_WAIT_S:g}")
    return value


@blueprint.get("/events")
@device_auth
def events() -> Reply:
    device: Device = g.device
    found = services()
    try:
        after = _query_int("after", 0, 0, MAX_SEQ)
        wait = min(_query_wait(0.0), found.config.server.long_poll_max_s)
        limit = _query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    except BadJson as problem:
        return error(400, "bad_request", str(problem))
    journal = found.journal
    deadline = time.monotonic() + wait
    location = device.location_id
    while True:
        generation = journal.notifier.generation_of(location)
        batch = journal.events_after(location, after, limit)
        left = deadline - time.monotonic()
        if batch or left <= 0 or found.stopping.is_set():
            break
        # Woken by a commit of this location (any process or host) or by a stop; re-checked
        # every recheck_s whatever happens.
        journal.notifier.wait_past(
            generation, min(left, found.config.database.recheck_interval_s), location
        )
    first, last = journal.bounds(device.location_id)
    return jsonify(events=[e.to_json() for e in batch], lastSeq=last, firstSeq=first)


@blueprint.post("/orders/<order_id:order_id>/status")
@device_auth
def order_status(order_id: str) -> Reply:
    device: Device = g.device
    try:
        order_id = read_order_id(order_id)
    except OrderPayloadError as problem:
        return error(400, "bad_request", str(problem))
    try:
        data = parse_json(read_body(services().config.server.max_body_bytes))
        if not isinstance(data, Mapping):
            raise BadJson("body must be a JSON object")
        status = data.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or status not in KDS_SENDABLE:
            raise BadJson(f"status must be one of {sorted(KDS_SENDABLE)}")
        key = _text(data, "key")
        reason = data.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 500:
            raise BadJson("reason must be a string of at most 500 characters")
    except BadJson as problem:
        return error(400, "bad_request", str(problem))
    found = services()
    answer = record_device_status(found.journal, device, order_id, status, reason, key)
    if answer.body.get("accepted"):
        found.outbox_notifier.notify()
        log.info("order %s: status %d from device %s queued", order_id, status, device.id)
    return jsonify(answer.body), answer.code


#: The highest item index a request may name (an order has at most MAX_ITEMS items).
MAX_ITEM_INDEX = 1999


@blueprint.post("/orders/<order_id:order_id>/parts/<station>")
@device_auth
def order_part(order_id: str, station: str) -> Reply:
    """A station's part of an order done (``done: true``) or reopened (recall)."""
    return _part_change(order_id, station, None)


@blueprint.post("/orders/<order_id:order_id>/items/<index>")
@device_auth
def order_item(order_id: str, index: str) -> Reply:
    """One item of a station's part done, or undone."""
    if not _UNSIGNED.fullmatch(index) or int(index) > MAX_ITEM_INDEX:
        return error(
            400, "bad_request", f"item index must be an integer from 0 to {MAX_ITEM_INDEX}"
        )
    return _part_change(order_id, None, int(index))


def _part_change(order_id: str, station: str | None, item: int | None) -> Reply:
    device: Device = g.device
    found = services()
    try:
        order_id = read_order_id(order_id)
        data = parse_json(read_body(found.config.server.max_body_bytes))
        if not isinstance(data, Mapping):
            raise BadJson("body must be a JSON object")
        if station is None:
            station = data.get("station")
            if station is None:
                raise BadJson("station is required for an item")
        elif "station" in data and data["station"] != station:
            raise BadJson("station in the body differs from the one in the path")
        station = _station(station)
        done = data.get("done")
        if not isinstance(done, bool):
            raise BadJson("done must be true or false")
        key = _text(data, "key")
    except (BadJson, OrderPayloadError) as problem:
        return error(400, "bad_request", str(problem))
    change = PartChange(station, done, key, item)
    answer = record_part(found.journal, device, order_id, change, found.config.stations.policy)
    if answer.body.get("statuses"):
        found.outbox_notifier.notify()
    if answer.body.get("accepted"):
        what = station if item is None else f"{station} item {item}"
        log.info(
            "order %s: %s %s by device %s%s",
            order_id,
            what,
            "done" if done else "reopened",
            device.id,
            f"; statuses {answer.body['statuses']} queued" if answer.body.get("statuses") else "",
        )
    return jsonify(answer.body), answer.code


def _station(value: object) -> str:
    if value == "all":
        return "all"
    try:
        return check_station_id(value)
    except ValueError as problem:
        raise BadJson(str(problem)) from None
