"""Turning the panel off and dimming it, with what the machine has.

Under Raspberry Pi OS Bookworm Lite the board owns the display through SDL's ``kmsdrm``
driver: no X server and no Wayland compositor, so ``xset`` and ``wlr-randr`` have nothing to
talk to, and ``vcgencmd display_power`` is gone with the firmware display driver. What
works there is a panel's backlight in sysfs (the official DSI touch displays and many
others): ``/sys/class/backlight/<name>/bl_power`` (0 on, 4 powered down) and
``brightness`` (0..``max_brightness``). An HDMI monitor has no backlight there: the app
then draws black (off) or a dark veil (dim), which saves the panel from burn-in though not
the power. ``xset`` / ``wlr-randr`` are kept for a board run under X or a compositor,
chosen explicitly (``[display] backlight``). See docs/screen-care.md.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

BACKLIGHT_ROOT = Path("/sys/class/backlight")
BL_ON, BL_POWERDOWN = "0", "4"  # FB_BLANK_UNBLANK, FB_BLANK_POWERDOWN


class DisplayPower(Protocol):
    """The panel's power and brightness. Calls come from the UI thread, only on changes."""

    name: str

    def set_on(self, on: bool) -> bool:
        """Power the panel on or off; False when that did not work (draw black instead)."""

    def set_level(self, level: float) -> bool:
        """Brightness as a share of the start brightness (1.0 = as found); False when the
        hardware cannot dim (draw a veil instead)."""


class NoPower:
    """No hardware control: the app draws black and dims in software."""

    name = "none"

    def set_on(self, on: bool) -> bool:
        return False

    def set_level(self, level: float) -> bool:
        return False


class SysfsBacklight:
    """A backlight device directory (``/sys/class/backlight/<name>``; a plain directory with
    the same files in tests). The brightness found at start is "full": dimming is a share
    of it, waking restores it."""

    def __init__(self, device: Path) -> None:
        self.device = device
        self.name = f"sysfs:{device.name}"
        self.max = int(self._read("max_brightness"))
        self.full = int(self._read("brightness")) or self.max
        self._broken = False

    def set_on(self, on: bool) -> bool:
        bl_power = self.device / "bl_power"
        if bl_power.exists():
            ok = self._write("bl_power", BL_ON if on else BL_POWERDOWN)
            return self._write("brightness", str(self.full)) if on and ok else ok
        return self._write("brightness", str(self.full if on else 0))

    def set_level(self, level: float) -> bool:
        value = max(1, min(self.max, round(self.full * max(0.0, min(1.0, level)))))
        return self._write("brightness", str(value))

    def _read(self, name: str) -> str:
        return (self.device / name).read_text(encoding="ascii").strip()

    def _write(self, name: str, value: str) -> bool:
        try:
            (self.device / name).write_text(value + "\n", encoding="ascii")
            return True
        except OSError as error:
            if not self._broken:  # once: a missing udev rule would flood the journal
                log.warning("backlight %s: cannot write %s: %s", self.device, name, error)
            self._broken = True
            return False


class CommandPower:
    """DPMS through a display server's tool: ``xset`` (X11) or ``wlr-randr`` (wlroots
    compositors such as labwc or wayfire, Bookworm's desktop). Run off the UI thread."""

    def __init__(self, tool: str, output: str = "") -> None:
        self.name = tool
        self.tool = tool
        self.output = output

    def commands(self, on: bool) -> list[str]:
        if self.tool == "xset":
            return ["xset", "dpms", "force", "on" if on else "off"]
        return ["wlr-randr", "--output", self.output, "--on" if on else "--off"]

    def set_on(self, on: bool) -> bool:
        argv = self.commands(on)
        threading.Thread(target=self._run, args=(argv,), name="display-power", daemon=True).start()
        return True

    def set_level(self, level: float) -> bool:
        return False

    @staticmethod
    def _run(argv: list[str]) -> None:
        try:
            subprocess.run(argv, check=True, timeout=10, capture_output=True)
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("display power: %s failed: %s", " ".join(argv), error)


def find_backlight(root: Path = BACKLIGHT_ROOT, name: str = "") -> SysfsBacklight | None:
    """The named backlight device under ``root``, else the first that can be read."""
    try:
        devices = sorted(p for p in root.iterdir() if (p / "brightness").exists())
    except OSError:
        return None
    for device in devices:
        if name and device.name != name:
            continue
        try:
            return SysfsBacklight(device)
        except (OSError, ValueError) as error:
            log.info("backlight %s unusable: %s", device, error)
    return None


def display_power(setting: str = "auto", root: Path = BACKLIGHT_ROOT) -> DisplayPower:
    """The backend ``[display] backlight`` asks for: "auto" (a sysfs backlight when there
    is one, else none), "none", "sysfs", "sysfs:<name>" or "sysfs:/path/to/device", "xset",
    "wlr-randr:<output>".
    Never raises: what is missing is logged and the app draws instead."""
    kind, _, arg = setting.strip().partition(":")
    kind = kind.lower()
    chosen: DisplayPower | None = None
    if kind == "sysfs" and arg.startswith("/"):  # a device directory named in full
        chosen = find_backlight(Path(arg).parent, Path(arg).name)
    elif kind in ("auto", "sysfs", ""):
        chosen = find_backlight(root, arg)
    elif kind == "xset" and shutil.which("xset") and os.environ.get("DISPLAY"):
        chosen = CommandPower("xset")
    elif kind == "wlr-randr" and shutil.which("wlr-randr") and arg:
        chosen = CommandPower("wlr-randr", arg)
    if chosen is None:
        if kind not in ("auto", "none", ""):
            log.warning("display.backlight = %r: unknown or not here; drawing instead", setting)
        chosen = NoPower()
    log.info("display power: %s", chosen.name)
    return chosen
