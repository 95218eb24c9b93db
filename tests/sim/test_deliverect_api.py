"""The simulated Deliverect API over real HTTP: tokens, validation, recording, faults."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from kds_device.sim.deliverect_api import CallRecord
from tests.fixtures.deliverect_sim import DeliverectSim

pytestmark = pytest.mark.timeout(30)

ORDER = "66a1f0e2d3c4b5a697887766"


def token_request(sim: DeliverectSim, **changes: Any) -> requests.Response:
    body = {
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "audience": "https://api.deliverect.com",
        "grant_type": "client_credentials",
    }
    body.update(changes)
    return requests.post(f"{sim.base_url}/oauth/token", json=body, timeout=5)


@pytest.fixture
def bearer(deliverect_sim: DeliverectSim) -> dict[str, str]:
    answer = token_request(deliverect_sim)
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def post_status(sim: DeliverectSim, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    order_id = kwargs.pop("order_id", ORDER)
    return requests.post(
        f"{sim.base_url}/kds/orderStatus/{order_id}", headers=headers, timeout=5, **kwargs
    )


def test_token_answer_has_deliverects_shape(deliverect_sim: DeliverectSim) -> None:
    before = time.time()
    answer = token_request(deliverect_sim)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "expires_at", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        86400,
        "genericKDS",
    )
    assert before + 86400 - 1 <= body["expires_at"] <= time.time() + 86400
    assert token_request(deliverect_sim).json()["access_token"] != body["access_token"]


@pytest.mark.parametrize(
    ("changes", "code", "error"),
    [
        ({"client_secret": "wrong"}, 401, "access_denied"),
        ({"client_id": "someone-else"}, 401, "access_denied"),
        ({"grant_type": "token"}, 400, "unsupported_grant_type"),
        ({"audience": "https://example.com"}, 403, "access_denied"),
    ],
)
def test_token_refusals(
    deliverect_sim: DeliverectSim, changes: dict[str, str], code: int, error: str
) -> None:
    answer = token_request(deliverect_sim, **changes)
    assert (answer.status_code, answer.json()["error"]) == (code, error)
    assert deliverect_sim.tokens_issued == 0


def test_bad_credentials_answer_the_documented_body(deliverect_sim: DeliverectSim) -> None:
    answer = token_request(deliverect_sim, client_secret="wrong")
    assert answer.json() == {"error": "access_denied", "error_description": "Unauthorized"}


def test_token_request_without_fields_is_a_400_with_reason(deliverect_sim: DeliverectSim) -> None:
    answer = requests.post(f"{deliverect_sim.base_url}/oauth/token", json={}, timeout=5)
    assert answer.status_code == 400
    assert "client_id" in answer.json()["error_description"]


def test_token_expires_by_the_simulators_clock(make_deliverect_sim) -> None:
    now = [1_800_000_000.0]
    sim = make_deliverect_sim(token_ttl_s=60, clock=lambda: now[0])
    token = token_request(sim).json()
    assert token["expires_at"] == 1_800_000_060
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    body = {"orderId": ORDER, "status": 50}

    assert post_status(sim, headers, json=body).status_code == 200
    now[0] += 60
    expired = post_status(sim, headers, json=body)

    assert expired.status_code == 401
    assert expired.json()["code"] == "token_expired"


def test_valid_status_is_accepted_and_recorded(
    deliverect_sim: DeliverectSim, bearer: dict[str, str]
) -> None:
    body = {"orderId": ORDER, "status": 70, "reason": "Bumped at expo station"}

    answer = post_status(deliverect_sim, bearer, json=body)

    assert (answer.status_code, answer.json()) == (200, {"result": "OK"})
    [call] = deliverect_sim.calls()
    assert (call.order_id, call.status, call.reason, call.http_status, call.fault) == (
        ORDER,
        70,
        "Bumped at expo station",
        200,
        None,
    )
    assert call.at.endswith("Z")
    assert deliverect_sim.state.last_status(ORDER) == 70


@pytest.mark.parametrize(
    ("request_kwargs", "expected"),
    [
        ({"json": {"orderId": ORDER, "status": "fifty"}}, "'fifty' is not of type 'integer'"),
        ({"json": {"status": 50}}, "'orderId' is a required property"),
        ({"json": {"orderId": ORDER, "status": 50, "reason": 7}}, "7 is not of type 'string'"),
        ({"json": [ORDER, 50]}, "is not of type 'object'"),
        ({"data": b'{"orderId": ', "headers": {"Content-Type": "application/json"}}, "deserial"),
        ({"data": b"status=50", "headers": {"Content-Type": "text/plain"}}, "mimetype"),
        ({}, "Missing required request body"),
        ({"json": {"orderId": "someone-else", "status": 50}}, "differs from the path"),
        ({"json": {"orderId": ORDER, "status": 20}}, "only 50, 60, 70, 80"),
        ({"json": {"orderId": ORDER, "status": 110}}, "only 50, 60, 70, 80"),
    ],
)
def test_malformed_requests_get_400_with_a_reason(
    deliverect_sim: DeliverectSim,
    bearer: dict[str, str],
    request_kwargs: dict[str, Any],
    expected: str,
) -> None:
    headers = {**bearer, **request_kwargs.pop("headers", {})}

    answer = post_status(deliverect_sim, headers, **request_kwargs)

    assert answer.status_code == 400
    assert expected in answer.json()["message"]
    [call] = deliverect_sim.calls()
    assert call.http_status == 400
    assert expected in call.detail


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthorized"),
        ({"Authorization": "Basic abc"}, "unauthorized"),
        ({"Authorization": "Bearer made-up"}, "invalid_token"),
    ],
)
def test_missing_or_unknown_bearer_is_401(
    deliverect_sim: DeliverectSim, headers: dict[str, str], code: str
) -> None:
    answer = post_status(deliverect_sim, headers, json={"orderId": ORDER, "status": 50})
    assert (answer.status_code, answer.json()["code"]) == (401, code)
    assert [c.http_status for c in deliverect_sim.calls()] == [401]


def test_faults_through_the_control_api(
    deliverect_sim: DeliverectSim, bearer: dict[str, str]
) -> None:
    base = deliverect_sim.base_url
    queued = requests.post(
        f"{base}/_sim/faults",
        json={"faults": [{"kind": "429", "retry_after": 2}, {"kind": "503"}]},
        timeout=5,
    )
    assert queued.json() == {"queued": 2}
    assert [f["kind"] for f in requests.get(f"{base}/_sim/faults", timeout=5).json()["faults"]] == [
        "429",
        "503",
    ]
    body = {"orderId": ORDER, "status": 60}

    limited = post_status(deliverect_sim, bearer, json=body)
    unavailable = post_status(deliverect_sim, bearer, json=body)
    fine = post_status(deliverect_sim, bearer, json=body)

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert limited.headers["Content-Type"].startswith("text/plain")
    assert (unavailable.status_code, "Retry-After" in unavailable.headers) == (503, False)
    assert fine.status_code == 200
    recorded = requests.get(f"{base}/_sim/calls", timeout=5).json()["calls"]
    assert [(c["orderId"], c["httpStatus"]) for c in recorded] == [
        (ORDER, 429),
        (ORDER, 503),
        (ORDER, 200),
    ]
    assert requests.post(f"{base}/_sim/reset", timeout=5).json() == {"result": "OK"}
    assert requests.get(f"{base}/_sim/calls", timeout=5).json() == {"calls": []}


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "teapot"},
        {"kind": "200"},
        {"kind": "429", "retry_after": -1},
        "429",
        {"kind": "503", "times": 0},
    ],
)
def test_bad_fault_requests_are_400(deliverect_sim: DeliverectSim, fault: Any) -> None:
    answer = requests.post(f"{deliverect_sim.base_url}/_sim/faults", json=fault, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["message"]
    assert deliverect_sim.state.pending_faults() == []


def test_slow_fault_delays_then_answers(
    deliverect_sim: DeliverectSim, bearer: dict[str, str]
) -> None:
    deliverect_sim.inject("slow", seconds=0.5)
    started = time.monotonic()
    answer = post_status(deliverect_sim, bearer, json={"orderId": ORDER, "status": 50})
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.5
    assert deliverect_sim.calls()[0].fault == "slow"


def test_unknown_paths_answer_json(deliverect_sim: DeliverectSim) -> None:
    answer = requests.get(f"{deliverect_sim.base_url}/kds/nothing", timeout=5)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    wrong_method = requests.get(f"{deliverect_sim.base_url}/kds/orderStatus/{ORDER}", timeout=5)
    assert wrong_method.status_code == 405


def test_oversized_body_is_413_json(deliverect_sim: DeliverectSim, bearer: dict[str, str]) -> None:
    body = {"orderId": ORDER, "status": 50, "reason": "x" * 100_000}
    answer = post_status(deliverect_sim, bearer, json=body)
    assert answer.status_code == 413
    assert answer.json()["code"]


def test_every_call_reaches_the_in_process_hook(make_deliverect_sim) -> None:
    seen: list[CallRecord] = []
    sim = make_deliverect_sim(on_call=seen.append)
    client = sim.client()
    sim.inject("503")

    client.send_status(ORDER, 50)
    client.send_status(ORDER, 50)

    assert [(c.status, c.http_status) for c in seen] == [(50, 503), (50, 200)]
    assert sim.wait_for_calls(1, timeout=1, accepted_only=True)[0].status == 50


def test_wait_for_calls_times_out_with_what_arrived(deliverect_sim: DeliverectSim) -> None:
    with pytest.raises(TimeoutError, match="wanted 1 calls"):
        deliverect_sim.wait_for_calls(1, timeout=0.1)
