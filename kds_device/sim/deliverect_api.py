"""A fake Deliverect API: ``POST /oauth/token`` and ``POST /kds/orderStatus/{orderId}``.

It checks what real Deliverect checks (client credentials, bearer tokens that expire, the
published OpenAPI schema, statuses 50/60/70/80 only), records every orderStatus call, and can be
told to misbehave (429 with ``Retry-After``, 503, slow answers, expired tokens) through
``/_sim/faults`` or ``SimState.inject``. Protocol notes 3.2, 3.3, 5 and 7.4/7.5.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from kds_device.domain.status import KDS_SENDABLE
from kds_device.sim.openapi_check import RequestValidator, default_validator
from kds_device.sim.sim_state import CallRecord, Fault, SimState

__all__ = ["CallRecord", "Fault", "SimState", "create_app", "sim_state"]

log = logging.getLogger(__name__)

STATE_KEY = "deliverect_sim"


def sim_state(app: Flask) -> SimState:
    """The ``SimState`` behind an app made by ``create_app``."""
    state = app.extensions[STATE_KEY]
    assert isinstance(state, SimState)
    return state


def create_app(
    client_id: str,
    client_secret: str,
    token_ttl_s: float = 86400.0,
    *,
    audience: str = "https://api.deliverect.com",
    clock: Callable[[], float] = time.time,
    on_call: Callable[[CallRecord], None] | None = None,
    state: SimState | None = None,
    validator: RequestValidator | None = None,
) -> Flask:
    """The simulated Deliverect API as a Flask app; its state is ``sim_state(app)``."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    sim = state or SimState(client_id, client_secret, token_ttl_s, audience, clock, on_call)
    app.extensions[STATE_KEY] = sim
    checker = validator or default_validator()
    if checker is None:
        log.warning("openapi-core is not installed: orderStatus bodies get basic checks only")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        return jsonify(
            code=(exc.name or "error").lower().replace(" ", "_"), message=exc.description
        ), code

    @app.post("/oauth/token")
    def token() -> Any:
        fault = sim.next_fault("token")
        if fault is not None:
            answer = _apply_fault(sim, fault)
            if answer is not None:
                return answer
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _oauth_error("invalid_request", "JSON object body required", 400)
        missing = [
            k for k in ("client_id", "client_secret", "audience", "grant_type") if k not in body
        ]
        if missing:
            return _oauth_error("invalid_request", f"missing {', '.join(missing)}", 400)
        if body["grant_type"] != "client_credentials":
            return _oauth_error("unsupported_grant_type", "use client_credentials", 400)
        good_id = hmac.compare_digest(str(body["client_id"]).encode(), sim.client_id.encode())
        good_secret = hmac.compare_digest(
            str(body["client_secret"]).encode(), sim.client_secret.encode()
        )
        if not (good_id and good_secret):
            return _oauth_error("access_denied", "Unauthorized", 401)
        if body["audience"] != sim.audience:
            return _oauth_error("access_denied", f"Service not found: {body['audience']}", 403)
        return jsonify(sim.issue_token())

    @app.post("/kds/orderStatus/<orderId>")
    def order_status(orderId: str) -> Any:
        arrived = datetime.fromtimestamp(sim.clock(), UTC).isoformat(timespec="milliseconds")
        body = request.get_json(silent=True)
        data: dict[str, Any] = body if isinstance(body, dict) else {}
        status = data.get("status")
        reason = data.get("reason", "")
        fault = sim.next_fault("orderStatus")
        kind = fault.kind if fault else None

        def answer(code: int, payload: Response | dict[str, Any], detail: str = "") -> Any:
            sim.record(
                CallRecord(
                    order_id=orderId,
                    status=status if type(status) is int else None,
                    reason=reason if isinstance(reason, str) else repr(reason),
                    at=arrived.replace("+00:00", "Z"),
                    http_status=code,
                    fault=kind,
                    detail=detail,
                )
            )
            return payload if isinstance(payload, Response) else (jsonify(payload), code)

        faulted = _apply_fault(sim, fault) if fault else None
        if faulted is not None:
            return answer(faulted.status_code, faulted, faulted.get_data(as_text=True))
        problem = _check_bearer(sim, request.headers.get("Authorization", ""))
        if problem is not None:
            return answer(401, problem, problem["message"])
        why = _invalid(body, orderId, checker)
        if why is not None:
            return answer(400, {"code": "bad_request", "message": why}, why)
        return answer(200, {"result": "OK"})

    _add_control_api(app, sim)
    return app


