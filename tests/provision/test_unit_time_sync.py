"""The screen's unit starts after the NTP client had its chance, and never waits for a sync
forever (issue 9, point 8). Checked on the unit file itself with systemd-analyze."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
UNIT = CHECKOUT / "systemd" / "kds-device.service"


def directives(text: str, name: str) -> list[str]:
    values: list[str] = []
    for line in text.splitlines():
        if line.startswith(f"{name}="):
            values += line.split("=", 1)[1].split()
    return values


def test_the_screen_starts_after_time_sync_without_waiting_for_it() -> None:
    text = UNIT.read_text()
    assert "time-sync.target" in directives(text, "After")
    assert "time-sync.target" in directives(text, "Wants")
    blocking = [
        value
        for name in ("Requires", "Requisite", "BindsTo")
        for value in directives(text, name)
        if "time" in value
    ]
    assert blocking == [], "a hard dependency on the clock would keep a kitchen dark"
    # time-sync.target waits for a real sync only with systemd-time-wait-sync enabled
    for script in (CHECKOUT / "deploy").rglob("*"):
        if script.is_file():
            assert "time-wait-sync" not in script.read_text(errors="replace"), script


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    # the installed program does not exist here: the rest of the unit is checked as shipped
    copy = tmp_path / "kds-device.service"
    lines = [
        "ExecStart=/bin/true" if line.startswith("ExecStart=") else line
        for line in UNIT.read_text().splitlines()
    ]
    copy.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr
