"""``kds-device report``: the gateway's speed-of-service figures for this screen's location
(``GET /api/v1/report``, with the screen's enrollment or ``--gateway URL --token T``), as a
table or, with ``--csv``, the CSV the gateway's ``format=csv`` answers (written here by the
same function from the same rows)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kds_device.domain.speed import GROUPINGS, SpeedRow, row_from_json, speed_csv


def add_report_command(commands: Any) -> None:
    report = commands.add_parser("report", help="speed of service: tickets, median, p90, late")
    report.add_argument("--csv", action="store_true", help="CSV, as the gateway's download")
    report.add_argument("--since", default="today", help="today (default), a date or ISO time")
    report.add_argument("--by", default="hour", choices=GROUPINGS, help="rows per (hour)")
    report.add_argument("--tz", default=None, help="IANA zone (default: this machine's)")
    report.add_argument("--gateway", default=None, help="the gateway's URL (with --token)")
    report.add_argument("--token", default=None, help="a device token (with --gateway)")


def local_zone_name() -> str | None:
    """This machine's IANA zone: $TZ, /etc/timezone, or where /etc/localtime points."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name and "/" in name and not name.startswith("/"):
        return name
    try:
        text = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    if text:
        return text
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return None
    _, found, rest = target.partition("/zoneinfo/")
    return rest if found and rest else None


def since_param(text: str, zone: str | None) -> str:
    """What ``--since`` says, as the API takes it: ``today`` or epoch seconds (a date is its
    midnight in ``zone``, else in this machine's zone; an ISO time without an offset is
    UTC). ValueError when it is none of those."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from kds_device.domain.timestamps import parse_timestamp

    text = text.strip()
    if text in ("", "today") or (text.isascii() and text.isdigit()):
        return text or "today"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = parse_timestamp(text)
        except ValueError:
            moment = None
        if moment is None:
            raise ValueError("--since must be today, a date (2026-11-30) or an ISO time") from None
        return str(int(moment.timestamp()))
    midnight = datetime(day.year, day.month, day.day)
    try:
        local = midnight.replace(tzinfo=ZoneInfo(zone)) if zone else midnight
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"--tz: no time zone {zone!r} here") from None
    return str(int(local.timestamp()))


def run_report(args: argparse.Namespace) -> int:
    """0 printed; 1 the gateway refused (bad argument, token); 2 unreachable or no identity."""
    from kds_device.adapters.enrollment import EnrollmentError, load_enrollment
    from kds_device.adapters.gateway_client import (
        GatewayClient,
        GatewayRefused,
        GatewayUnreachable,
    )
    from kds_device.paths import data_dir

    if bool(args.gateway) != bool(args.token):
        print("--gateway and --token go together", file=sys.stderr)
        return 2
    if args.gateway:
        client = GatewayClient(args.gateway, args.token)
    else:
        try:
            client = GatewayClient.for_enrollment(load_enrollment(data_dir()))
        except EnrollmentError as error:
            print(f"{error}; or give --gateway URL --token T", file=sys.stderr)
            return 2
    zone = args.tz or local_zone_name()
    try:
        since = since_param(args.since, zone)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    params = {"since": since, "by": args.by}
    if zone:
        params["tz"] = zone
    try:
        body = client.request_json("GET", "/api/v1/report", params=params)
        rows = [row_from_json(r) for r in body.get("rows", []) if isinstance(r, Mapping)]
        total = row_from_json(body["total"])
    except GatewayRefused as error:
        print(
            f"report refused: {error.detail or error.error} (HTTP {error.status})", file=sys.stderr
        )
        return 1
    except GatewayUnreachable as error:
        print(f"cannot reach the gateway: {error.detail}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as error:
        print(f"the gateway's answer is not a report: {error}", file=sys.stderr)
        return 2
    finally:
        client.close()
    if args.csv:
        sys.stdout.write(speed_csv(args.by, rows, total))
    else:
        print(f"since {body.get('since')} ({body.get('tz')}), by {args.by}")
        print(table(args.by, rows, total))
    return 0


def table(by: str, rows: list[SpeedRow], total: SpeedRow) -> str:
    lines = [f"{by:<14} {'tickets':>7} {'median':>8} {'p90':>8} {'late':>6}"]
    for row in [*rows, total]:
        lines.append(
            f"{row.key[:14]:<14} {row.tickets:>7} {_clock(row.median_s):>8}"
            f" {_clock(row.p90_s):>8} {row.late_share:>6.0%}"
        )
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
