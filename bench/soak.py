"""Soak benchmark: the demo's whole chain for a while, and how fast its memory grows.

Runs what ``kds-device demo`` runs, in one process: the simulated Deliverect, the in-process
gateway (its Flask app on the demo's threaded server, SQLite journal, outbox, MQTT publisher),
Mosquitto, the sender posting signed orders (with duplicates and cancels) at ``--rate`` per
minute, the device link and the Kivy board at its normal 60 fps under Xvfb. A kitchen bumps
as its bump bar does (FIRST, BUMP): whenever more than ``--keep-open`` tickets are up, the
oldest goes, so the board stays at a steady size as in a working kitchen.

The process's RSS is sampled every ``--sample-s`` seconds; after the warm-up the growth per
hour is the slope of a least-squares line through the samples. The last line printed is one
JSON object with ``rss_mb_growth_per_hour`` (goal <= 10) and, for telling a one-time step from
a leak, ``rss_mb_growth_per_hour_second_half`` (the slope over the run's second half). Each
minute it prints the RSS, glibc's bytes in use and how many font files SDL_ttf holds open
(one per font and size: a new one is a first use, not a leak).

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 6] [--warmup-min 2] [--trace]

Without ``DISPLAY`` it re-executes itself under ``xvfb-run``.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import reexec_under_xvfb  # noqa: E402  (bench/ is on the path as the script's dir)

GOAL_MB_PER_HOUR = 10.0


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per hour."""
    if len(samples) < 2:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [m for _, m in samples]
    return statistics.linear_regression(xs, ys).slope * 3600.0


def soak(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    logging.basicConfig(level=logging.WARNING)
    from kds_device.ui.window_config import configure_window
    from tests.fixtures.board_app import WINDOW

    configure_window(WINDOW, fullscreen=False, mouse=False)  # as the app does (heap, clock)
    from kivy.config import Config

    Config.set("graphics", "maxfps", "60")  # Kivy's default, said out loud: a normal screen
    import psutil
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kds_device.board_setup import build_board_app
    from kds_device.config import DeviceConfig
    from kds_device.demo_chain import DemoChain
    from kds_device.runtime.inbox import Inbox
    from kds_device.runtime.messages import Message
    from kds_device.sim.menu import CHANNELS
    from kds_device.ui.sound import Sounds

    logging.getLogger().setLevel(logging.WARNING)  # Kivy's import lowers it
    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="kds-soak-") as tmp:
        work = Path(tmp)
        chain = DemoChain(work, rate_per_min=args.rate, prefill=8, seed=args.seed)
        inbox: Inbox[Message] = Inbox()
        EventLoop.ensure_window()
        Window.size = WINDOW
        config = DeviceConfig()
        config.display.channels = dict(CHANNELS)
        link = chain.start(inbox, 0)
        app = build_board_app(
            config, inbox, link.outbox, data_dir=work, sounds=Sounds(enabled=False)
        )
        app.core.now, app.clock_note = link.clock.now, link.clock.note  # as the demo does
        app._run_prepare()
        try:
            samples, bumps = _run(args, app, process)
        finally:
            app.dispatch("on_stop")
            chain.stop()
        assert chain.gateway is not None
        pool = getattr(chain.gateway.db, "pool", None)  # None: a gateway from before the pool
        warm = [(t, mb) for t, mb in samples if t >= args.warmup_min * 60]
        # A one-time step (the first CJK text drawn opens a 2.5 MB font) weighs on a short
        # run's slope as much as a leak would; a leak also shows in the run's second half.
        second_half = [(t, mb) for t, mb in samples if t >= args.minutes * 30]
        return {
            "rss_mb_start": round(samples[0][1], 1),
            "rss_mb_after_warmup": round(warm[0][1], 1) if warm else None,
            "rss_mb_end": round(samples[-1][1], 1),
            "orders": chain.posted,
            "cancels": chain.cancelled,
            "bumps": bumps,
            "open_tickets_end": len(app.board.open_tickets()),
            "gateway_connections_opened": pool.opened if pool else None,
            "gateway_connections_open_end": pool.open_connections if pool else None,
            "threads_end": process.num_threads(),
            "minutes": args.minutes,
            "rate_per_min": args.rate,
            "samples": len(warm),
            "rss_mb_growth_per_hour_second_half": round(slope_per_hour(second_half), 1),
            "rss_mb_growth_per_hour": round(slope_per_hour(warm), 1),
        }


