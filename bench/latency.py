"""Latency benchmark of the live kitchen on loopback: prints figures, last line one JSON object.

* ``order_to_screen_*_mqtt``: a signed order webhook answered 2xx by the gateway -> its tile
  drawn on the device (MQTT feed on, as enrolled); goal p99 <= 50 ms;
* ``order_to_screen_*_longpoll``: the same with the device on HTTP long-poll alone (no broker
  in its enrollment's use); goal p99 <= 100 ms;
* ``bump_to_deliverect_p99_ms``: a real touch that bumps a tile -> the simulated Deliverect
  receives ``POST /kds/orderStatus/{orderId}`` (device outbox -> gateway -> its outbox);
  goal <= 100 ms.

The parts are the real ones: Mosquitto and ``kds-gateway serve`` (gunicorn) as processes, the
simulated Deliverect and the Kivy board (Xvfb) in this process, wired as ``kds-device run``
wires them. Orders go one at a time (each is bumped once drawn, so it is always on the first
page); the order webhook is sent from the main thread, so a tile can never be counted before
its 2xx. Runs under Xvfb; without ``DISPLAY`` it re-executes itself under ``xvfb-run``.

    .venv/bin/python bench/latency.py [--orders 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import reexec_under_xvfb  # noqa: E402  (bench/ is on the path as the script's dir)

LOCATION = "loc-bench"


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class BumpClock:
    """Pairs each bump's touch with the simulator's receipt of its status (same process)."""

    def __init__(self) -> None:
        self.touched: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self._lock = threading.Condition()

    def on_call(self, call: Any) -> None:  # the simulator's hook, on its request thread
        with self._lock:
            self.received.setdefault(call.order_id, time.perf_counter())
            self._lock.notify_all()

    def wait_all(self, timeout: float) -> None:
        with self._lock:
            self._lock.wait_for(lambda: set(self.touched) <= set(self.received), timeout)

    def samples_ms(self) -> list[float]:
        return [
            (self.received[order_id] - touched) * 1000
            for order_id, touched in self.touched.items()
            if order_id in self.received
        ]


def run_phase(board: Any, gateway: Any, orders: Any, count: int, bumps: BumpClock) -> list[float]:
    """Send ``count`` orders one by one; each: 2xx -> frames until its tile is drawn -> tap."""
    from kivy.base import EventLoop

    samples = []
    for index in range(count):
        payload = orders.order()
        order_id = payload["orderId"]
        response = gateway.send_order(LOCATION, payload)
        accepted = time.perf_counter()
        if not response.ok:
            raise SystemExit(f"order {index} refused: {response.status_code} {response.text}")
        deadline = accepted + 10.0
        while board.app.screen.tile_for(order_id) is None:
            EventLoop.idle()  # drains the inbox, renders, draws one frame
            if time.perf_counter() > deadline:
                raise SystemExit(f"order {index} never reached the screen")
        samples.append((time.perf_counter() - accepted) * 1000)
        tile = board.app.screen.tile_for(order_id)
        if board.app.board.selected_id != order_id:
            board.tap_widget(tile)  # select first (a second ticket would be an old one)
        board.wait_settled()  # a cook's second tap comes after the board is still
        bumps.touched[order_id] = time.perf_counter()
        board.tap_widget(tile, gap_s=0)
        if board.app.screen.tile_for(order_id) is not None:
            raise SystemExit(f"order {index}: the touch did not bump it")
    return samples


def measure(count: int, gateway_workers: int | None) -> dict[str, Any]:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    logging.basicConfig(level=logging.WARNING)
    from kivy.clock import Clock
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")
    Clock._max_fps = 0

    from kds_device.config import ConnectionConfig
    from kds_device.sim.orders import OrderGenerator
    from kds_device.sim.serving import start_simulator
    from tests.fixtures.deliverect_sim import DeliverectSim
    from tests.fixtures.device import identity_of
    from tests.fixtures.device_app import LiveBoard
    from tests.fixtures.gateway import GatewayProcess
    from tests.fixtures.mosquitto import Mosquitto

    results: dict[str, Any] = {}
    bumps = BumpClock()
    with tempfile.TemporaryDirectory(prefix="kds-latency-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        sim = DeliverectSim(start_simulator("bench", "bench-secret", on_call=bumps.on_call))
        (work / "gateway").mkdir()
        settings = {"server": {"workers": gateway_workers}} if gateway_workers else None
        gateway = GatewayProcess(work / "gateway", mqtt=broker, deliverect=sim, settings=settings)
        try:
            gateway.start()
            gateway.register(LOCATION)
            orders = OrderGenerator(seed=99)
            for mode, use_mqtt in (("mqtt", True), ("longpoll", False)):
                identity = identity_of(gateway, gateway.enroll_device(LOCATION, name=mode))
                if not use_mqtt:  # the gateway still publishes; this screen does not listen
                    identity = dataclasses.replace(identity, mqtt=None)
                board = LiveBoard(work / f"device-{mode}", identity, ConnectionConfig())
                board.start()
                try:
                    _settle(board, mode)
                    run_phase(board, gateway, orders, 10, bumps)  # warm-up, not counted
                    bumps.touched.clear()
                    samples = run_phase(board, gateway, orders, count, bumps)
                    bumps.wait_all(30)
                finally:
                    board.stop()
                p50, p99 = _percentile(samples, 50), _percentile(samples, 99)
                print(f"order to screen over {mode}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                      f"max {max(samples):.1f} ms ({len(samples)} orders)")  # fmt: skip
                results[f"order_to_screen_p50_ms_{mode}"] = round(p50, 1)
                results[f"order_to_screen_p99_ms_{mode}"] = round(p99, 1)
                results.setdefault("bump_samples", []).extend(bumps.samples_ms())
                bumps.touched.clear()
        finally:
            gateway.close()
            sim.stop()
            broker.close()
    bump_samples = results.pop("bump_samples")
    print(f"bump to Deliverect: p50 {_percentile(bump_samples, 50):.1f} ms, "
          f"p99 {_percentile(bump_samples, 99):.1f} ms ({len(bump_samples)} bumps)")  # fmt: skip
    results["bump_to_deliverect_p50_ms"] = round(_percentile(bump_samples, 50), 1)
    results["bump_to_deliverect_p99_ms"] = round(_percentile(bump_samples, 99), 1)
    results["orders"] = count
    results["gateway_workers"] = gateway_workers or "default"
    results["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return results


def _settle(board: Any, mode: str) -> None:
    """Frames until the device says it is live the way this phase measures."""
    from kivy.base import EventLoop

    from kds_device.runtime.messages import Link

    wanted = Link.LIVE_MQTT if mode == "mqtt" else Link.LIVE_HTTP
    deadline = time.monotonic() + 20
    while board.app.link.link is not wanted:
        EventLoop.idle()
        if time.monotonic() > deadline:
            raise SystemExit(f"the device never became {wanted.value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument(
        "--gateway-workers",
        type=int,
        default=None,
        help="gunicorn processes of the gateway (default: its config default)",
    )
    args = parser.parse_args()
    reexec_under_xvfb("1280x800x24")
    print(json.dumps(measure(args.orders, args.gateway_workers)))


if __name__ == "__main__":
    main()
