"""``kds-device enroll`` / ``status`` / ``run`` as an installer types them (real processes)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.common import free_port
from tests.fixtures.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(60)

KDS_DEVICE = Path(sys.executable).with_name("kds-device")


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KDS_DEVICE_DATA_DIR=str(data_dir))
    env["KDS_DEVICE_CONFIG"] = str(data_dir / "no-config.toml")
    return subprocess.run(
        [str(KDS_DEVICE), *args], env=env, capture_output=True, text=True, timeout=30
    )


def test_enroll_then_status(gateway: GatewayProcess, tmp_path: Path) -> None:
    gateway.register("loc-cli")
    code = gateway.enroll_code("loc-cli")
    enrolled = _run(
        tmp_path, "enroll", "--gateway", gateway.base_url, "--code", code, "--station", "Grill"
    )
    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
    identity = tmp_path / "enrollment.json"
    assert stat.S_IMODE(identity.stat().st_mode) == 0o600
    token = json.loads(identity.read_text())["token"]

    status = _run(tmp_path, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    out = status.stdout
    assert "location:      loc-cli" in out and "station:       Grill" in out
    assert "none (HTTP long-poll only)" in out
    assert "waiting:       0 bump(s)" in out and "last event seq: none" in out
    assert token not in out + status.stderr
    assert not (tmp_path / "board.db").exists()  # status only reads

    again = _run(tmp_path, "enroll", "--gateway", gateway.base_url, "--code", code)
    assert again.returncode == 1 and "refused" in again.stdout


def test_enroll_against_nothing_says_unreachable(tmp_path: Path) -> None:
    result = _run(tmp_path, "enroll", "--gateway", f"http://127.0.0.1:{free_port()}", "--code", "X")
    assert result.returncode == 2 and "cannot reach" in result.stdout
    assert not (tmp_path / "enrollment.json").exists()


def test_status_and_run_before_enrollment(tmp_path: Path) -> None:
    status = _run(tmp_path, "status")
    assert status.returncode == 1 and "not enrolled" in status.stdout
    assert "\nclock:" in status.stdout and "synchronis" in status.stdout  # or "unknown (no ..."
    run = _run(tmp_path, "run")
    assert run.returncode == 2 and "kds-device enroll" in run.stderr
