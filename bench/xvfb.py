"""Shared by the benchmarks that draw: re-run the script under ``xvfb-run`` when there is no
display (``KDS_BENCH_NO_XVFB`` marks the re-run, so it happens once)."""

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
