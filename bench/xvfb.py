"""Shared by the benchmarks that draw: re-run the script under ``xvfb-run`` when there is no
display (``KDS_BENCH_NO_XVFB`` marks the re-run, so it happens once), and open the board's
window as the app does."""

from __future__ import annotations

import os
import shutil
import sys


def reexec_under_xvfb(screen: str) -> None:
    """``screen`` is Xvfb's ``WxHxDEPTH``; returns only when a display is there."""
    if os.environ.get("DISPLAY") or os.environ.get("KDS_BENCH_NO_XVFB"):
        return
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        sys.exit("no DISPLAY and no xvfb-run: install xvfb")
    os.environ["KDS_BENCH_NO_XVFB"] = "1"
    os.execv(xvfb, [xvfb, "-a", "-s", f"-screen 0 {screen}", sys.executable, *sys.argv])


def open_board_window(size: str) -> tuple[int, int]:
    """``size`` is ``WxH``: under Xvfb if need be, Kivy quiet and silent, the window set up
    as the app sets it (before Kivy's window is imported). Returns ``(width, height)``."""
    width, height = (int(v) for v in size.split("x"))
    reexec_under_xvfb(f"{width}x{height}x24")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kds_device.ui.window_config import configure_window

    configure_window((width, height), False, mouse=False)
    return width, height
