"""Enrollment back-off, served for real: a few wrong codes per client and per code, then 429
with Retry-After; the back-off never spends a good code."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(60)

LOC = "loc-backoff"
ATTEMPTS = 3
BACKOFF_S = 60.0


@pytest.fixture
def gateway(make_gateway: Callable[..., GatewayProcess]) -> GatewayProcess:
    settings = {"enrollment": {"free_attempts": ATTEMPTS, "backoff_s": BACKOFF_S}}
    gateway = make_gateway(settings=settings)
    gateway.register(LOC)
    return gateway


def enroll_from(gateway: GatewayProcess, source: str, code: str) -> tuple[int, Any, str | None]:
    """POST /api/v1/enroll from the loopback address ``source`` (another "client")."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", gateway.port, timeout=10, source_address=(source, 0)
    )
    try:
        body = json.dumps({"code": code, "name": "Screen"})
        conn.request("POST", "/api/v1/enroll", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("Retry-After")
    finally:
        conn.close()


def test_a_client_gets_a_few_wrong_codes_then_waits(gateway: GatewayProcess) -> None:
    good = gateway.enroll_code(LOC)
    for attempt in range(ATTEMPTS):
        status, body, _ = enroll_from(gateway, "127.0.0.1", f"WRONG-{attempt:05d}")
        assert (status, body["error"]) == (404, "invalid_code")
    status, body, retry_after = enroll_from(gateway, "127.0.0.1", good)
    assert (status, body["error"]) == (429, "too_many_attempts")
    assert retry_after is not None and 0 < int(retry_after) <= BACKOFF_S
    # The good code was not spent by the refused attempt, and another client may use it.
    status, body, _ = enroll_from(gateway, "127.0.0.2", good)
    assert status == 200 and body["locationId"] == LOC


def test_one_code_gets_a_few_tries_from_any_number_of_clients(gateway: GatewayProcess) -> None:
    dead = "DEADC-0DE22"
    for client in range(ATTEMPTS):
        status, _, _ = enroll_from(gateway, f"127.0.0.{10 + client}", dead)
        assert status == 404
    status, body, retry_after = enroll_from(gateway, "127.0.0.20", dead)
    assert (status, body["error"]) == (429, "too_many_attempts") and retry_after
    # That client is not blocked for other codes: it is the code that is.
    good = gateway.enroll_code(LOC)
    status, body, _ = enroll_from(gateway, "127.0.0.20", good)
    assert status == 200, body
