"""Latency benchmark of the live kitchen on loopback, timed as a kitchen lives it: prints
figures, last line one JSON object.

* ``order_to_screen_*_mqtt``: from the first byte of a signed order webhook to the flip of the
  frame that draws its tile (MQTT feed on, as enrolled); goals p50 <= 25 ms, p99 <= 50 ms;
* ``order_to_screen_*_longpoll``: the same with the device on HTTP long-poll alone (no broker
  in its enrollment's use); goal p99 <= 60 ms, and MQTT's p99 no worse than this;
* ``bump_to_deliverect_p99_ms``: a real touch that bumps a tile -> the simulated Deliverect
  receives ``POST /kds/orderStatus/{orderId}`` (device outbox -> gateway -> its outbox);
  goal <= 50 ms.

Orders arrive at a steady rate (``--rate``, 2/s) from a sender thread whatever the screen is
doing; the board runs Kivy's own loop at its normal frame rate (60 fps), and each tile is
bumped with a real touch a moment (``BUMP_AFTER_S``) after it is drawn, so bumps and new orders
overlap as they do in a kitchen. ``*_from_2xx`` figures start the clock at the webhook's 2xx
instead (what this bench measured before), ``webhook_2xx_*`` is the gateway's answer time.

The parts are the real ones: Mosquitto, ``kds-gateway serve`` (gunicorn) and the simulated
Deliverect as processes (``bench/latency_parts.py``), the Kivy board (Xvfb) in this process,
wired as ``kds-device run`` wires them. ``--trace`` adds trace points along the path
(``bench/latency_trace.py``) and prints where the time goes. Runs under Xvfb; without
``DISPLAY`` it re-executes itself under ``xvfb-run``.

    .venv/bin/python bench/latency.py [--orders 300] [--rate 2] [--trace] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import logging
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latency_parts import Sender, SimProcess  # noqa: E402
from latency_trace import (  # noqa: E402  (bench/ is on the path as the script's dir)
    BUMP_STAGES,
    ENV,
    ORDER_STAGES,
    Trace,
    install_device_hooks,
    print_breakdown,
)
from xvfb import reexec_under_xvfb  # noqa: E402

LOCATION = "loc-bench"
WARM_UP = 10  # orders per phase before the counted ones
BUMP_AFTER_S = 0.3  # a cook's glance: the tile is bumped this long after it is drawn
SETTLE_S = 0.25  # the board's tap settle time for this quick cook (default 0.6 s)
PHASE_TIMEOUT_S = 30.0  # after the last order is sent


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Screen:
    """The board's main loop, as ``App.run`` runs it (Kivy's clock at its frame rate), plus
    what a cook does: each new tile is bumped by touch ``BUMP_AFTER_S`` after it is drawn."""

    def __init__(self, board: Any, trace: Trace, profiled: bool = False) -> None:
        self.board = board
        self.trace = trace
        self.profiled = profiled
        self.flips = 0
        self.missed = 0  # bump touches that did not bump (the board moved): tried again
        self.waiting: set[str] = set()  # posted, not drawn yet
        self._lock = threading.Lock()
        self._in_frame: list[str] = []
        self._bumps: list[tuple[float, str]] = []
        self.bumped: list[str] = []

    def expect(self, order_id: str) -> None:
        with self._lock:
            self.waiting.add(order_id)

    def _on_draw(self, *_args: Any) -> None:
        # Bound handlers run before the window's own: the labels' textures are made (Kivy's
        # tick_draw), the drawing itself is next.
        self._draw_began = time.perf_counter()

    def _on_flip(self, *_args: Any) -> None:
        # Runs while the frame is being flipped (before the swap itself): note which tiles
        # this frame draws; they count as shown when the loop iteration returns.
        drawn = time.perf_counter()
        self.flips += 1
        screen = self.board.app.screen
        with self._lock:
            self._in_frame = [i for i in self.waiting if screen.tile_for(i) is not None]
            self.waiting.difference_update(self._in_frame)
        for order_id in self._in_frame:
            self.trace.mark("textured", order_id, self._draw_began)
            self.trace.mark("drawn", order_id, drawn)

    def run(self, until: Callable[[], bool], timeout: float) -> None:
        from kivy.base import EventLoop
        from kivy.core.window import Window

        Window.bind(on_flip=self._on_flip, on_draw=self._on_draw)
        self._draw_began = 0.0
        self.frame_ms: list[float] = []
        deadline = time.monotonic() + timeout
        profile = cProfile.Profile() if self.profiled else None
        if profile is not None:
            profile.enable()
        try:
            while not until():
                began = time.perf_counter()
                EventLoop.idle()  # one frame: clock (sleeps to 60 fps), input, draw, flip
                now = time.perf_counter()
                self.frame_ms.append((now - began) * 1000)
                if self._in_frame:
                    self.trace.mark_many("shown", self._in_frame)
                    self._bumps.extend((now + BUMP_AFTER_S, i) for i in self._in_frame)
                    self._in_frame = []
                self._bump_due(now)
                if time.monotonic() > deadline:
                    raise SystemExit(f"timed out: {len(self.waiting)} orders never drawn")
        finally:
            Window.unbind(on_flip=self._on_flip, on_draw=self._on_draw)
            if profile is not None:
                profile.disable()
                print("the board's main loop, by own time:")
                pstats.Stats(profile).sort_stats("tottime").print_stats(15)

    def _bump_due(self, now: float) -> None:
        app = self.board.app
        for due, order_id in [b for b in self._bumps if b[0] <= now]:
            self._bumps.remove((due, order_id))
            tile = app.screen.tile_for(order_id)
            if tile is None:
                raise SystemExit(f"order {order_id}: its tile left the page before its bump")
            settle = app.device.display.tap_settle_s
            if time.monotonic() - tile.placed_mono < settle:  # a cook waits for a still board
                self._bumps.append((now + settle / 2, order_id))
                continue
            if app.board.selected_id != order_id:
                self._touch(tile)  # select first (a second ticket would be an old one)
            touched = time.perf_counter()
            self._touch(tile)
            if app.screen.tile_for(order_id) is not None:
                self.missed += 1  # the board moved under the finger: try again, as a cook would
                self._bumps.append((now + settle / 2, order_id))
                continue
            self.trace.mark("touch", order_id, touched)
            self.bumped.append(order_id)

    def _touch(self, widget: Any) -> None:
        """A finger down and up on ``widget`` through Kivy's input dispatch."""
        from kivy.base import EventLoop

        from tests.fixtures.board_app import _motion_event_class

        x, y = widget.to_window(widget.center_x, widget.center_y)
        finger = _motion_event_class()(x, y)
        EventLoop.post_dispatch_input("begin", finger)
        EventLoop.post_dispatch_input("end", finger)


