"""Fixtures of the gateway's own tests: every test runs on both stores (``store``: SQLite and
a real PostgreSQL), one gateway shared by a module per store, a fresh location each.

A module (``STORES = ("sqlite",)``) or a test (``@pytest.mark.stores("sqlite")``) about one
engine's own mechanics (SQLite's file, its doorbells) runs on that engine only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kds_device.gateway.config import DatabaseConfig
from kds_device.gateway.storage import Store
from kds_device.gateway.stores import open_store
from tests.fixtures.gateway import DATABASES, GatewayProcess
from tests.gateway.contract import Contract

ALL_STORES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("stores")
        stores = marker.args if marker else getattr(metafunc.module, "STORES", ALL_STORES)
        metafunc.parametrize("store", stores, indirect=True, scope="module")


@pytest.fixture(scope="module", autouse=True)
def store(request: pytest.FixtureRequest) -> Iterator[str]:
    """The store this module's gateways run on: "sqlite" or "postgresql" (a fresh database
    per gateway in the session's cluster)."""
    engine: str = request.param
    if engine == "postgresql":
        DATABASES.factory = request.getfixturevalue("postgres").create_database
    yield engine
    DATABASES.factory = None


@pytest.fixture
def database_config(store: str, tmp_path: Path) -> DatabaseConfig:
    """A fresh database of the current store (a SQLite file in ``tmp_path``, or a new
    PostgreSQL database)."""
    url = DATABASES.factory() if DATABASES.factory is not None else ""
    return DatabaseConfig(path=str(tmp_path / "g.db"), url=url)


@pytest.fixture
def open_db(database_config: DatabaseConfig) -> Iterator[Callable[[], Store]]:
    """Opens the test's database (each call a new store, like another process); all closed
    at the end."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(open_store(database_config))
        return opened[-1]

    yield make
    for found in opened:
        found.close()


@pytest.fixture(scope="module")
def shared_gateway(
    store: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """One gateway for a whole module (no outbox, no broker): starting one costs ~2 s.
    Tests keep apart by using their own location (``loc``)."""
    gateway = GatewayProcess(tmp_path_factory.mktemp("shared-gateway"))
    gateway.start()
    yield gateway
    gateway.close()


@pytest.fixture
def api(shared_gateway: GatewayProcess) -> Iterator[GatewayProcess]:
    """The shared gateway, every HTTP exchange of its session during one test checked
    against openapi.yml (and at least one was)."""
    checker = Contract(shared_gateway.base_url).attach(shared_gateway.session)
    yield shared_gateway
    shared_gateway.session.hooks["response"].remove(checker)
    assert checker.checked > 0


@pytest.fixture
def loc() -> str:
    """A location id no other test uses."""
    return uuid.uuid4().hex[:24]
