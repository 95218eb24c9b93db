"""Deliverect's webhooks: register, orders (and cancels), product pushes, status updates.

Every request is checked in this order: body size (413), signature over the raw bytes (401,
nothing stored), location (404), JSON and the least an order needs (400, kept in the rejected
log). Only then is anything journaled, and the 2xx goes out after the commit.

Degrade, don't drop (Deliverect does not retry a 4xx): an order body that is a JSON object
with a usable order id is journaled whatever else is wrong with it; its problems are flagged
on the ticket, logged, and its raw body kept in the flagged log (``kds-gateway flagged``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from kds_device.domain.order import Cancel, OrderPayloadError, order_id_of, parse_webhook
from kds_device.domain.status import coerce_status
from kds_device.gateway import hmac_auth
from kds_device.gateway.courier import is_courier_status, record_courier
from kds_device.gateway.http_util import LOCATION_ID, BadJson, error, parse_json, read_body
from kds_device.gateway.journal import UnknownLocation
from kds_device.gateway.services import services
from kds_device.gateway.storage import StorageError

log = logging.getLogger(__name__)

blueprint = Blueprint("deliverect", __name__, url_prefix="/deliverect")

Reply = Response | tuple[Response, int]


class Refused(Exception):
    """Stop handling a webhook and answer ``reply``."""

    def __init__(self, reply: tuple[Response, int]) -> None:
        super().__init__()
        self.reply = reply


@blueprint.errorhandler(Refused)
def _refused(refusal: Refused) -> tuple[Response, int]:
    return refusal.reply


def _authenticated_body(location_id: str | None) -> bytes:
    """The raw body, once its signature checks out; Refused(401) otherwise."""
    body = read_body(services().config.server.max_body_bytes)
    deliverect = services().config.deliverect
    keys = [deliverect.hmac_secret]
    if deliverect.accept_location_key:
        if location_id is None:
            location_id = _peek_location(body)
        if location_id:
            keys.append(location_id)
    signature = request.headers.get(hmac_auth.HEADER)
    key = hmac_auth.verify(body, signature, keys)
    if key is None:
        log.warning(
            "webhook %s: %s signature; refused",
            request.path,
            "bad" if signature else "missing",
        )
        raise Refused(error(401, "bad_signature", f"{hmac_auth.HEADER} missing or wrong"))
    if key != deliverect.hmac_secret:
        log.info("webhook %s: signed with the location id (staging key)", request.path)
    return body


def _peek_location(body: bytes) -> str | None:
    """The locationId of a register body, read only to pick a staging HMAC key."""
    try:
        data = parse_json(body)
    except BadJson:
        return None
    value = data.get("locationId") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None


def _known_location(location_id: str, body: bytes) -> None:
    journal = services().journal
    if not LOCATION_ID.match(location_id) or not journal.location_exists(location_id):
        _reject(404, "unknown_location", f"location {location_id[:80]!r} is not registered", body)


def _reject(
    code: int, error_code: str, detail: str, body: bytes, location: str | None = None
) -> NoReturn:
    """Refuse an authenticated body, keeping it in the rejected log."""
    log.warning("webhook %s refused (%s): %s", request.path, error_code, detail)
    services().journal.record_rejected(location, request.path, f"{error_code}: {detail}", body)
    raise Refused(error(code, error_code, detail))


def _json(body: bytes, location: str | None) -> Any:
    try:
        return parse_json(body)
    except BadJson as problem:
        _reject(400, "malformed_json", str(problem), body, location)


@blueprint.post("/register")
def register() -> Reply:
    body = _authenticated_body(None)
    data = _json(body, None)
    if not isinstance(data, Mapping):
        _reject(400, "invalid_register", "body must be a JSON object", body)
    location_id = data.get("locationId")
    if not isinstance(location_id, str) or not LOCATION_ID.match(location_id):
        _reject(400, "invalid_register", "locationId must be an id of letters and digits", body)
    account_id = data.get("accountId")
    account_id = "" if account_id is None else account_id
    external_ref = data.get("externalReference")
    external_ref = "" if external_ref is None else external_ref
    if not isinstance(account_id, str) or not isinstance(external_ref, str):
        _reject(400, "invalid_register", "accountId and externalReference must be strings", body)
    new = services().journal.register(location_id, account_id, external_ref)
    log.info(
        "location %s %s (account %s)", location_id, "registered" if new else "refreshed", account_id
    )
    base = f"{services().config.public_base_url}/deliverect/{quote(location_id, safe='')}"
    return jsonify(
        productSyncUrl=f"{base}/products",
        orderWebhookUrl=f"{base}/orders",
        orderStatusUpdateUrl=f"{base}/order-status",
    )


@blueprint.post("/<location_id>/orders")
def orders(location_id: str) -> Reply:
    body = _authenticated_body(location_id)
    _known_location(location_id, body)
    payload = _json(body, location_id)
    try:
        parsed = parse_webhook(payload)
    except OrderPayloadError as problem:
        _reject(400, "invalid_order", str(problem), body, location_id)
    journal = services().journal
    problems = [] if isinstance(parsed, Cancel) else [str(p) for p in parsed.problems]
    try:
        if isinstance(parsed, Cancel):
            outcome = journal.void_order(location_id, parsed.order_id, parsed.reason)
            log.info("order %s at %s: cancel -> %s", parsed.order_id, location_id, outcome.result)
        else:
            if parsed.location and parsed.location != location_id:
                log.warning(
                    "order %s names location %s but came to %s's URL; journaled under the URL's",
                    parsed.order_id,
                    parsed.location,
                    location_id,
                )
            outcome = journal.receive_order(location_id, parsed.order_id, payload)
            log.debug("order %s at %s: %s", parsed.order_id, location_id, outcome.result)
    except UnknownLocation:
        return error(404, "unknown_location", "location is not registered")
    if problems and outcome.result != "duplicate":
        log.warning(
            "order %s at %s journaled with %d problem(s), flagged on the ticket: %s",
            parsed.order_id,
            location_id,
            len(problems),
            "; ".join(problems)[:500],
        )
        try:
            journal.record_flagged(location_id, parsed.order_id, problems, body)
        except StorageError as trouble:  # the order is journaled: its answer stays 200
            log.error(
                "order %s: raw body not kept in the flagged log: %s", parsed.order_id, trouble
            )
    answer: dict[str, object] = {
        "ok": True,
        "orderId": parsed.order_id,
        "result": outcome.result,
        "seq": outcome.seq,
    }
    if problems:
        answer["problems"] = problems
    return jsonify(answer)


@blueprint.post("/<location_id>/products")
def products(location_id: str) -> Reply:
    body = _authenticated_body(location_id)
    _known_location(location_id, body)
    data = _json(body, location_id)
    if isinstance(data, Mapping) and isinstance(data.get("products"), list):
        data = data["products"]  # tolerated wrapper; the documented body is a bare array
    if not isinstance(data, Sequence) or isinstance(data, str):
        _reject(400, "invalid_products", "body must be a JSON array of products", body, location_id)
    if not all(isinstance(p, Mapping) for p in data):
        _reject(400, "invalid_products", "every product must be a JSON object", body, location_id)
    outcome = services().journal.sync_products(location_id, data)
    log.info("location %s: %d products synced", location_id, len(data))
    return jsonify(ok=True, count=len(data), seq=outcome.seq)


@blueprint.post("/<location_id>/order-status")
def order_status(location_id: str) -> Reply:
    body = _authenticated_body(location_id)
    _known_location(location_id, body)
    data = _json(body, location_id)
    if not isinstance(data, Mapping):
        _reject(400, "invalid_status", "body must be a JSON object", body, location_id)
    try:
        order_id = order_id_of(data)
    except OrderPayloadError as problem:
        _reject(400, "invalid_status", str(problem), body, location_id)
    status = coerce_status(data.get("status"))
    if status is None:
        _reject(400, "invalid_status", "status must be an integer", body, location_id)
    if is_courier_status(status):
        outcome = record_courier(services().journal, location_id, order_id, status, data)
        log.info(
            "order %s at %s: courier status %d -> %s %s",
            order_id,
            location_id,
            status,
            outcome.result,
            outcome.detail,
        )
        return jsonify(ok=True, result=outcome.result, seq=outcome.seq)
    reason = data.get("reason")
    reason = reason if isinstance(reason, str) else ""
    outcome = services().journal.deliverect_status(location_id, order_id, status, reason)
    log.info(
        "order %s at %s: Deliverect status %d -> %s %s",
        order_id,
        location_id,
        status,
        outcome.result,
        outcome.detail,
    )
    return jsonify(ok=True, result=outcome.result, seq=outcome.seq)