@dataclasses.dataclass
class Phase:
    mode: str
    ids: list[str]
    bumped: list[str]
    late_s: float


def run_phase(board: Any, gateway: Any, orders: Any, mode: str, count: int, rate: float,
              trace: Trace, sim: SimProcess, profiled: bool) -> Phase:  # fmt: skip
    # ASAP orders: each reaches a tile at once (a scheduled one waits UPCOMING, off the board)
    bodies = [
        json.dumps(orders.order(deliveryIsAsap=True)).encode() for _ in range(WARM_UP + count)
    ]
    sender = Sender(gateway, LOCATION, bodies, rate, trace)
    screen = Screen(board, trace, profiled)
    for order_id, _body, _headers in sender.requests:
        screen.expect(order_id)
    ids = [order_id for order_id, _b, _h in sender.requests]
    # The board bumps a tile only once it has been still for tap_settle_s (a guard against
    # bumping what slid under a finger): this bench's cook is quick, the guard stays on.
    board.app.device.display.tap_settle_s = SETTLE_S
    sender.start()
    screen.run(
        until=lambda: (
            sender.failure is not None or (sender.done.is_set() and len(screen.bumped) == len(ids))
        ),
        timeout=len(ids) / rate + PHASE_TIMEOUT_S,
    )
    frames = sorted(screen.frame_ms)
    print(
        f"{mode}: {screen.flips} frames drawn in {len(frames)} turns of the main loop "
        f"(a turn: p50 {frames[len(frames) // 2]:.1f} ms, p99 {frames[int(len(frames) * 0.99)]:.1f}"
        f" ms, max {frames[-1]:.1f} ms); {screen.missed} bump touches came too soon and were"
        " tried again"
    )
    if sender.failure is not None:
        raise SystemExit(sender.failure)
    if not sim.wait_all(ids, 30):
        raise SystemExit(f"{mode}: not every bump reached the simulated Deliverect")
    counted = ids[WARM_UP:]
    wanted = set(counted)
    return Phase(mode, counted, [i for i in screen.bumped if i in wanted], sender.late_s)


def _ms(trace: Trace, start: str, end: str, ids: list[str]) -> list[float]:
    begun, ended = trace.marks[start], trace.marks[end]
    return [(ended[i] - begun[i]) * 1000 for i in ids if i in begun and i in ended]


