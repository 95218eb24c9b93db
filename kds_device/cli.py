"""``kds-device``: the appliance's command line. Each command imports what it needs lazily,
so ``kds-device status`` works on a box whose display is broken."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from kds_device import __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kds-device", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kds-device {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="the whole kitchen on this machine, no set-up")
    demo.add_argument("--rate", type=float, default=6.0, help="orders per minute (default 6)")
    demo.add_argument("--size", default="1280x800", help="window size, e.g. 800x480")
    demo.add_argument("--fullscreen", action="store_true", help="fill the screen")
    demo.add_argument("--seed", type=int, default=None, help="repeatable orders")
    demo.add_argument("--prefill", type=int, default=8, help="orders already waiting at start")
    demo.add_argument("--data-dir", default=None, help="keep the demo's board here")
    demo.add_argument(
        "--screenshot",
        default=None,
        help="save a PNG of the board after --screenshot-after seconds, then quit",
    )
    demo.add_argument("--screenshot-after", type=float, default=4.0)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "demo":
        from kds_device.demo import run_demo

        return run_demo(args)
    parser.error(f"unknown command {args.command}")
    return 2
