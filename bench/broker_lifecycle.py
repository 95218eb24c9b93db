"""Broker lifecycle figures with per-screen users (Mosquitto's dynamic security plugin).

Starts Mosquitto with the plugin and ``kds-gateway serve`` with ``mqtt.dynsec``; enrolls N
screens over HTTP (each makes a broker user), connects some of them, then revokes them: in
process (``Devices.revoke``) and once through the real CLI as an operator would, timing each
from the call to the broker's disconnect at the screen. The last line is one JSON object.

    .venv/bin/python bench/broker_lifecycle.py [--screens 50] [--revoke 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kds_device.gateway.app import broker_accounts  # noqa: E402
from kds_device.gateway.config import load_gateway_config  # noqa: E402
from kds_device.gateway.devices import Devices  # noqa: E402
from tests.fixtures.broker_client import BrokerClient  # noqa: E402
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess  # noqa: E402
from tests.fixtures.mosquitto import Mosquitto  # noqa: E402

LOCATION = "loc-bench-broker"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def connect(broker: Mosquitto, device: EnrolledDevice) -> BrokerClient:
    assert device.mqtt is not None
    client = BrokerClient(
        broker, device.mqtt["username"], device.mqtt["password"], f"kds-device-{device.device_id}"
    )
    assert client.accepted and not client.subscribe(f"kds/{LOCATION}/events").is_failure
    return client


def wait_cut(client: BrokerClient, started: float, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while client.disconnected_at is None and time.monotonic() < deadline:
        time.sleep(0.001)
    if client.disconnected_at is None:
        raise SystemExit("a revoked screen was not disconnected within 10 s")
    return (client.disconnected_at - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--revoke", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kds-bench-broker-"))
    broker = Mosquitto(work / "broker", dynsec=True)
    broker.start()
    (work / "gateway").mkdir()
    gateway = GatewayProcess(work / "gateway", mqtt=broker)
    clients: list[BrokerClient] = []
    try:
        gateway.start()
        gateway.register(LOCATION)
        enroll_ms, devices = [], []
        for _ in range(args.screens):
            started = time.perf_counter()
            devices.append(gateway.enroll_device(LOCATION))
            enroll_ms.append((time.perf_counter() - started) * 1000)
        config = load_gateway_config(gateway.config_path, environ={})
        admin = Devices(gateway.db(), broker_accounts(config))
        revoke_ms = []
        for device in devices[: args.revoke]:
            client = connect(broker, device)
            clients.append(client)
            started = time.monotonic()
            admin.revoke(device.device_id)
            revoke_ms.append(wait_cut(client, started))
        last = devices[args.revoke]
        client = connect(broker, last)
        clients.append(client)
        started = time.monotonic()
        result = gateway.cli("devices", "revoke", last.device_id)
        assert result.returncode == 0, result.stderr
        cli_ms = wait_cut(client, started)
    finally:
        for client in clients:
            client.close()
        gateway.close()
        broker.close()
    figures = {
        "screens": args.screens,
        "enroll_p50_ms": round(statistics.median(enroll_ms), 1),
        "enroll_p99_ms": round(percentile(enroll_ms, 99), 1),
        "revoke_to_disconnect_p50_ms": round(statistics.median(revoke_ms), 1),
        "revoke_to_disconnect_max_ms": round(max(revoke_ms), 1),
        "cli_revoke_to_disconnect_ms": round(cli_ms, 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
