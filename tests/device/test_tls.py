"""TLS on the kitchen LAN with a site CA made by deploy/site-pki.sh: the gateway serves HTTPS,
Mosquitto's screen listener is TLS only, and a screen that enrolled with the CA checks both."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kds_device.adapters.gateway_client import GatewayUnreachable, enroll
from kds_device.config import ConnectionConfig
from kds_device.device_link import DeviceLink
from kds_device.runtime.messages import Link
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.device import InboxRecorder
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import Mosquitto

pytestmark = [pytest.mark.timeout(120), pytest.mark.mqtt]

CHECKOUT = Path(__file__).resolve().parents[2]
LOCATION = "loc-tls"


def make_pki(directory: Path, *names: str) -> Path:
    subprocess.run(
        ["bash", str(CHECKOUT / "deploy" / "site-pki.sh"), str(directory), *names],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return directory


@pytest.fixture
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"), "127.0.0.1", "localhost")


@pytest.fixture
def tls_broker(tmp_path_factory: pytest.TempPathFactory, pki: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-tls"), dynsec=True, tls_dir=pki)
    broker.start()
    yield broker
    broker.close()


@pytest.fixture
def site(
    make_gateway: Callable[..., GatewayProcess], tls_broker: Mosquitto, pki: Path
) -> GatewayProcess:
    gateway = make_gateway(mqtt=tls_broker, tls_dir=pki)
    gateway.register(LOCATION)
    return gateway


def test_a_screen_enrolled_with_the_site_ca_runs_on_tls_end_to_end(
    site: GatewayProcess, device_dir: Path, recorder: InboxRecorder, pki: Path
) -> None:
    assert site.base_url.startswith("https://")
    identity = enroll(site.base_url, site.enroll_code(LOCATION), "Screen", "Kitchen",
                      ca_file=str(pki / "ca.pem"))  # fmt: skip
    assert identity.mqtt is not None and identity.mqtt.tls
    assert identity.mqtt.ca_cert == (pki / "ca.pem").read_text()
    link = DeviceLink(identity, device_dir, recorder.inbox, ConnectionConfig(poll_wait_s=5), 0)
    link.start()
    try:
        recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, what="live over MQTT on TLS")
        payload = OrderGenerator(seed=50).order()
        site.send_order(LOCATION, payload)
        recorder.wait_for(
            lambda r: payload["orderId"] in {e.order_id for e in r.events("mqtt")},
            what="the order over MQTT (TLS)",
        )
    finally:
        link.stop()


def test_without_the_site_ca_neither_the_gateway_nor_the_broker_is_trusted(
    site: GatewayProcess, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    code = site.enroll_code(LOCATION)
    with pytest.raises(GatewayUnreachable, match="certificate is not trusted"):
        enroll(site.base_url, code, "Screen", "Kitchen")  # the system CAs do not know it
    # Another site's CA does not do either.
    stranger = make_pki(tmp_path / "other", "127.0.0.1")
    with pytest.raises(GatewayUnreachable, match="certificate is not trusted"):
        enroll(site.base_url, code, "Screen", "Kitchen", ca_file=str(stranger / "ca.pem"))
    assert tls_broker.tls_port is not None
    for context in (
        ssl.create_default_context(cafile=str(stranger / "ca.pem")),
        ssl.create_default_context(),  # the system's CAs
    ):
        with (
            socket.create_connection((tls_broker.host, tls_broker.tls_port), timeout=10) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            context.wrap_socket(raw, server_hostname=tls_broker.host).close()
    with socket.create_connection((tls_broker.host, tls_broker.tls_port), timeout=10) as raw:
        context = ssl.create_default_context(cafile=str(site.ca_file))
        context.wrap_socket(raw, server_hostname=tls_broker.host).close()  # the right one
    # The code was not spent by any of this.
    assert enroll(site.base_url, code, "S", "K", ca_file=site.ca_file or "").location_id == LOCATION
