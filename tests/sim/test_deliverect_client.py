"""The gateway's Deliverect client against the simulated Deliverect, served for real."""

from __future__ import annotations

import pytest

from kds_device.gateway.deliverect_client import OK, REJECTED, RETRY, DeliverectClient, backoff_s
from tests.fixtures.common import free_port
from tests.fixtures.deliverect_sim import DeliverectSim

pytestmark = pytest.mark.timeout(30)

ORDER = "66a1f0e2d3c4b5a697887766"


class MonotonicStub:
    """A monotonic clock the test moves by hand (the client's token cache reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sends_a_status_with_a_token_it_fetched_once(deliverect_sim: DeliverectSim) -> None:
    client = deliverect_sim.client()

    first = client.send_status(ORDER, 50, "started")
    second = client.send_status(ORDER, 70)

    assert (first.outcome, first.http_status) == (OK, 200)
    assert second.ok
    assert deliverect_sim.tokens_issued == 1
    calls = deliverect_sim.calls()
    assert [(c.order_id, c.status, c.reason, c.http_status) for c in calls] == [
        (ORDER, 50, "started", 200),
        (ORDER, 70, "", 200),
    ]


def test_token_is_refreshed_shortly_before_it_expires(make_deliverect_sim) -> None:
    sim = make_deliverect_sim(token_ttl_s=600)
    clock = MonotonicStub()
    client = sim.client(clock=clock)

    assert client.send_status(ORDER, 50).ok
    clock.now += 539  # 10 % of a 600 s token is the margin: still good until 540 s
    assert client.send_status(ORDER, 60).ok
    assert sim.tokens_issued == 1
    clock.now += 2
    assert client.send_status(ORDER, 70).ok
    assert sim.tokens_issued == 2


def test_expired_token_is_refreshed_once_and_the_call_repeated(
    deliverect_sim: DeliverectSim,
) -> None:
    client = deliverect_sim.client()
    assert client.send_status(ORDER, 50).ok
    deliverect_sim.inject("expire_tokens")

    result = client.send_status(ORDER, 60)

    assert result.ok
    assert deliverect_sim.tokens_issued == 2
    answered = [(c.status, c.http_status, c.detail) for c in deliverect_sim.calls()[1:]]
    assert answered == [(60, 401, "The access token has expired"), (60, 200, "")]


def test_a_second_401_is_not_refreshed_again_and_means_retry(
    deliverect_sim: DeliverectSim,
) -> None:
    client = deliverect_sim.client()
    deliverect_sim.inject("expire_tokens", times=2)

    result = client.send_status(ORDER, 50)

    assert (result.outcome, result.http_status) == (RETRY, 401)
    assert deliverect_sim.tokens_issued == 2
    assert [c.http_status for c in deliverect_sim.calls()] == [401, 401]


def test_429_then_503_then_recovery_is_classified_with_retry_after(
    deliverect_sim: DeliverectSim,
) -> None:
    client = deliverect_sim.client()
    deliverect_sim.inject({"kind": "429", "retry_after": 2}, "503")

    limited = client.send_status(ORDER, 70)
    unavailable = client.send_status(ORDER, 70)
    recovered = client.send_status(ORDER, 70)

    assert (limited.outcome, limited.http_status, limited.retry_after_s) == (RETRY, 429, 2.0)
    assert (unavailable.outcome, unavailable.http_status, unavailable.retry_after_s) == (
        RETRY,
        503,
        None,
    )
    assert (recovered.outcome, recovered.http_status) == (OK, 200)
    assert backoff_s(1, limited.retry_after_s) >= 2.0
    assert [(c.http_status, c.fault) for c in deliverect_sim.calls()] == [
        (429, "429"),
        (503, "503"),
        (200, None),
    ]
    assert len(deliverect_sim.accepted_calls()) == 1


def test_503_with_retry_after_passes_the_delay_on(deliverect_sim: DeliverectSim) -> None:
    deliverect_sim.inject(kind="503", retry_after=7)
    result = deliverect_sim.client().send_status(ORDER, 50)
    assert (result.outcome, result.retry_after_s) == (RETRY, 7.0)


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [("500", RETRY), ("502", RETRY), ("408", RETRY), ("404", REJECTED), ("409", REJECTED)],
)
def test_error_answers_are_classified(
    deliverect_sim: DeliverectSim, kind: str, outcome: str
) -> None:
    deliverect_sim.inject(kind)
    result = deliverect_sim.client().send_status(ORDER, 60)
    assert (result.outcome, result.http_status) == (outcome, int(kind))


def test_refused_status_from_deliverect_is_rejected(deliverect_sim: DeliverectSim) -> None:
    # An id with a slash cannot name an order: Deliverect answers 404, which will not change.
    result = deliverect_sim.client().send_status("a/b", 50)
    assert (result.outcome, result.http_status) == (REJECTED, 404)


def test_answer_slower_than_the_timeout_means_retry(deliverect_sim: DeliverectSim) -> None:
    client = deliverect_sim.client(timeout_s=0.3)
    deliverect_sim.inject(kind="slow", seconds=10)

    result = client.send_status(ORDER, 50)

    assert (result.outcome, result.http_status) == (RETRY, None)
    assert result.detail.startswith("timeout")


@pytest.mark.parametrize("status", [20, 90, 100, 110, True, "50", 50.0])
def test_only_kds_statuses_are_sent_and_refused_before_any_io(
    deliverect_sim: DeliverectSim, status: object
) -> None:
    client = deliverect_sim.client()
    with pytest.raises(ValueError, match="50/60/70/80"):
        client.send_status(ORDER, status)  # type: ignore[arg-type]
    assert deliverect_sim.tokens_issued == 0
    assert deliverect_sim.calls() == []


def test_wrong_credentials_mean_retry_with_a_token_detail(deliverect_sim: DeliverectSim) -> None:
    client = deliverect_sim.client(client_secret="not-the-secret")

    result = client.send_status(ORDER, 50)

    assert (result.outcome, result.http_status) == (RETRY, 401)
    assert result.detail.startswith("token: credentials refused")
    assert deliverect_sim.calls() == []


def test_token_endpoint_outage_means_retry(deliverect_sim: DeliverectSim) -> None:
    deliverect_sim.inject(kind="503", endpoint="token", retry_after=3)
    client = deliverect_sim.client()

    result = client.send_status(ORDER, 50)
    again = client.send_status(ORDER, 50)

    assert (result.outcome, result.http_status, result.retry_after_s) == (RETRY, 503, 3.0)
    assert result.detail.startswith("token:")
    assert again.ok


def test_unreachable_deliverect_means_retry() -> None:
    with DeliverectClient(f"http://127.0.0.1:{free_port()}", "id", "secret", timeout_s=2) as client:
        result = client.send_status(ORDER, 50)
    assert (result.outcome, result.http_status) == (RETRY, None)
    assert "connection" in result.detail
