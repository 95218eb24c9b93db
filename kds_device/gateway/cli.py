"""``kds-gateway``: serve the gateway under gunicorn, mint enrollment codes, prune by hand,
and read the bodies kept for the operator (refused ones, orders journaled with problems).

``serve`` runs gunicorn programmatically with threaded (gthread) workers, so a device's
long-poll holds one thread, not a whole process. Each worker builds its own gateway after the
fork; a stop signal (SIGTERM, SIGINT, SIGQUIT) to a worker first makes its held long-polls
answer, then lets gunicorn's own handler shut it down.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from kds_device import __version__
from kds_device.gateway.config import ConfigError, GatewayConfig, load_gateway_config
from kds_device.logsetup import configure_logging

log = logging.getLogger("kds_device.gateway")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kds-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kds-gateway {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("KDS_GATEWAY_CONFIG"),
        help="TOML config file (default: $KDS_GATEWAY_CONFIG)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--bind", help="host:port (overrides server.bind)")
    serve.add_argument("--workers", type=int, help="processes (overrides server.workers)")
    serve.add_argument("--threads", type=int, help="threads per process (server.threads)")
    code = commands.add_parser("enroll-code", help="mint a one-time enrollment code")
    code.add_argument("--location", required=True, help="Deliverect location id")
    code.add_argument("--ttl-min", type=float, help="minutes the code stays valid")
    commands.add_parser("prune", help="delete finished orders and old records now")
    for name, what in (
        ("rejected", "webhook bodies refused (4xx) after their signature checked out"),
        ("flagged", "orders journaled with problems (shown flagged on the tickets)"),
    ):
        kept = commands.add_parser(name, help=f"list {what}, newest first")
        kept.add_argument("--limit", type=int, default=20, help="how many to list")
        kept.add_argument("--show", type=int, metavar="ID", help="print one raw body as sent")
    devices = commands.add_parser("devices", help="list, rotate or revoke enrolled screens")
    device_commands = devices.add_subparsers(dest="action", required=True)
    device_commands.add_parser("list", help="every enrolled screen")
    for action, text in (
        ("revoke", "cut a screen off now (HTTP and broker); it must be enrolled again"),
        ("rotate", "retire a screen's token and broker password; it fetches new ones"),
    ):
        device_commands.add_parser(action, help=text).add_argument("device_id")
    role = device_commands.add_parser("role", help="make a screen all, expo or stations")
    role.add_argument("device_id")
    which = role.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every item, bump sends 70")
    which.add_argument("--expo", action="store_true", help="whole orders with parts' progress")
    which.add_argument("--stations", metavar="A,B", help="only these stations' items")
    stations = commands.add_parser("stations", help="a location's routing rules")
    station_commands = stations.add_subparsers(dest="action", required=True)
    set_rules = station_commands.add_parser("set", help="check a rules file and make it current")
    set_rules.add_argument("--location", required=True, help="Deliverect location id")
    set_rules.add_argument("file", type=Path, help="rules TOML (docs/stations.md)")
    show = station_commands.add_parser(
        "show", help="the current rules and the synced products no rule routes"
    )
    show.add_argument("--location", required=True, help="Deliverect location id")

    admin = commands.add_parser("admin", help="the operator's admin page (/admin)")
    admin_commands = admin.add_subparsers(dest="action", required=True)
    admin_commands.add_parser(
        "hash-password",
        help="read a password on stdin, print its hash for [admin] password_hash",
    )

    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if args.command == "admin":  # needs no config: the hash goes into it
        return _hash_password()
    try:
        config = load_gateway_config(args.config)
    except ConfigError as problem:
        print(f"kds-gateway: bad configuration: {problem}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(config, args)
    if args.command == "enroll-code":
        return _enroll_code(config, args.location, args.ttl_min)
    if args.command == "devices" and args.action == "role":
        from kds_device.gateway.stations_admin import role_from_args, run_role

        try:
            chosen = role_from_args(args.all, args.expo, args.stations)
        except ValueError as problem:
            print(f"kds-gateway: {problem}", file=sys.stderr)
            return 2
        return run_role(config, args.device_id, chosen)
    if args.command == "stations":
        from kds_device.gateway.stations_admin import run_stations

        return run_stations(config, args.action, args.location, getattr(args, "file", None))
    if args.command == "devices":
        from kds_device.gateway.device_admin import run_devices

        return run_devices(config, args.action, getattr(args, "device_id", ""))
    if args.command == "prune":
        from kds_device.gateway.pruner import prune
        from kds_device.gateway.stores import open_store

        store = open_store(config.database)
        print(prune(store, config.database))
        store.close()
        return 0
    if args.command in ("rejected", "flagged"):
        return _kept(config, args.command, args.limit, args.show)
    parser.error(f"unknown command {args.command}")
    return 2


def _hash_password() -> int:
    """The first line of stdin (asked for on a terminal), hashed with werkzeug's default."""
    import getpass

    from werkzeug.security import generate_password_hash

    if sys.stdin.isatty():
        password = getpass.getpass("admin password: ")
        if getpass.getpass("again: ") != password:
            print("kds-gateway: the two passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 10:
        print("kds-gateway: use a password of at least 10 characters", file=sys.stderr)
        return 2
    print(generate_password_hash(password))
    return 0


def _enroll_code(config: GatewayConfig, location: str, ttl_min: float | None) -> int:
    from kds_device.gateway.devices import Devices
    from kds_device.gateway.http_util import LOCATION_ID
    from kds_device.gateway.journal import Journal
    from kds_device.gateway.stores import open_store

    if not LOCATION_ID.match(location):
        print(f"kds-gateway: {location!r} is not a location id", file=sys.stderr)
        return 2
    db = open_store(config.database)
    if not Journal(db).location_exists(location):
        print(
            f"warning: location {location} has not registered with this gateway yet",
            file=sys.stderr,
        )
    minutes = ttl_min if ttl_min is not None else config.enrollment.code_ttl_min
    print(Devices(db).mint_code(location, minutes * 60))
    db.close()
    return 0


def _kept(config: GatewayConfig, table: str, limit: int, show: int | None) -> int:
    """List the rejected or flagged log, or write one raw body to stdout."""
    import json
    import time

    from kds_device.gateway.journal import Journal
    from kds_device.gateway.stores import open_store

    db = open_store(config.database)
    try:
        journal = Journal(db)
        if show is not None:
            body = journal.kept_body(table, show)
            if body is None:
                print(f"kds-gateway: no {table} body {show}", file=sys.stderr)
                return 1
            sys.stdout.buffer.write(body + b"\n")
            return 0
        rows = journal.rejected(limit) if table == "rejected" else journal.flagged(limit)
        for row in rows:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["created"]))
            if table == "rejected":
                what = f"{row['endpoint']}  {row['reason']}"
            else:
                what = f"order {row['order_id']} at {row['location_id']}  " + json.dumps(
                    row["problems"], ensure_ascii=False
                )
            print(f"{row['id']:>6}  {when}  {what}")
        if table == "flagged":
            print(f"{journal.flagged_count()} flagged order(s) kept; --show ID for a raw body")
        return 0
    finally:
        db.close()


