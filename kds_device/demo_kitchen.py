"""``kds-device demo --kitchen``: the demo as a kitchen of three windows on one in-process
gateway: a grill station, a fryer station and expo. The location gets the simulator's
station rules (``kds_device/sim/stations.toml``), so each order splits: the grill and the
fryer see only their items, expo sees each part's progress, ALL READY, and sends the order.

Kivy has one window per process: this process runs the chain (simulated Deliverect, gateway,
traffic) and the expo window; each station window is a child process (``kds-device
kitchen-screen``) enrolled at the same gateway with its role, that ends with this one.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import kds_device.sim
from kds_device.config import parse_size
from kds_device.domain.roles import Role, RoleKind

log = logging.getLogger(__name__)

SIM_RULES = Path(kds_device.sim.__file__).with_name("stations.toml")
#: The station windows: (role, title, where it opens in window sizes: column, row).
STATIONS = (("stations:grill", "Grill", (0, 0)), ("stations:fryer", "Fryer", (1, 0)))
EXPO_AT = (0.5, 1)
EXPO = Role(RoleKind.EXPO)
KITCHEN_SIZE = (960, 540)  # each window: three fit on a 1920x1080 desktop


def run_kitchen(args: argparse.Namespace) -> int:
    """Expo here, the stations in child processes, all on one gateway."""
    from kds_device.demo_chain import ChainFeed
    from kds_device.runtime.inbox import Inbox
    from kds_device.runtime.messages import Message
    from kds_device.ui.window_config import configure_window

    size = parse_size(args.size) or KITCHEN_SIZE
    if args.size == "1280x800":  # the one-screen demo's default: three of them would overlap
        size = KITCHEN_SIZE
    configure_window(size, False, mouse=True)
    _place(size, EXPO_AT)
    from kds_device.board_setup import build_board_app
    from kds_device.demo import demo_config

    config = demo_config()
    config.board.role = EXPO
    root = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="kds-kitchen-"))
    inbox: Inbox[Message] = Inbox()
    feed = ChainFeed(
        root / "expo", inbox, args.rate, args.prefill, args.seed, rules=SIM_RULES, role=EXPO
    )
    feed.start()
    children: list[subprocess.Popen[bytes]] = []
    try:
        link = feed.chain.link
        assert link is not None
        config.board.device_id = link.enrollment.device_id
        for role, title, at in STATIONS:
            children.append(_station(feed, role, title, at, size, root / title.lower()))
        app = build_board_app(config, inbox, feed, data_dir=root / "expo", now=link.clock.now)
        app.title = "Kitchen display - Expo"
        app.clock_note = link.clock.note
        if args.screenshot:  # expo's window, then the demo ends (and its stations with it)
            from kivy.clock import Clock
            from kivy.core.window import Window

            from kds_device.demo import _schedule_screenshot

            _schedule_screenshot(app, Path(args.screenshot), args.screenshot_after, Clock, Window)
        app.run()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        feed.stop()
    return 0


def _station(
    feed: Any, role: str, title: str, at: tuple[float, float], size: tuple[int, int], data: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "kds_device", "kitchen-screen",
        "--gateway", feed.chain.gateway_url, "--code", feed.chain.mint_code(),
        "--role", role, "--title", title, "--data-dir", str(data),
        "--size", f"{size[0]}x{size[1]}", "--at", f"{at[0]},{at[1]}",
    ]  # fmt: skip
    setpriv = shutil.which("setpriv")
    if setpriv:  # the station windows close with the demo, even when it is killed -9
        command = [setpriv, "--pdeathsig", "TERM", "--", *command]
    return subprocess.Popen(command)


def _place(size: tuple[int, int], at: tuple[float, float]) -> None:
    """Open the window at (column, row) in window sizes, so the three do not overlap."""
    from kivy.config import Config

    Config.set("graphics", "position", "custom")
    Config.set("graphics", "left", str(int(at[0] * size[0])))
    Config.set("graphics", "top", str(int(at[1] * (size[1] + 40))))


def run_kitchen_screen(args: argparse.Namespace) -> int:
    """One station window of the demo kitchen: enrolled with its role, then a board."""
    from kds_device.adapters.gateway_client import enroll
    from kds_device.appliance import apply_enrollment_role
    from kds_device.device_link import DeviceLink
    from kds_device.runtime.inbox import Inbox
    from kds_device.runtime.messages import Message
    from kds_device.ui.window_config import configure_window

    size = parse_size(args.size) or (960, 540)
    column, _, row = args.at.partition(",")
    configure_window(size, False, mouse=True)
    _place(size, (float(column or 0), float(row or 0)))
    from kds_device.board_setup import build_board_app
    from kds_device.demo import demo_config

    role = Role.from_text(args.role)
    config = demo_config()
    data = Path(args.data_dir)
    shutil.rmtree(data, ignore_errors=True)  # a new identity each run: no old board
    data.mkdir(parents=True)
    enrollment = enroll(args.gateway, args.code, args.title, args.title, role=role.to_json())
    apply_enrollment_role(config, enrollment)
    inbox: Inbox[Message] = Inbox()
    link = DeviceLink(enrollment, data, inbox, config.connection, last_seq=0)
    link.start()
    try:
        app = build_board_app(config, inbox, link.outbox, data_dir=data, now=link.clock.now)
        app.title = f"Kitchen display - {args.title}"
        app.clock_note = link.clock.note
        app.run()
    finally:
        link.stop()
    return 0


def add_kitchen_screen_command(commands: Any) -> None:
    screen = commands.add_parser(
        "kitchen-screen", help="one station window of `demo --kitchen` (started by it)"
    )
    screen.add_argument("--gateway", required=True)
    screen.add_argument("--code", required=True)
    screen.add_argument("--role", required=True, help="stations:grill")
    screen.add_argument("--title", default="Station")
    screen.add_argument("--data-dir", required=True)
    screen.add_argument("--size", default="960x540")
    screen.add_argument("--at", default="0,0", help="column,row in window sizes")
