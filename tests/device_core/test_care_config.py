"""The screen-care keys of ``[display]``: read in minutes, bounded, bad ones reported."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kds_device.config import load_config
from kds_device.domain.screen_care import CareSettings


def test_care_settings_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        """
[display]
dim_after_min = 5
dim_level = 0.5
shift_px = 2
shift_every_min = 1.5
off_after_min = 3
clean_lock_s = 45
clean_press_s = 3
backlight = "sysfs:10-0045"

[display.hours]
default = "11:00-22:00"
sun = "closed"
"""
    )
    config = load_config(path)
    care = config.display.care
    assert config.problems == []
    assert (care.dim_after_s, care.dim_level, care.shift_px, care.shift_every_s) == (
        300.0,
        0.5,
        2,
        90.0,
    )
    assert (care.off_after_s, care.lock_s, care.lock_press_s) == (180.0, 45.0, 3.0)
    assert config.display.backlight == "sysfs:10-0045"
    assert care.hours is not None
    assert care.hours.is_open(datetime(2026, 12, 5, 21, 0))  # Saturday
    assert not care.hours.is_open(datetime(2026, 12, 6, 12, 0))  # Sunday


def test_bad_care_settings_are_reported_and_defaulted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        """
[display]
shift_px = 40
dim_level = "bright"
clean_lock_s = 0
hours = "all day"
"""
    )
    config = load_config(path)
    care, defaults = config.display.care, CareSettings()
    assert (care.shift_px, care.dim_level, care.lock_s) == (
        defaults.shift_px,
        defaults.dim_level,
        defaults.lock_s,
    )
    assert care.hours is None  # unreadable hours: never off
    text = " ".join(config.problems)
    for key in ("shift_px", "dim_level", "clean_lock_s", "display.hours"):
        assert key in text, key
    assert config.display.backlight == "auto"