def _run(args: argparse.Namespace, app: Any, process: Any) -> tuple[list[tuple[float, float]], int]:
    from kivy.base import EventLoop

    start = time.monotonic()
    end = start + args.minutes * 60
    next_sample = start
    samples: list[tuple[float, float]] = []
    bumps = frames = 0
    traced: Any = None
    live: Counter[str] = Counter()
    while (now := time.monotonic()) < end:
        EventLoop.idle()  # drains the inbox, draws one frame (at most 60 a second)
        frames += 1
        if args.trace and traced is None and now - start >= args.warmup_min * 60:
            traced = tracemalloc.take_snapshot()
            live = _live_objects()
        if len(app.board.open_tickets()) > args.keep_open and _bump_oldest(app):
            bumps += 1
        if now >= next_sample:
            rss_mb = process.memory_info().rss / 1e6
            samples.append((now - start, rss_mb))
            next_sample += args.sample_s
            if len(samples) % max(1, round(60 / args.sample_s)) == 1:
                print(
                    f"{(now - start) / 60:5.1f} min: rss {rss_mb:6.1f} MB, "
                    f"{len(app.board.open_tickets())} open, {bumps} bumped, "
                    f"{frames / max(1e-9, now - start):.0f} frames/s; "
                    f"malloc in use {_malloc_in_use_mb():.1f} MB, {_fonts_open()} font files open",
                    flush=True,
                )
    if traced is not None:
        print("Python allocations that grew most after the warm-up:")
        for stat in tracemalloc.take_snapshot().compare_to(traced, "lineno")[:15]:
            print(f"  {stat}")
        grown = _live_objects()
        grown.subtract(live)
        print("Live objects that grew most after the warm-up (type: count):")
        for name, count in grown.most_common(12):
            print(f"  {name}: +{count}")
    return samples, bumps


def _malloc_in_use_mb() -> float:
    """glibc's bytes handed out by malloc (heap and mmap'd blocks); -1 without mallinfo2."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return -1.0
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return float(info.uordblks + info.hblkhd) / 1e6


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def _fonts_open() -> int:
    """Font files the process holds open: SDL_ttf keeps one per font and size it caches."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.endswith((".ttf", ".ttc", ".otf"))
    return count


def _live_objects() -> Counter[str]:
    """Live objects tracked by the collector, by type name."""
    gc.collect()
    return Counter(type(o).__name__ for o in gc.get_objects())


def _bump_oldest(app: Any) -> bool:
    """The bump bar's FIRST then BUMP; True when a ticket left the board."""
    from kds_device.domain.actions import Action

    before = len(app.board.open_tickets())
    app.perform(Action.FIRST)
    app.perform(Action.BUMP)
    return len(app.board.open_tickets()) < before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run")
    parser.add_argument(
        "--rate", type=float, default=6.0, help="orders per minute (default: the demo's 6)"
    )
    parser.add_argument(
        "--warmup-min",
        type=float,
        default=None,
        help="minutes left out of the slope (default: a fifth, at most 2)",
    )
    parser.add_argument("--keep-open", type=int, default=10, help="tickets the kitchen leaves up")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--trace", action="store_true", help="list the Python allocations that grew (slower)"
    )
    args = parser.parse_args()
    if args.warmup_min is None:
        args.warmup_min = min(2.0, args.minutes / 5)
    reexec_under_xvfb("1280x800x24")
    if args.trace:
        tracemalloc.start(1)
    result = soak(args)
    goal = "meets" if result["rss_mb_growth_per_hour"] <= GOAL_MB_PER_HOUR else "MISSES"
    print(
        f"rss {result['rss_mb_after_warmup']} -> {result['rss_mb_end']} MB; growth "
        f"{result['rss_mb_growth_per_hour']} MB/h ({goal} the goal of <= {GOAL_MB_PER_HOUR:g})"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
