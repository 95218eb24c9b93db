"""``WebhookSender`` and ``kds-sim send`` against a real HTTP receiver that checks signatures."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kds_device.sim.cli import main
from kds_device.sim.orders import OrderGenerator
from kds_device.sim.sender import SendError, WebhookSender, encode, sign
from kds_device.sim.serving import ServerThread
from kds_device.sim.traffic import send_traffic
from tests.fixtures.common import free_port
from tests.sim.webhook_receiver import Receiver

pytestmark = pytest.mark.timeout(60)

SECRET = "sender-test-secret"
VECTOR_BODY = (
    b'{"accountId":"65f0c1a2b3c4d5e6f7a8b9c0","locationId":"65f0c1a2b3c4d5e6f7a8b9d1",'
    b'"externalReference":"acme-kds-store-042"}'
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    stub = Receiver(SECRET)
    with ServerThread(stub.app(), name="receiver") as server:
        stub.base_url = server.url
        yield stub


@pytest.fixture
def naps() -> list[float]:
    """The retry pauses the sender asked for (it is given ``naps.append`` as its sleep)."""
    return []


@pytest.fixture
def sender(receiver: Receiver, naps: list[float]) -> Iterator[WebhookSender]:
    with WebhookSender(receiver.base_url, SECRET, sleep=naps.append) as made:
        yield made


def test_signature_matches_the_protocol_test_vectors() -> None:
    assert len(VECTOR_BODY) == 121
    assert sign("test-secret-123", VECTOR_BODY) == (
        "ae05a0d49b1fa413d8a37673ffc453185c69991f4b68f013f459d7c0c8827b3c"
    )
    assert sign("65f0c1a2b3c4d5e6f7a8b9d1", VECTOR_BODY) == (
        "d05fbd20f6568d9c707fea4a15434a930147e38471cc3a0614652b48bad49c1d"
    )
    assert sign("test-secret-123", b"") == (
        "087fd5b1b59561d246f20d0078b9d2aff423a075dbbecc8ba6e7a98386460e3f"
    )


def test_encoding_is_compact_utf8_so_the_vector_body_round_trips() -> None:
    assert encode(json.loads(VECTOR_BODY)) == VECTOR_BODY
    assert encode({"customerName": "Chloé"}) == '{"customerName":"Chloé"}'.encode()


def test_register_then_webhooks_go_to_the_answered_urls(
    receiver: Receiver, sender: WebhookSender
) -> None:
    generator = OrderGenerator(seed=3)
    urls = sender.register("acc", "loc", "ref")

    assert urls.order_webhook_url == f"{receiver.base_url}/hooks/orders?t=loc1"
    pushed = sender.push_products(generator.products())
    order = generator.order()
    sent = sender.send_order(order)
    cancelled = sender.send_cancel(generator.cancel(order))

    assert (pushed.ok, sent.ok, sent.status_code, cancelled.ok) == (True, True, 201, True)
    assert [r.json() for r in receiver.on("register")] == [
        {"accountId": "acc", "locationId": "loc", "externalReference": "ref"}
    ]
    assert isinstance(receiver.on("products")[0].json(), list)
    assert [r.json()["status"] for r in receiver.on("orders")] == [1, 100]
    assert all(r.signed_ok for r in receiver.received)


def test_wrong_secret_is_reported_not_retried(receiver: Receiver) -> None:
    sender = WebhookSender(receiver.base_url, "not-the-secret", sleep=lambda _: None)
    with sender, pytest.raises(SendError, match="401"):
        sender.register("acc", "loc", "ref")
    [seen] = receiver.received
    assert (seen.signed_ok, seen.answered) == (False, 401)


def test_503_and_502_are_retried_until_taken(
    receiver: Receiver, sender: WebhookSender, naps: list[float]
) -> None:
    sender.register("acc", "loc", "ref")
    receiver.queue("orders", 503, 502)

    delivery = sender.send_order(OrderGenerator(seed=1).order())

    assert (delivery.ok, delivery.attempts, delivery.status_code) == (True, 3, 201)
    assert naps == [0.2, 0.4]
    assert len({r.body for r in receiver.on("orders")}) == 1


@pytest.mark.parametrize("code", [400, 202, 500])
def test_other_answers_are_failures_without_retry(
    receiver: Receiver, sender: WebhookSender, code: int
) -> None:
    sender.register("acc", "loc", "ref")
    receiver.queue("orders", code)

    delivery = sender.send_order(OrderGenerator(seed=1).order())

    assert (delivery.ok, delivery.attempts, delivery.status_code) == (False, 1, code)
    assert len(receiver.on("orders")) == 1


def test_retries_give_up_after_the_configured_delays(receiver: Receiver, naps: list[float]) -> None:
    with WebhookSender(receiver.base_url, SECRET, retry_delays_s=(1, 2), sleep=naps.append) as s:
        s.register("acc", "loc", "ref")
        receiver.queue("orders", 504, 504, 504, 201)
        delivery = s.send_order(OrderGenerator(seed=1).order())
    assert (delivery.ok, delivery.attempts, delivery.status_code, naps) == (False, 3, 504, [1, 2])


def test_unreachable_gateway_is_retried_then_fails(naps: list[float]) -> None:
    gateway = f"http://127.0.0.1:{free_port()}"
    sender = WebhookSender(gateway, SECRET, retry_delays_s=(0.01, 0.02), sleep=naps.append)
    with sender, pytest.raises(SendError, match="cannot connect"):
        sender.register("acc", "loc", "ref")
    assert naps == [0.01, 0.02]


def test_webhooks_before_registration_are_refused(sender: WebhookSender) -> None:
    with pytest.raises(SendError, match="register"):
        sender.send_order({"orderId": "x", "status": 1})
    with pytest.raises(ValueError, match="status 100"):
        sender.send_cancel({"orderId": "x", "status": 1})


def run_send_cli(receiver: Receiver, *extra: str) -> int:
    return main(
        [
            "send",
            "--gateway",
            receiver.base_url,
            "--secret",
            SECRET,
            "--location",
            "loc-42",
            "--rate",
            "0",
            "--seed",
            "7",
            *extra,
        ]
    )


def test_kds_sim_send_sends_orders_duplicates_and_cancels(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_send_cli(receiver, "--count", "40", "--duplicates", "0.3", "--cancels", "0.2")

    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert all(r.signed_ok for r in receiver.received)
    assert [r.json()["locationId"] for r in receiver.on("register")] == ["loc-42"]
    assert len(receiver.on("products")) == 1
    bodies = [r.json() for r in receiver.on("orders")]
    new = [b for b in bodies if b["status"] == 1]
    cancels = [b for b in bodies if b["status"] == 100]
    per_order = Counter(b["orderId"] for b in new)
    assert len(per_order) == 40
    assert all(b["location"] == "loc-42" for b in bodies)
    duplicates = sum(n - 1 for n in per_order.values())
    assert duplicates == summary["sent"]["duplicate"] > 0
    assert len(cancels) == summary["sent"]["cancel"] > 0
    assert {c["orderId"] for c in cancels} <= set(per_order)
    first_seen = {b["orderId"]: i for i, b in reversed(list(enumerate(bodies)))}
    assert all(first_seen[c["orderId"]] < bodies.index(c) for c in cancels)
    assert summary["failed"] == []


def test_kds_sim_send_is_repeatable_with_a_seed(receiver: Receiver) -> None:
    assert run_send_cli(receiver, "--count", "5", "--cancels", "0.5") == 0
    first = [r.body for r in receiver.on("orders")]
    receiver.received.clear()
    assert run_send_cli(receiver, "--count", "5", "--cancels", "0.5") == 0
    second = [r.body for r in receiver.on("orders")]
    assert [json.loads(b)["orderId"] for b in first] == [json.loads(b)["orderId"] for b in second]


def test_kds_sim_send_exits_non_zero_on_failed_deliveries(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.queue("orders", 400)
    assert run_send_cli(receiver, "--count", "3", "--duplicates", "0", "--cancels", "0") == 1
    summary = json.loads(capsys.readouterr().out)
    assert [f["status"] for f in summary["failed"]] == [400]


def test_kds_sim_send_as_a_program(receiver: Receiver) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kds_device.sim.cli",
            "send",
            "--gateway",
            receiver.base_url,
            "--location",
            "loc-9",
            "--count",
            "3",
            "--rate",
            "600",
            "--seed",
            "1",
            "--duplicates",
            "0",
            "--cancels",
            "0",
        ],
        env={"KDS_SIM_HMAC_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["delivered"] == {"order": 3}
    assert len(receiver.on("orders")) == 3


def test_traffic_is_paced_at_the_chosen_rate(receiver: Receiver, sender: WebhookSender) -> None:
    now = [100.0]
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    sender.register("acc", "loc", "ref")
    report = send_traffic(
        sender, OrderGenerator(seed=5), 4, rate_per_min=30, clock=lambda: now[0], sleep=pause
    )

    assert pauses == [2.0, 2.0, 2.0]
    assert report.count("order", ok=True) == 4
    assert len(receiver.on("orders")) == 4


def test_traffic_refuses_probabilities_out_of_range(sender: WebhookSender) -> None:
    with pytest.raises(ValueError, match="probabilities"):
        send_traffic(sender, OrderGenerator(seed=5), 1, duplicates=1.5)
