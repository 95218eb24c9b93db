"""Fixtures of the gateway's own tests: one gateway shared by a module, a fresh location each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.fixtures.gateway import GatewayProcess


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """One gateway for a whole module (no outbox, no broker): starting one costs ~2 s.
    Tests keep apart by using their own location (``loc``)."""
    gateway = GatewayProcess(tmp_path_factory.mktemp("shared-gateway"))
    gateway.start()
    yield gateway
    gateway.close()


@pytest.fixture
def loc() -> str:
    """A location id no other test uses."""
    return uuid.uuid4().hex[:24]
