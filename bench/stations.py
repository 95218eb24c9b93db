"""Stations benchmark: a kitchen of three screens (grill, fryer, expo) on one location, with
the real parts of the end-to-end test: Mosquitto, ``kds-gateway serve`` with the simulator's
station rules, the simulated Deliverect in its own process, and three device cores, each with
its real device link (outbox in SQLite, HTTP poller, MQTT feed) and board file. Prints
figures, last line one JSON object:

* ``part_bump_to_expo_p99_ms``: from a station's press (the part bump) to expo's board
  showing that part done (the event applied to expo's board); goal <= 100 ms;
* ``expo_bump_to_deliverect_p99_ms``: from expo's press to the simulated Deliverect
  receiving ``POST /kds/orderStatus/{id}`` with 70; goal <= 100 ms;
* ``statuses_sent`` (orderStatus calls Deliverect received) and ``statuses_expected`` (50,
  60 and 70 for each order): equal when each is sent exactly once;
* ``orders``.

Each order has a grill item and a fryer item; the grill bumps its part, then the fryer, then
expo sends it. The three cores share this process (as the headless screens of the e2e test);
Deliverect notes each call's arrival in its own process (perf_counter is system-wide).

    .venv/bin/python bench/stations.py [--orders 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCATION = "loc-bench-stations"

SIM_CHILD = """
import io, json, sys, time
from urllib.parse import unquote
from kds_device.sim.deliverect_api import create_app
from kds_device.sim.serving import ServerThread

app = create_app("bench", "bench-secret", 86400.0)

def arrival(environ, start_response):  # the moment a status reaches Deliverect's door
    path = environ.get("PATH_INFO", "")
    if path.startswith("/kds/orderStatus/"):
        at = time.perf_counter()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            status = json.loads(body).get("orderStatus", json.loads(body).get("status"))
        except ValueError:
            status = None
        print(unquote(path.rsplit("/", 1)[1]), status, at, flush=True)
    return app(environ, start_response)

server = ServerThread(arrival, "127.0.0.1", 0, name="deliverect-sim").start()
print("URL", server.url, flush=True)
sys.stdin.read()  # until the bench closes our stdin
"""


class StatusSim:
    """The simulated Deliverect in its own process; ``arrived[(order, status)]`` = times."""

    def __init__(self) -> None:
        self.client_id, self.client_secret = "bench", "bench-secret"
        self.arrived: dict[tuple[str, int | None], list[float]] = {}
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SIM_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        first = self.process.stdout.readline().split()
        if first[:1] != ["URL"]:
            raise SystemExit(f"the simulator did not start: {first}")
        self.base_url = first[1]
        threading.Thread(target=self._read, name="sim-reader", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            order_id, status, at = line.split()
            key = (order_id, int(status) if status.isdigit() else None)
            with self._changed:
                self.arrived.setdefault(key, []).append(float(at))
                self._changed.notify_all()

    def wait(self, order_id: str, status: int, timeout: float) -> float:
        with self._changed:
            if not self._changed.wait_for(lambda: (order_id, status) in self.arrived, timeout):
                raise SystemExit(f"order {order_id}: Deliverect never got {status}")
            return self.arrived[(order_id, status)][0]

    def calls(self, ids: set[str]) -> int:
        with self._changed:
            return sum(
                len(times) for (order_id, _s), times in self.arrived.items() if order_id in ids
            )

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def wait_screen(screen: Any, condition: Any, timeout: float, what: str) -> float:
    """Pump ``screen`` until ``condition()``; the perf_counter time it first held."""
    deadline = time.monotonic() + timeout
    while True:
        screen.pump()
        if condition():
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise SystemExit(f"{screen.name}: timed out waiting for {what}")
        screen._woken.wait(0.05)


def run(count: int) -> dict[str, Any]:
    from kds_device.domain.roles import Role, RoleKind
    from tests.fixtures.gateway import GatewayProcess
    from tests.fixtures.kitchen import HeadlessScreen, pump_all
    from tests.fixtures.mosquitto import Mosquitto
    from tests.gateway.stations_kit import SIM_RULES, item, order

    logging.disable(logging.INFO)
    part_ms: list[float] = []
    expo_ms: list[float] = []
    ids: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kds-stations-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        sim = StatusSim()
        (work / "gateway").mkdir()
        gateway = GatewayProcess(work / "gateway", mqtt=broker, deliverect=sim)
        screens: list[HeadlessScreen] = []
        try:
            gateway.start()
            gateway.register(LOCATION)
            done = gateway.cli("stations", "set", "--location", LOCATION, str(SIM_RULES))
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            for name, role in (
                ("grill", Role.for_stations(["grill"])),
                ("fryer", Role.for_stations(["fryer"])),
                ("expo", Role(RoleKind.EXPO)),
            ):
                code = gateway.enroll_code(LOCATION)
                screens.append(HeadlessScreen(gateway.base_url, code, role, work / name, name))
            for screen in screens:
                screen.live()
            grill, fryer, expo = screens
            pickup = (datetime.now(UTC) + timedelta(minutes=30)).isoformat(timespec="seconds")
            for index in range(count):
                payload = order(
                    f"bench-st-{index:04d}",
                    item("BRG-SMK", "Smokehouse Burger"),
                    item("FRI-REG", "Fries"),
                    pickupTime=pickup,
                )
                order_id = payload["orderId"]
                ids.append(order_id)
                answer = gateway.send_order(LOCATION, payload)
                if answer.status_code // 100 != 2:
                    raise SystemExit(f"order {order_id}: {answer.status_code} {answer.text}")
                pump_all(
                    screens,
                    lambda i=order_id: all(i in s.open_ids() for s in screens),  # type: ignore[misc]
                    20,
                    f"order {order_id} on every screen",
                )
                ticket = expo.board.ticket(order_id)
                for station, screen in (("grill", grill), ("fryer", fryer)):
                    pressed = time.perf_counter()
                    screen.bump(order_id)
                    shown = wait_screen(
                        expo,
                        lambda s=station, t=ticket: t.parts.part(s).done,  # type: ignore[misc]
                        20,
                        f"{station} part of {order_id} on expo",
                    )
                    part_ms.append((shown - pressed) * 1000)
                if not expo.board.all_ready(ticket):
                    raise SystemExit(f"order {order_id}: not ALL READY on expo")
                pressed = time.perf_counter()
                expo.bump(order_id)
                arrived = sim.wait(order_id, 70, 20)
                expo_ms.append((arrived - pressed) * 1000)
            for status in (50, 60):
                for order_id in ids:
                    sim.wait(order_id, status, 20)
            pump_all(screens, lambda: all(s.synced() for s in screens), 20, "outboxes empty")
            deadline = time.monotonic() + 20
            while any(r["state"] != "sent" for r in gateway.outbox_rows()):
                if time.monotonic() > deadline:
                    raise SystemExit("the gateway's outbox never emptied")
                time.sleep(0.05)
            time.sleep(0.5)  # a duplicate would arrive now
            sent = sim.calls(set(ids))
        finally:
            for screen in screens:
                screen.stop()
            gateway.close()
            sim.stop()
            broker.close()
    results: dict[str, Any] = {}
    for name, samples in (("part_bump_to_expo", part_ms), ("expo_bump_to_deliverect", expo_ms)):
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        print(f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms "
              f"({len(samples)} samples)")  # fmt: skip
        results[f"{name}_p50_ms"] = round(p50, 1)
        results[f"{name}_p99_ms"] = round(p99, 1)
    results.update(statuses_sent=sent, statuses_expected=3 * len(ids), orders=len(ids))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=60)
    args = parser.parse_args()
    results = run(args.orders)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
