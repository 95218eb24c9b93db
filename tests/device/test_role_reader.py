"""The screen asks the real gateway what it is for at start (``GET /api/v1/device``), and the
role given at enrollment is kept in its identity file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kds_device.adapters.enrollment import load_enrollment, save_enrollment
from kds_device.adapters.gateway_client import GatewayClient, enroll
from kds_device.adapters.role_reader import RoleReader
from kds_device.domain.roles import Role, RoleKind
from kds_device.runtime.messages import RoleChanged
from tests.fixtures.device import InboxRecorder
from tests.fixtures.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(60)

LOCATION = "loc-roles"


def test_the_role_from_enrollment_and_then_from_the_gateway(
    gateway: GatewayProcess, recorder: InboxRecorder, device_dir: Path
) -> None:
    gateway.register(LOCATION)
    grill = Role.for_stations(["grill"])
    identity = enroll(
        gateway.base_url, gateway.enroll_code(LOCATION), "G", "Grill", role=grill.to_json()
    )
    assert Role.from_json(identity.role) == grill
    save_enrollment(device_dir, identity)
    assert Role.from_json(load_enrollment(device_dir).role) == grill

    done = gateway.cli("devices", "role", identity.device_id, "--expo")
    assert done.returncode == 0, done.stderr
    reader = RoleReader(GatewayClient.for_enrollment(identity), recorder.inbox)
    reader.start()
    try:
        changed = recorder.wait_for(
            lambda r: [m for m in r.messages if isinstance(m, RoleChanged)], what="the role"
        )
    finally:
        reader.stop()
    assert changed == [RoleChanged(Role(RoleKind.EXPO))]
