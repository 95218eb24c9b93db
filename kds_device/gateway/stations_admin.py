"""``kds-gateway stations set|show`` and ``kds-gateway devices role``: a kitchen's stations
and its screens' roles, by hand (docs/stations.md).

Both work on the gateway's database directly (no running gateway needed) and journal what
they change (``stations.rules``, ``device.role``), ringing the journal's doorbell so running
gateway processes publish it at once.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

from kds_device.domain.events import EventType
from kds_device.domain.roles import Role
from kds_device.domain.rules_check import RulesError, parse_rules
from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.devices import Device, device_from_row, role_text
from kds_device.gateway.http_util import LOCATION_ID
from kds_device.gateway.journal import Journal
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.stations import current_rules, describe, set_rules
from kds_device.gateway.stores import open_store


def _journal(config: GatewayConfig) -> Journal:
    store = open_store(config.database)
    return Journal(store, Notifier(store.bell, "journal"))


def _close(journal: Journal) -> None:
    journal.notifier.close()
    journal.db.close()


def _location(journal: Journal, location: str) -> bool:
    if not LOCATION_ID.match(location) or not journal.location_exists(location):
        print(f"kds-gateway: location {location!r} has not registered here", file=sys.stderr)
        return False
    return True


def run_stations(config: GatewayConfig, action: str, location: str, file: Path | None) -> int:
    journal = _journal(config)
    try:
        if not _location(journal, location):
            return 1
        if action == "set":
            assert file is not None
            return _set(journal, location, file)
        print("\n".join(describe(current_rules(journal, location), journal.products(location))))
        return 0
    finally:
        _close(journal)


def _set(journal: Journal, location: str, file: Path) -> int:
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as problem:
        print(f"kds-gateway: {file}: cannot read: {problem}", file=sys.stderr)
        return 2
    try:
        rules = parse_rules(raw)
    except RulesError as bad:
        print(
            f"kds-gateway: {file}: {len(bad.problems)} problem(s), nothing changed:",
            file=sys.stderr,
        )
        for listed in bad.problems:
            print(f"  - {listed}", file=sys.stderr)
        return 2
    version, seq = set_rules(journal, location, rules)
    print(f"rules version {version} set for {location} (journal seq {seq}); new orders use them")
    print("\n".join(describe(current_rules(journal, location), journal.products(location))[1:]))
    return 0


def role_from_args(all_: bool, expo: bool, stations: str | None) -> Role:
    if stations is not None:
        return Role.from_text(f"stations:{stations}")
    return Role.from_text("expo" if expo else "all")


def assign_role(journal: Journal, device_id: str, role: Role) -> tuple[Device, int] | None:
    """Give a screen a role and journal ``device.role``; None when the device is unknown."""
    now = time.time()
    with journal.db.write() as conn:
        row = conn.execute(
            "SELECT id, location_id, name, station, rotated, role FROM devices WHERE id = ?",
            (device_id,),
        ).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE devices SET role = ? WHERE id = ?", (role_text(role), device_id))
        data = {"device": device_id, "role": role.to_json()}
        seq = journal.append(conn, row["location_id"], EventType.DEVICE_ROLE, None, data, now)
    journal.notifier.notify()
    return device_from_row(row), seq


def run_role(config: GatewayConfig, device_id: str, role: Role) -> int:
    journal = _journal(config)
    try:
        done = assign_role(journal, device_id, role)
        if done is None:
            print(f"kds-gateway: no device {device_id}", file=sys.stderr)
            return 1
        device, seq = done
        print(f"{device_id} ({device.name}) is now {role.to_text()} (journal seq {seq})")
        current = current_rules(journal, device.location_id)
        known = set(current.rules.stations) if current is not None else set()
        unknown = sorted(role.stations - known)
        if unknown:
            print(
                f"warning: no station {', '.join(unknown)} in the rules of {device.location_id}"
                " (kds-gateway stations show); this screen shows nothing until there is",
                file=sys.stderr,
            )
        return 0
    finally:
        _close(journal)
