"""``kds-device report --csv`` prints what the gateway's CSV download says, for the same orders
(real gateway, orders through the signed webhook, statuses and parts posted as screens do)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.common import free_port
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.speed_orders import serve_a_kitchen

pytestmark = pytest.mark.timeout(90)

KDS_DEVICE = Path(sys.executable).with_name("kds-device")


def _run(data_dir: Path, *args: str, tz: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KDS_DEVICE_DATA_DIR=str(data_dir))
    env["KDS_DEVICE_CONFIG"] = str(data_dir / "no-config.toml")
    env.pop("TZ", None)
    if tz:
        env["TZ"] = tz
    return subprocess.run(
        [str(KDS_DEVICE), *args], env=env, capture_output=True, text=True, timeout=30
    )


def gateway_csv(gateway: GatewayProcess, token: str, **params: str) -> str:
    answer = gateway.session.get(
        f"{gateway.base_url}/api/v1/report",
        params={**params, "format": "csv"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_cli_csv_equals_the_gateways_csv(
    make_gateway: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    gateway = make_gateway()
    kitchen = serve_a_kitchen(gateway, "loc-speed", tmp_path)
    # This screen's own enrollment (another screen of the same location made the orders).
    code = gateway.enroll_code("loc-speed")
    screen = tmp_path / "screen"
    enrolled = _run(screen, "enroll", "--gateway", gateway.base_url, "--code", code)
    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr

    for by in ("hour", "channel", "station"):
        printed = _run(screen, "report", "--csv", "--by", by, tz="Asia/Kolkata")
        assert printed.returncode == 0, printed.stderr
        expected = gateway_csv(gateway, kitchen.device.token, by=by, tz="Asia/Kolkata")
        assert printed.stdout == expected
        assert expected.splitlines()[-1].startswith("total,total,3,")

    # --gateway/--token and --since: the same as the download for the same arguments
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    printed = _run(
        screen,
        "report",
        "--csv",
        "--gateway",
        gateway.base_url,
        "--token",
        kitchen.device.token,
        "--since",
        yesterday,
        "--tz",
        "UTC",
    )
    assert printed.returncode == 0, printed.stderr
    midnight = datetime.fromisoformat(yesterday).replace(tzinfo=UTC).timestamp()
    assert printed.stdout == gateway_csv(
        gateway, kitchen.device.token, since=str(int(midnight)), tz="UTC"
    )
    assert printed.stdout.splitlines()[-1].startswith("total,total,3,")

    table = _run(screen, "report", "--by", "channel", tz="UTC")
    assert table.returncode == 0, table.stderr
    assert "iFood" in table.stdout and "33%" in table.stdout  # 1 of 3 late


def test_cli_report_says_what_went_wrong(
    make_gateway: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    unenrolled = _run(tmp_path, "report", "--csv")
    assert unenrolled.returncode == 2 and "enroll" in unenrolled.stderr
    gateway = make_gateway()
    refused = _run(
        tmp_path, "report", "--gateway", gateway.base_url, "--token", "wrong", "--tz", "UTC"
    )
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr
    unreachable = _run(
        tmp_path, "report", "--gateway", f"http://127.0.0.1:{free_port()}", "--token", "t"
    )
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
