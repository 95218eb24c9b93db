"""The core's tests pass in an interpreter where importing Kivy fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.core.kivy_blocker", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=env,
    )


def test_core_tests_pass_with_kivy_blocked() -> None:
    result = _pytest(
        "tests/core/test_board_core.py",
        "tests/core/test_pace_core.py",
        "tests/core/test_speed_core.py",
        "tests/core/test_input_gate.py",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_the_blocker_really_blocks(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_kivy():\n    import kivy  # noqa: F401\n")
    result = _pytest(str(probe), "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"))
    assert result.returncode != 0
    assert "the core imported kivy" in result.stdout + result.stderr
