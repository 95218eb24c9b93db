"""Where kds-device keeps its files: platformdirs by default, overridable by environment
variables (tests, systemd's StateDirectory)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "kds-device"


def data_dir() -> Path:
    """SQLite databases and the enrollment live here.

    ``KDS_DEVICE_DATA_DIR`` wins, then systemd's ``STATE_DIRECTORY``, then the user data dir.
    """
    chosen = os.environ.get("KDS_DEVICE_DATA_DIR") or _first(os.environ.get("STATE_DIRECTORY"))
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_file() -> Path:
    """``KDS_DEVICE_CONFIG``, else ``/etc/kds-device/config.toml`` if it exists, else the
    user config dir's ``config.toml`` (which need not exist)."""
    chosen = os.environ.get("KDS_DEVICE_CONFIG")
    if chosen:
        return Path(chosen)
    system = Path("/etc/kds-device/config.toml")
    if system.exists():
        return system
    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml"


def _first(value: str | None) -> str | None:
    # systemd joins several StateDirectory= entries with ":"
    return value.split(":")[0] if value else None