def _summary(name: str, samples: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    print(f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms "
          f"(n={len(samples)})")  # fmt: skip
    return round(p50, 1), round(p99, 1)


def measure(count: int, rate: float, gateway_workers: int | None, traced: bool,
            profiled: bool = False) -> dict[str, Any]:  # fmt: skip
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    logging.basicConfig(level=logging.WARNING)
    from kds_device.ui.window_config import configure_window

    configure_window((1280, 800), fullscreen=False, mouse=False)  # as `kds-device run` does
    from kivy.clock import Clock
    from kivy.config import Config

    Config.set("graphics", "maxfps", "60")  # Kivy's default, said out loud: a normal screen
    Clock._max_fps = 60.0

    from kds_device.config import ConnectionConfig
    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures.device import identity_of
    from tests.fixtures.device_app import LiveBoard
    from tests.fixtures.gateway import GatewayProcess
    from tests.fixtures.mosquitto import Mosquitto

    logging.disable(logging.INFO)  # the fixtures' request logs would drown the figures
    import gc

    gc_pauses: list[tuple[int, float]] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses.append((info["generation"], (time.perf_counter() - gc_started[0]) * 1000))

    gc.callbacks.append(on_gc)
    trace = Trace()
    if traced:
        install_device_hooks(trace)
    results: dict[str, Any] = {}
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="kds-latency-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        sim = SimProcess(trace)
        (work / "gateway").mkdir()
        settings = {"server": {"workers": gateway_workers}} if gateway_workers else None
        gateway = GatewayProcess(work / "gateway", mqtt=broker, deliverect=sim, settings=settings)
        trace_file = work / "gateway-trace.txt"
        if traced:
            os.environ[ENV] = str(trace_file)
            os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent / "trace_site")
        try:
            gateway.start()
            os.environ.pop(ENV, None)
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
                    phases.append(
                        run_phase(board, gateway, orders, mode, count, rate, trace, sim, profiled)
                    )
                finally:
                    board.stop()
        finally:
            gateway.close()
            sim.stop()
            broker.close()
        trace.read_file(trace_file)
    print(f"{count} orders per feed at {rate:g}/s, Kivy at 60 fps; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")  # fmt: skip
    for phase in phases:
        mode = phase.mode
        p50, p99 = _summary(f"order to screen over {mode}", _ms(trace, "post", "shown", phase.ids))
        results[f"order_to_screen_p50_ms_{mode}"] = p50
        results[f"order_to_screen_p99_ms_{mode}"] = p99
        old = _summary("  the same from the 2xx", _ms(trace, "answered", "shown", phase.ids))
        results[f"order_to_screen_p50_ms_{mode}_from_2xx"] = old[0]
        results[f"order_to_screen_p99_ms_{mode}_from_2xx"] = old[1]
        if phase.late_s > 0.05:
            print(f"  (the sender started up to {phase.late_s * 1000:.0f} ms after a slot)")
        if traced:
            rows = trace.breakdown(phase.ids, ORDER_STAGES[mode])
            print_breakdown(f"order path over {mode}", rows)
    all_ids = [i for phase in phases for i in phase.ids]
    answer = _summary("webhook answered", _ms(trace, "post", "answered", all_ids))
    results["webhook_2xx_p50_ms"], results["webhook_2xx_p99_ms"] = answer
    bumped = [i for phase in phases for i in phase.bumped]
    bump = _summary("bump to Deliverect", _ms(trace, "touch", "deliverect", bumped))
    results["bump_to_deliverect_p50_ms"], results["bump_to_deliverect_p99_ms"] = bump
    if traced:
        print_breakdown("bump path", trace.breakdown(bumped, BUMP_STAGES))
    for generation in (0, 1, 2):
        pauses = sorted(p for g, p in gc_pauses if g == generation)
        if pauses:
            print(f"gc gen {generation}: {len(pauses)} pauses, max {pauses[-1]:.1f} ms, "
                  f"p50 {pauses[len(pauses) // 2]:.2f} ms")  # fmt: skip
    results["orders"] = count
    results["rate_per_s"] = rate
    results["clock_starts"] = "post"
    results["max_fps"] = 60
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
    parser.add_argument("--orders", type=int, default=300, help="counted orders per feed")
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second")
    parser.add_argument("--trace", action="store_true", help="print where the time goes")
    parser.add_argument(
        "--profile", action="store_true", help="profile the board's main loop (cProfile)"
    )
    parser.add_argument(
        "--gateway-workers",
        type=int,
        default=None,
        help="gunicorn processes of the gateway (default: its config default)",
    )
    args = parser.parse_args()
    reexec_under_xvfb("1280x800x24")
    print(
        json.dumps(measure(args.orders, args.rate, args.gateway_workers, args.trace, args.profile))
    )


if __name__ == "__main__":
    main()
