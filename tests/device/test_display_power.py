"""The display power adapter against a fake sysfs backlight: real files in tmp_path, laid
out as /sys/class/backlight/<name>/ is."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kds_device.adapters.display_power import (
    CommandPower,
    NoPower,
    SysfsBacklight,
    display_power,
    find_backlight,
)


def backlight(root: Path, name: str = "10-0045", bl_power: bool = True) -> Path:
    """A device directory as the kernel's backlight class shows it."""
    device = root / name
    device.mkdir(parents=True)
    (device / "max_brightness").write_text("255\n")
    (device / "brightness").write_text("200\n")
    (device / "actual_brightness").write_text("200\n")
    if bl_power:
        (device / "bl_power").write_text("0\n")
    return device


def read(device: Path, name: str) -> str:
    return (device / name).read_text().strip()


def test_off_powers_the_backlight_down_and_on_restores_the_brightness(tmp_path: Path) -> None:
    device = backlight(tmp_path)
    power = display_power("auto", root=tmp_path)
    assert isinstance(power, SysfsBacklight) and power.name == "sysfs:10-0045"
    assert power.set_on(False)
    assert read(device, "bl_power") == "4"
    assert power.set_on(True)
    assert (read(device, "bl_power"), read(device, "brightness")) == ("0", "200")


def test_dimming_is_a_share_of_the_brightness_found_and_never_zero(tmp_path: Path) -> None:
    device = backlight(tmp_path)
    power = SysfsBacklight(device)
    assert power.set_level(0.3)
    assert read(device, "brightness") == "60"
    assert power.set_level(0.0)
    assert read(device, "brightness") == "1"  # dim, never dark: the board stays readable
    assert power.set_level(1.0)
    assert read(device, "brightness") == "200"  # as found, not max


def test_without_bl_power_off_is_brightness_zero(tmp_path: Path) -> None:
    device = backlight(tmp_path, "rpi_backlight", bl_power=False)
    power = display_power("sysfs:rpi_backlight", root=tmp_path)
    assert power.set_on(False) and read(device, "brightness") == "0"
    assert power.set_on(True) and read(device, "brightness") == "200"


def test_a_device_named_by_its_path(tmp_path: Path) -> None:
    device = backlight(tmp_path / "elsewhere", "panel")
    power = display_power(f"sysfs:{device}")
    assert isinstance(power, SysfsBacklight) and power.device == device


def test_a_backlight_that_cannot_be_written_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    device = backlight(tmp_path)
    (device / "bl_power").unlink()
    (device / "bl_power").mkdir()  # writing it fails for root too (no udev rule: EACCES)
    power = SysfsBacklight(device)
    with caplog.at_level(logging.WARNING):
        assert not power.set_on(False)
        assert not power.set_on(False)
    assert caplog.text.count("cannot write bl_power") == 1
    assert read(device, "brightness") == "200"


def test_no_backlight_means_drawing_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(display_power("auto", root=tmp_path), NoPower)
    assert isinstance(display_power("auto", root=tmp_path / "missing"), NoPower)
    assert isinstance(display_power("none", root=tmp_path), NoPower)
    with caplog.at_level(logging.WARNING):
        assert isinstance(display_power("sysfs:nope", root=tmp_path), NoPower)
        assert isinstance(display_power("vcgencmd", root=tmp_path), NoPower)
    assert "vcgencmd" in caplog.text and "sysfs:nope" in caplog.text
    none = NoPower()
    assert not none.set_on(False) and not none.set_level(0.5)


def test_an_unreadable_device_is_skipped_for_the_next(tmp_path: Path) -> None:
    broken = backlight(tmp_path, "a-broken")
    (broken / "max_brightness").write_text("lots\n")
    backlight(tmp_path, "b-good")
    found = find_backlight(tmp_path)
    assert found is not None and found.device.name == "b-good"


def test_dpms_commands_for_x_and_wlroots() -> None:
    assert CommandPower("xset").commands(False) == ["xset", "dpms", "force", "off"]
    assert CommandPower("wlr-randr", "HDMI-A-1").commands(True) == [
        "wlr-randr",
        "--output",
        "HDMI-A-1",
        "--on",
    ]