def _apply_fault(sim: SimState, fault: Fault) -> Response | None:
    """The canned answer for ``fault``, or None when the call should then be handled normally."""
    if fault.kind == "slow":
        sim.stopping.wait(fault.seconds)
        return None
    if fault.kind == "expire_tokens":
        sim.expire_tokens()
        return None
    code = int(fault.kind)
    # Deliverect's rate limiter and load balancer answer plain text (protocol notes section 5).
    response = Response(HTTPStatus(code).phrase, code, mimetype="text/plain")
    if fault.retry_after is not None:
        response.headers["Retry-After"] = f"{fault.retry_after:g}"
    return response


def _check_bearer(sim: SimState, header: str) -> dict[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return {"code": "unauthorized", "message": "Bearer token required"}
    state = sim.token_state(token.strip())
    if state == "expired":
        return {"code": "token_expired", "message": "The access token has expired"}
    if state == "unknown":
        return {"code": "invalid_token", "message": "Unknown access token"}
    return None


def _invalid(body: Any, order_id: str, checker: RequestValidator | None) -> str | None:
    """Why an orderStatus request is refused (400), or None: the OpenAPI schema, then the rules
    the schema does not state (path and body ids agree, statuses 50/60/70/80 only)."""
    why = checker.validate(request) if checker else _basic_check(body)
    if why is not None:
        return why
    if not isinstance(body, dict):
        return "JSON object body required"
    if body.get("orderId") != order_id:
        return f"body orderId {body.get('orderId')!r} differs from the path's {order_id!r}"
    if body.get("status") not in KDS_SENDABLE:
        return f"status {body.get('status')!r} not allowed: a KDS may send only 50, 60, 70, 80"
    return None


def _basic_check(body: Any) -> str | None:
    """The schema's rules by hand, for when openapi-core is not installed."""
    if not isinstance(body, dict):
        return "JSON object body required"
    if not isinstance(body.get("orderId"), str):
        return "orderId (string) is required"
    if isinstance(body.get("status"), bool) or not isinstance(body.get("status"), int):
        return "status (integer) is required"
    if "reason" in body and not isinstance(body["reason"], str):
        return "reason must be a string"
    return None


def _oauth_error(error: str, description: str, code: int) -> tuple[Response, int]:
    return jsonify(error=error, error_description=description), code


def _add_control_api(app: Flask, sim: SimState) -> None:
    """``/_sim/*``: what tests and the demo use to look inside and to inject faults."""

    @app.get("/_sim/calls")
    def calls() -> Any:
        return jsonify(calls=[call.as_dict() for call in sim.calls()])

    @app.get("/_sim/faults")
    def faults() -> Any:
        return jsonify(faults=[asdict(fault) for fault in sim.pending_faults()])

    @app.post("/_sim/faults")
    def add_faults() -> Any:
        body = request.get_json(silent=True)
        items: Iterable[Any]
        if isinstance(body, dict) and isinstance(body.get("faults"), list):
            items = body["faults"]
        elif isinstance(body, list):
            items = body
        elif isinstance(body, dict):
            items = [body]
        else:
            return jsonify(code="bad_request", message="a fault object or a list of them"), 400
        try:
            parsed = [fault for item in items for fault in Fault.parse(item)]
        except ValueError as exc:
            return jsonify(code="bad_request", message=str(exc)), 400
        return jsonify(queued=sim.inject(*parsed))

    @app.post("/_sim/reset")
    def reset() -> Any:
        sim.reset()
        return jsonify(result="OK")
