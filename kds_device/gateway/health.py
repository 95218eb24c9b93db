"""``GET /api/v1/health``: is the gateway able to take orders now?

200 ``{"ok": true}`` while the database takes writes; 503 with ``Retry-After`` and what is
wrong while it does not (read-only, full, I/O error, locked): the health check tries a
one-row write, at most once a second per process, so it sees a fault even when no order
is arriving, and sees its end.
"""

from __future__ import annotations

from flask import Response, jsonify

from kds_device.gateway.storage import Store

#: What a 503 asks the caller to wait (seconds) before trying again.
RETRY_AFTER_S = 1


def unavailable(kind: str) -> tuple[Response, int]:
    """The 503 every storage fault gets: Deliverect retries a 5xx (it does not retry a 4xx)."""
    response = jsonify(error="unavailable", detail=f"storage {kind}; retry shortly", storage=kind)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response, 503


def health_reply(db: Store) -> tuple[Response, int]:
    fault = db.check()
    if fault is None:
        return jsonify(ok=True), 200
    response = jsonify(ok=False, storage=fault.kind, detail=fault.detail, since=fault.since)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response, 503
