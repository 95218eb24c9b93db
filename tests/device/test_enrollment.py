"""The identity file: atomic, private (0600), read back exactly, bad files reported."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from kds_device.adapters.enrollment import (
    Enrollment,
    EnrollmentError,
    MqttSettings,
    enrollment_path,
    load_enrollment,
    save_enrollment,
)


def _identity(token: str = "secret-token", mqtt: bool = True) -> Enrollment:
    return Enrollment(
        gateway_url="http://127.0.0.1:8080",
        device_id="dev_1",
        token=token,
        location_id="loc-1",
        name="Grill screen",
        station="Grill",
        mqtt=MqttSettings("127.0.0.1", 1883, "dev_1", "pw", False, "kds/loc-1/events")
        if mqtt
        else None,
        enrolled_at="2026-11-22T18:00:00+00:00",
    )


def test_saved_identity_reads_back_and_is_private(tmp_path: Path) -> None:
    path = save_enrollment(tmp_path, _identity())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_enrollment(tmp_path) == _identity()
    assert [p.name for p in tmp_path.iterdir()] == ["enrollment.json"]  # no temp left


def test_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0)
    try:
        path = save_enrollment(tmp_path, _identity(mqtt=False))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_enrollment(tmp_path).mqtt is None


def test_a_world_readable_file_is_tightened_on_read(tmp_path: Path) -> None:
    path = save_enrollment(tmp_path, _identity())
    path.chmod(0o644)
    load_enrollment(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rewrites_replace_the_file_whole(tmp_path: Path) -> None:
    """Readers racing a re-enrollment see the old identity or the new one, never a torn one."""
    save_enrollment(tmp_path, _identity("old"))
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(load_enrollment(tmp_path).token)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(200):
            save_enrollment(tmp_path, _identity(f"new-{index % 2}"))
    finally:
        stop.set()
        reader.join(10)
    assert seen <= {"old", "new-0", "new-1"}
    assert load_enrollment(tmp_path).token == "new-1"


def test_missing_identity_says_how_to_enroll(tmp_path: Path) -> None:
    with pytest.raises(EnrollmentError, match="kds-device enroll"):
        load_enrollment(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        json.dumps({"gatewayUrl": "http://x", "deviceId": "d", "locationId": "l"}),
        json.dumps(
            {"gatewayUrl": "http://x", "deviceId": "d", "token": "t", "locationId": "l", "mqtt": 5}
        ),
        json.dumps(
            {
                "gatewayUrl": "http://x",
                "deviceId": "d",
                "token": "t",
                "locationId": "l",
                "mqtt": {"host": "h", "port": "1883", "topic": "t"},
            }
        ),
    ],
)
def test_a_broken_identity_is_reported_not_crashed_on(tmp_path: Path, content: str) -> None:
    enrollment_path(tmp_path).write_text(content)
    with pytest.raises(EnrollmentError, match="enroll again"):
        load_enrollment(tmp_path)


def test_describe_hides_the_secrets() -> None:
    text = json.dumps(_identity().describe())
    assert "secret-token" not in text and '"pw"' not in text
    assert "mqtt://127.0.0.1:1883" in text
