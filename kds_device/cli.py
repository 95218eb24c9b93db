"""``kds-device``: the appliance's command line. Each command imports what it needs lazily,
so ``kds-device status`` works on a box whose display is broken."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kds_device import __version__
from kds_device.logsetup import configure_logging


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
    demo.add_argument(
        "--kitchen",
        action="store_true",
        help="a kitchen of three windows on one gateway: grill and fryer stations, and expo",
    )
    demo.add_argument(
        "--offline-demo",
        action="store_true",
        help="no gateway: orders go straight into the board (the standalone feed)",
    )

    run = commands.add_parser("run", help="the appliance: the board fed by the gateway")
    run.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    enroll = commands.add_parser("enroll", help="trade a one-time code for this screen's identity")
    enroll.add_argument("--gateway", required=True, help="the gateway's URL")
    enroll.add_argument("--code", required=True, help="from `kds-gateway enroll-code`")
    enroll.add_argument("--name", default=None, help="this screen's name (default: host name)")
    enroll.add_argument("--station", default=None, help="station (default: display.station)")
    enroll.add_argument(
        "--ca-file", default=None, help="the site CA (PEM) for an https:// gateway with its own"
    )
    commands.add_parser("status", help="paths, config, enrollment, last sync, outbox")
    from kds_device.report_command import add_report_command

    add_report_command(commands)
    from kds_device.demo_kitchen import add_kitchen_screen_command

    add_kitchen_screen_command(commands)

    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if args.command == "demo" and args.kitchen:
        from kds_device.demo_kitchen import run_kitchen

        return run_kitchen(args)
    if args.command == "demo":
        from kds_device.demo import run_demo

        return run_demo(args)
    if args.command == "kitchen-screen":
        from kds_device.demo_kitchen import run_kitchen_screen

        return run_kitchen_screen(args)
    if args.command == "run":
        from kds_device.appliance import run_appliance

        return run_appliance(args)
    if args.command == "enroll":
        from kds_device.device_commands import run_enroll

        return run_enroll(args)
    if args.command == "status":
        from kds_device.device_commands import run_status

        return run_status(args)
    if args.command == "report":
        from kds_device.report_command import run_report

        return run_report(args)
    parser.error(f"unknown command {args.command}")
    return 2
