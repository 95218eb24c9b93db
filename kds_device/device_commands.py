"""``kds-device enroll`` and ``kds-device status``: what an installer types.

Neither imports Kivy, so both work on a box whose display is broken. ``status`` only reads:
it never creates a database or an identity that is not there.
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from kds_device import __version__
from kds_device.adapters.clock_sync import timesync_synchronized
from kds_device.adapters.device_outbox import outbox_path
from kds_device.adapters.enrollment import (
    EnrollmentError,
    enrollment_path,
    load_enrollment,
    save_enrollment,
)
from kds_device.adapters.gateway_client import GatewayRefused, GatewayUnreachable, enroll
from kds_device.config import load_config
from kds_device.paths import config_file, data_dir

BOARD_FILE = "board.db"  # named by the app (kds_device.ui.app)


def board_path(directory: Path) -> Path:
    return directory / BOARD_FILE


CA_FILE_NAME = "gateway-ca.pem"


def run_enroll(args: argparse.Namespace) -> int:
    """0 enrolled; 1 the gateway refused the code; 2 the gateway could not be reached."""
    config = load_config(config_file())
    name = args.name or socket.gethostname()
    station = args.station or config.display.station
    ca_file = ""
    if args.ca_file:
        # Kept beside the identity: the screen must not depend on where the installer put it.
        try:
            pem = Path(args.ca_file).read_bytes()
        except OSError as error:
            print(f"cannot read the CA file: {error}")
            return 2
        target = data_dir() / CA_FILE_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pem)
        ca_file = str(target)
    try:
        identity = enroll(args.gateway, args.code, name, station, ca_file=ca_file)
    except GatewayRefused as error:
        print(f"enrollment refused: {error.detail or error.error} (HTTP {error.status})")
        return 1
    except GatewayUnreachable as error:
        print(f"cannot reach the gateway at {args.gateway}: {error.detail}")
        return 2
    path = save_enrollment(data_dir(), identity)
    print(f"enrolled as {identity.device_id} at location {identity.location_id}")
    print(f"identity saved to {path} (mode 0600)")
    if identity.mqtt is None:
        print("no broker configured: the board will long-poll the gateway")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print everything an installer checks; 0 when enrolled, 1 when not."""
    directory = data_dir()
    config_path = config_file()
    config = load_config(config_path)
    lines = [f"kds-device {__version__}", f"data dir:        {directory}"]
    synced = timesync_synchronized()
    clock = {
        True: "synchronised (systemd)",
        False: "NOT synchronised: promised times on the board may be off (docs/install.md)",
        None: "unknown (no systemd time synchronisation here)",
    }[synced]
    lines.append(f"clock:           {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {clock}")
    found = "found" if config_path.exists() else "not found: defaults"
    lines.append(f"config:          {config_path} ({found})")
    lines += [f"  problem:       {problem}" for problem in config.problems]
    lines.append(f"  station:       {config.display.station}")
    conn = config.connection
    lines.append(
        f"  offline:       banner after {conn.offline_banner_s:g} s, "
        f"alarm after {conn.offline_alarm_s:g} s; long-poll {conn.poll_wait_s:g} s"
    )
    enrolled = True
    lines.append(f"enrollment:      {enrollment_path(directory)}")
    try:
        identity = load_enrollment(directory)
    except EnrollmentError as error:
        enrolled = False
        lines.append(f"  {error}")
    else:
        lines += [f"  {key + ':':<14} {value}" for key, value in identity.describe().items()]

    board = board_path(directory)
    last_seq = _read_one(board, "SELECT value FROM meta WHERE key = 'last_seq'")
    open_count = _read_one(board, "SELECT COUNT(*) FROM tickets WHERE bumped = 0 AND voided = 0")
    lines.append(f"board:           {board}{'' if board.exists() else ' (not created yet)'}")
    lines.append(f"  last event seq: {last_seq if last_seq is not None else 'none'}")
    lines.append(f"  open tickets:  {open_count if open_count is not None else 0}")
    role = _read_one(board, "SELECT value FROM meta WHERE key = 'role'")
    lines.append(f"  role:          {role or 'all'}")

    outbox = outbox_path(directory)
    pending = _read_one(outbox, "SELECT COUNT(*) FROM outbox")
    contact = _read_one(outbox, "SELECT value FROM meta WHERE key = 'last_contact'")
    lines.append(f"outbox:          {outbox}{'' if outbox.exists() else ' (not created yet)'}")
    lines.append(f"  waiting:       {pending or 0} bump(s) not yet acknowledged by the gateway")
    lines.append(f"  last contact:  {contact or 'never'}")
    for row in _read_rows(
        outbox, "SELECT order_id, status, error, at FROM rejected ORDER BY id DESC LIMIT 5"
    ):
        what = f"status {row[1]}" if row[1] else "request"  # a part or item: 0, said in the error
        lines.append(f"  refused:       {row[3]} order {row[0]} {what}: {row[2]}")
    print("\n".join(lines))
    return 0 if enrolled else 1


def _read_rows(path: Path, query: str) -> list[tuple[object, ...]]:
    """Rows from a database that may not exist, opened read-only (status never creates)."""
    if not path.exists():
        return []
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return [tuple(row) for row in db.execute(query).fetchall()]
    except sqlite3.Error:
        return []


def _read_one(path: Path, query: str) -> object | None:
    rows = _read_rows(path, query)
    return rows[0][0] if rows else None
