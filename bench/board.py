"""Board benchmark: prints figures, last line one JSON object (not a timed test).

* ``update_ratio_500_vs_10``: time to apply one new order and draw the next frame with 500
  open tickets, divided by the same with 10 (goal <= 1.5: only the page is drawn);
* ``frame_ms_p50``: median frame with a page of tiles on screen and every timer ticking each
  frame (goal <= 16); ``tiles_visible`` says how many tiles that page had;
* ``rss_mb_500_open``: resident memory with 500 open tickets (goal <= 150);
* ``rss_mb_added_by_500``: what those 500 tickets add to the same board's memory when it was
  empty (goal <= 15 at every size; docs/performance.md says what the rest is made of);
* ``first_frame_s``: process start to the first drawn board, in a fresh process (goal <= 3).

Context figures: ``frame_ms_p50_empty_board`` (the window's clear + swap alone: with software
GL under Xvfb this is most of a frame), ``rss_mb_empty_board`` (Kivy, SDL and Mesa before any
ticket) and ``load_avg_1min`` (timings on a busy machine are not comparable).

Runs under Xvfb; without ``DISPLAY`` it re-executes itself under ``xvfb-run``.
Usage: ``python bench/board.py [--size 1920x1080]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import reexec_under_xvfb  # noqa: E402  (bench/ is on the path as the script's dir)


def _kivy_setup(width: int, height: int) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kivy.config import Config

    from kds_device.ui.window_config import configure_window

    configure_window((width, height), fullscreen=False, mouse=False)  # the app's window
    Config.set("graphics", "maxfps", "0")


class Bench:
    """One in-process board app driven frame by frame with a fake clock."""

    def __init__(self, data_dir: Path) -> None:
        from datetime import UTC, datetime

        from kds_device.board_setup import build_board_app
        from kds_device.config import DeviceConfig
        from kds_device.domain.clock import Instant
        from kds_device.runtime.inbox import Inbox
        from kds_device.runtime.messages import Link, LinkChanged
        from kds_device.sim.orders import OrderGenerator
        from kds_device.ui.sound import Sounds

        self.now = Instant(datetime(2026, 11, 22, 18, 0, tzinfo=UTC), 1000.0)
        self.orders = OrderGenerator(seed=7, clock=lambda: self.now.wall)
        config = DeviceConfig()

        class Sink:
            def submit(self, change: Any) -> None:
                pass

        self.app = build_board_app(
            config,
            Inbox(),
            Sink(),
            data_dir=data_dir,
            now=lambda: self.now,
            link=LinkChanged(Link.DEMO, 0.0),
            sounds=Sounds(enabled=False),
        )
        self.app._run_prepare()
        self.frames(3)

    def frames(self, count: int = 1) -> None:
        from kivy.base import EventLoop

        for _ in range(count):
            EventLoop.idle()

    def add(self, count: int) -> None:
        from kds_device.runtime.messages import OrderArrived

        for _ in range(count):
            self.app.inbox.post(OrderArrived(self.orders.order()))
        self.frames(2)

    def stop(self) -> None:
        from kivy.app import App
        from kivy.core.window import Window

        self.app.dispatch("on_stop")
        Window.remove_widget(self.app.root)
        App._running_app = None

    def one_order_ms(self, repeats: int = 15) -> float:
        """Median time to apply one new order and draw the frame after it."""
        from kivy.base import EventLoop

        from kds_device.runtime.messages import OrderArrived

        samples = []
        for _ in range(repeats):
            payload = self.orders.order()
            start = time.perf_counter()
            self.app.inbox.post(OrderArrived(payload))
            EventLoop.idle()  # drains the inbox (trigger), renders the page, draws
            samples.append((time.perf_counter() - start) * 1000)
            self.frames(1)
        return statistics.median(samples)

    def ticking_frames_ms(self, count: int = 120) -> list[float]:
        """Each frame: one second passes (every timer label changes), then a draw."""
        from datetime import timedelta

        from kivy.base import EventLoop
        from kivy.core.window import Window

        from kds_device.domain.clock import Instant

        samples = []
        for _ in range(count):
            self.now = Instant(self.now.wall + timedelta(seconds=1), self.now.mono + 1)
            start = time.perf_counter()
            self.app.tick()
            Window.canvas.ask_update()  # an empty board would otherwise skip the draw
            EventLoop.idle()
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def measure_in_process(size: tuple[int, int]) -> dict[str, Any]:
    import psutil

    _kivy_setup(*size)
    from kivy.core.window import Window

    Window.size = size
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        empty_board = Bench(Path(tmp) / "empty")
        empty = empty_board.ticking_frames_ms(60)  # what the window alone costs here
        rss_empty = psutil.Process().memory_info().rss / 2**20
        empty_board.stop()

        # the 500-ticket board before any other board with tickets: the allocator keeps
        # what an earlier, stopped board used, and a device runs one board per process
        big = Bench(Path(tmp) / "big")
        big.ticking_frames_ms(10)
        rss_before = psutil.Process().memory_info().rss / 2**20  # the same board, empty
        for _ in range(10):
            big.add(50)
        big.ticking_frames_ms(10)
        rss = psutil.Process().memory_info().rss / 2**20
        ms_500 = big.one_order_ms()
        big.stop()

        small = Bench(Path(tmp) / "small")
        small.add(10)
        ms_10 = small.one_order_ms()
        small.stop()

        # short tickets so a page holds as many tiles as the layout allows
        page = Bench(Path(tmp) / "page")
        from kds_device.runtime.messages import OrderArrived

        for _ in range(60):
            payload = page.orders.order(
                items=[{"plu": "P", "name": "Burger", "quantity": 1, "price": 0}], note=""
            )
            page.app.inbox.post(OrderArrived(payload))
        page.frames(3)
        tiles = len(page.app.screen.tiles)
        frames = page.ticking_frames_ms()
        page.stop()
    print(f"one new order, 10 open:  {ms_10:.2f} ms")
    print(f"one new order, 500 open: {ms_500:.2f} ms")
    print(
        f"frame with {tiles} tiles ticking: p50 {statistics.median(frames):.2f} ms, "
        f"p90 {sorted(frames)[int(len(frames) * 0.9)]:.2f} ms"
    )
    print(
        f"RSS with 500 open: {rss:.1f} MB, {rss - rss_before:.1f} MB more than the same board "
        f"empty (a first empty board: {rss_empty:.1f} MB)"
    )
    print(f"empty board frame (window, clear, swap): p50 {statistics.median(empty):.2f} ms")
    results["update_ratio_500_vs_10"] = round(ms_500 / ms_10, 3)
    results["update_ms_10"] = round(ms_10, 2)
    results["update_ms_500"] = round(ms_500, 2)
    results["frame_ms_p50"] = round(statistics.median(frames), 2)
    results["tiles_visible"] = tiles
    results["rss_mb_500_open"] = round(rss, 1)
    results["rss_mb_added_by_500"] = round(rss - rss_before, 1)
    results["rss_mb_empty_board"] = round(rss_empty, 1)
    results["frame_ms_p50_empty_board"] = round(statistics.median(empty), 2)
    results["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return results


FIRST_FRAME_CHILD = """
import os, sys, time, psutil
sys.path.insert(0, {root!r})
start = psutil.Process().create_time()
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
from kds_device.ui.window_config import configure_window
configure_window((1280, 800), fullscreen=False, mouse=False)
from kivy.clock import Clock
from kivy.core.window import Window
from kds_device.config import DeviceConfig
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Link, LinkChanged
from kds_device.board_setup import build_board_app
from kds_device.demo import CountingSink, prefill
from datetime import UTC, datetime
app = build_board_app(DeviceConfig(), Inbox(), CountingSink(), data_dir=None,
               link=LinkChanged(Link.DEMO, 0.0))
app.preload = prefill(8, 3, datetime.now(UTC))
def check(_dt):
    if app.first_frame_at is None:
        return
    drawn_at = time.time() - (time.monotonic() - app.first_frame_at)
    print("FIRST_FRAME", drawn_at - start, flush=True)
    app.stop()
    return False
Clock.schedule_interval(check, 0)
app.run()
"""


def measure_first_frame() -> float:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_CHILD.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("FIRST_FRAME"):
            return float(line.split()[1])
    raise RuntimeError(f"no first frame: {out.stdout[-500:]} {out.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="1920x1080", help="window for the frame figures")
    args = parser.parse_args()
    reexec_under_xvfb("1920x1200x24")
    width, height = (int(v) for v in args.size.lower().split("x"))
    first = min(measure_first_frame() for _ in range(2))
    print(f"first frame after process start: {first:.2f} s")
    results = measure_in_process((width, height))
    results["first_frame_s"] = round(first, 2)
    results["size"] = args.size
    print(json.dumps(results))


if __name__ == "__main__":
    main()