def _serve(config: GatewayConfig, args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from kds_device.gateway import server_errors

    if args.bind:
        config.server.bind = args.bind
    if args.workers:
        config.server.workers = args.workers
    if args.threads:
        config.server.threads = args.threads

    class GatewayServer(BaseApplication):
        """gunicorn with our settings; each worker builds its own :class:`Gateway`."""

        def load_config(self) -> None:
            server = config.server
            settings: dict[str, Any] = {
                "bind": [server.bind],
                "workers": server.workers,
                "worker_class": "gthread",
                "threads": server.threads,
                "timeout": 60,
                "graceful_timeout": 20,
                "keepalive": 30,
                "accesslog": "-" if server.access_log else None,
                "errorlog": "-",
                "loglevel": "debug" if args.verbose else "info",
                "proc_name": "kds-gateway",
                "post_worker_init": _post_worker_init,
                "worker_exit": _worker_exit,
                # gunicorn >= 25 opens a control socket in $HOME by default; one per host
                # would collide when several gateways (or tests) run side by side.
                "control_socket_disable": True,
            }
            if server.certfile:  # HTTPS straight from gunicorn
                settings.update(certfile=server.certfile, keyfile=server.keyfile)
            for key, value in settings.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from kds_device.gateway.app import create_app

            return create_app(config)

    server_errors.install()
    GatewayServer().run()
    return 0


def _gateway_of(worker: Any) -> Any:
    app = getattr(worker, "wsgi", None)
    return getattr(app, "extensions", {}).get("gateway") if app is not None else None


#: The signals gunicorn's master sends a worker to stop it (TERM: graceful; INT, QUIT: fast).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def _post_worker_init(worker: Any) -> None:
    """gunicorn hook: chain a handler before the worker's own for each stop signal.

    gunicorn's graceful stop waits up to ``graceful_timeout`` for in-flight requests, and a
    held long-poll is one for up to ``long_poll_max_s``. Marking the gateway as stopping
    first makes those answer at once (200 with what they have), so the worker exits in
    moments; the background threads are still stopped by ``worker_exit``.
    """
    gateway = _gateway_of(worker)
    if gateway is None:
        return
    for signum in STOP_SIGNALS:
        signal.signal(signum, _chained(gateway, signal.getsignal(signum)))
    # As gunicorn set it: SIGTERM must not interrupt system calls of requests in flight.
    signal.siginterrupt(signal.SIGTERM, False)


def _chained(gateway: Any, original: Any) -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        gateway.stopping()
        if callable(original):
            original(signum, frame)

    return handler


def _worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: stop this worker's background threads, newest first."""
    gateway = _gateway_of(worker)
    if gateway is not None:
        gateway.stop()
