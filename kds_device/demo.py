"""``kds-device demo``: the board with no set-up. A small feed thread plays realistic
Deliverect orders (and now and then a cancel) into the inbox; bumps go to a sink that only
counts and logs them.

The feed is the one replaceable piece: anything with ``start()``/``stop()`` that posts inbox
messages (e.g. an in-process gateway and simulated Deliverect) can take its place.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from kds_device.config import DeviceConfig, load_config, parse_size
from kds_device.domain.ticket import Request
from kds_device.paths import config_file
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Link, LinkChanged, Message, OrderArrived
from kds_device.sim.menu import CHANNELS
from kds_device.sim.orders import OrderGenerator
from kds_device.ui.window_config import configure_window

log = logging.getLogger(__name__)

CANCEL_ONE_IN = 12


class Feed(Protocol):
    """Something that posts messages to the app's inbox from its own thread."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class DemoFeed:
    """Posts generated orders at ``rate`` per minute (random gaps around the mean) and a
    cancel for about one order in 12, 20-90 s after the order."""

    def __init__(
        self,
        inbox: Inbox[Message],
        rate_per_min: float = 6.0,
        seed: int | None = None,
        generator: OrderGenerator | None = None,
    ) -> None:
        self.inbox = inbox
        self.rate = max(0.01, rate_per_min)
        self.random = random.Random(seed)
        self.generator = generator or OrderGenerator(seed=seed)
        self.posted = 0
        self.cancelled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-feed", daemon=True)
        self._cancels: list[tuple[float, int, dict[str, Any]]] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def next_order(self) -> dict[str, Any]:
        """One order; schedules its cancel now and then."""
        order = self.generator.order()
        if self.random.randrange(CANCEL_ONE_IN) == 0:
            when = time.monotonic() + self.random.uniform(20.0, 90.0)
            heapq.heappush(self._cancels, (when, self.posted, self.generator.cancel(order)))
        self.posted += 1
        return order

    def _run(self) -> None:
        next_order = time.monotonic() + self._gap()
        while not self._stop.is_set():
            now = time.monotonic()
            while self._cancels and self._cancels[0][0] <= now:
                _, _, cancel = heapq.heappop(self._cancels)
                self.inbox.post(OrderArrived(cancel))
                self.cancelled += 1
            if now >= next_order:
                self.inbox.post(OrderArrived(self.next_order()))
                next_order = now + self._gap()
            wake = min([next_order] + [c[0] for c in self._cancels[:1]])
            self._stop.wait(max(0.05, wake - time.monotonic()))

    def _gap(self) -> float:
        return self.random.expovariate(self.rate / 60.0)


class CountingSink:
    """The demo's status sink: counts and logs each bump (the real one is the outbox)."""

    def __init__(self) -> None:
        self.changes: list[Request] = []
        self._lock = threading.Lock()

    def submit(self, change: Request) -> None:
        with self._lock:
            self.changes.append(change)
        log.info("%s for order %s (key %s)", change, change.order_id, change.key)


def prefill(count: int, seed: int | None, now: datetime) -> list[tuple[Mapping[str, Any], float]]:
    """Orders already waiting when the demo starts, with ages from fresh to late, so the
    first screen shows every colour a cook will see (and names in other scripts)."""
    rnd = random.Random(seed)
    ages = sorted((rnd.uniform(0, 14 * 60) for _ in range(count)), reverse=True)
    result: list[tuple[Mapping[str, Any], float]] = []
    for index, age in enumerate(ages):
        created = now - timedelta(seconds=age)
        generator = OrderGenerator(seed=rnd.getrandbits(32), clock=_fixed(created))
        order = generator.order()
        if index % 2 and index // 2 < len(SCRIPT_NAMES):
            order["customerName"] = SCRIPT_NAMES[index // 2]
        result.append((order, age))
    return result


#: Some of the prefill's customers, so the first screen also shows names in other scripts.
SCRIPT_NAMES = ("דנה כהן", "さくら 山田", "فاطمة علي", "Zoë 🎂")


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def demo_config() -> DeviceConfig:
    """The screen's configuration for a demo window: the config file's, with the simulator's
    channels named (so a tile says "Uber Eats", not "channel 7") unless the file names them."""
    config = load_config(config_file())
    for channel, name in CHANNELS.items():
        config.display.channels.setdefault(channel, name)
    return config


def run_demo(args: argparse.Namespace) -> int:
    """The ``kds-device demo`` command."""
    size = parse_size(args.size) or (1280, 800)
    configure_window(size, args.fullscreen, mouse=True)
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kds_device.board_setup import build_board_app

    config = demo_config()
    if args.fullscreen:
        Window.fullscreen = "auto"
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="kds-demo-"))
    inbox: Inbox[Message] = Inbox()
    sink: Any = CountingSink()
    feed: Any = DemoFeed(inbox, args.rate, args.seed)
    link: LinkChanged | None = LinkChanged(Link.DEMO, 0.0)
    if not getattr(args, "offline_demo", False):
        # The whole chain on loopback: simulated Deliverect -> gateway -> this board -> back.
        from kds_device.demo_chain import ChainFeed
        from kds_device.demo_kitchen import SIM_RULES
        from kds_device.domain.roles import RoleKind

        # a screen configured as a station or expo ([display] role) gets the simulator's
        # station rules, so its orders are routed; the gateway knows it by that role
        kitchen = config.board.role.kind is not RoleKind.ALL
        feed = sink = ChainFeed(
            data_dir,
            inbox,
            args.rate,
            args.prefill,
            args.seed,
            rules=SIM_RULES if kitchen else None,
            role=config.board.role if kitchen else None,
        )
        link = None  # the device link reports the real state
    app = build_board_app(config, inbox, sink, data_dir=data_dir, link=link)
    if link is not None:
        app.preload = prefill(args.prefill, args.seed, datetime.now(UTC))
    if args.screenshot:
        _schedule_screenshot(app, Path(args.screenshot), args.screenshot_after, Clock, Window)
    feed.start()
    chain_link = getattr(getattr(feed, "chain", None), "link", None)
    if chain_link is not None:
        app.core.now, app.clock_note = chain_link.clock.now, chain_link.clock.note
    try:
        app.run()
    finally:
        feed.stop()
    bumps = len(sink.changes) if isinstance(sink, CountingSink) else sink.bumps
    log.info("demo: %d orders, %d cancels, %d bumps", feed.posted, feed.cancelled, bumps)
    return 0


def _schedule_screenshot(app: Any, path: Path, after: float, clock: Any, window: Any) -> None:
    def shoot(_dt: float) -> None:
        window.dispatch("on_draw")
        saved = window.screenshot(name=str(path.with_suffix(".png")))
        if saved:
            os.replace(saved, path)
            log.info("screenshot saved to %s", path)
        app.stop()

    def arm(*_args: Any) -> None:
        # counted from the first frame on screen: the clock's first tick can come late
        window.unbind(on_flip=arm)
        clock.schedule_once(shoot, after)

    app.bind(on_start=lambda *_args: window.bind(on_flip=arm))
