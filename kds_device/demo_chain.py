"""The whole system in one process on loopback, for ``kds-device demo`` and the benchmark.

A simulated Deliverect (its token and orderStatus API) and a real gateway (its Flask app, its
SQLite journal, its outbox to the simulator and its MQTT publisher) are served on free
127.0.0.1 ports; the device is enrolled against that gateway like a real screen, and a sender
thread posts signed order webhooks at the chosen rate. The board then receives orders through
the gateway (MQTT when a ``mosquitto`` binary is installed, long-poll otherwise) and its bumps
travel device outbox -> gateway -> simulator. No configuration; everything lives in one
directory (a temporary one unless the caller keeps it).
"""

from __future__ import annotations

import getpass
import logging
import random
import secrets
import shutil
import socket
import subprocess
import threading
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kds_device.adapters.enrollment import (
    Enrollment,
    EnrollmentError,
    load_enrollment,
    save_enrollment,
)
from kds_device.adapters.gateway_client import enroll
from kds_device.config import ConnectionConfig
from kds_device.device_link import DeviceLink, stored_last_seq
from kds_device.domain.roles import Role
from kds_device.domain.rules_check import parse_rules
from kds_device.domain.ticket import Request
from kds_device.gateway.app import Gateway
from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.stations import set_rules
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Message
from kds_device.sim.orders import OrderGenerator
from kds_device.sim.sender import Delivery, WebhookSender
from kds_device.sim.serving import RunningSimulator, ServerThread, start_simulator
from kds_device.sim.traffic import send_traffic

log = logging.getLogger(__name__)

LOCATION = "demo-location"
ACCOUNT = "65f0c1a2b3c4d5e6f7a8b9c0"
MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """The broker binary if one is installed (the demo then uses MQTT)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_PATHS if Path(p).exists()), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalBroker:
    """Mosquitto on a free loopback port from a config written into ``directory``."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = self.directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.directory}/\n"
            "log_dest none\n"
            # stay this user: a change of user would also drop the death signal below
            f"user {getpass.getuser()}\n"
        )
        command = [self.binary, "-c", str(config)]
        setpriv = shutil.which("setpriv")
        if setpriv:  # the broker dies with the demo, even when the demo is killed -9
            command = [setpriv, "--pdeathsig", "TERM", "--", *command]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        self._process = None


class _Stopped(Exception):
    """Ends the traffic loop from inside its sleep."""


class DemoChain:
    """Simulator, gateway, optional broker, traffic and the device's link, in one process.

    ``start(inbox, last_seq)`` returns the :class:`DeviceLink` whose ``outbox`` is the board's
    status sink; ``stop()`` takes everything down in reverse order.
    """

    def __init__(
        self,
        directory: Path,
        rate_per_min: float = 6.0,
        prefill: int = 8,
        seed: int | None = None,
        use_mqtt: bool = True,
        connection: ConnectionConfig | None = None,
        traffic: bool = True,
        rules: Path | None = None,
        role: Role | None = None,
    ) -> None:
        self.directory = directory  # the device's data dir; gateway and broker in subfolders
        self.device_dir = directory
        self.rate_per_min = rate_per_min
        self.prefill = prefill
        self.rnd = random.Random(seed)
        # The prefill orders were "placed" minutes ago, oldest first, so the demo opens on a
        # kitchen at work: some tickets late, some in caution, some fresh.
        self._prefill_ages = sorted(
            (self.rnd.uniform(20, 660) for _ in range(prefill)), reverse=True
        )
        self.generator = OrderGenerator(
            seed=seed, location=LOCATION, account=ACCOUNT, clock=self._order_clock
        )
        self.use_mqtt = use_mqtt
        self.connection = connection or ConnectionConfig()
        self.traffic = traffic
        #: Station rules for the location (the kitchen demo: the simulator's), and this
        #: process's own screen's role.
        self.rules = rules
        self.role = role
        self.hmac_secret = secrets.token_hex(16)
        self.broker: LocalBroker | None = None
        self.simulator: RunningSimulator | None = None
        self.gateway: Gateway | None = None
        self.gateway_server: ServerThread | None = None
        self.sender: WebhookSender | None = None
        self.link: DeviceLink | None = None
        self._stop = threading.Event()
        self._traffic_thread: threading.Thread | None = None
        self.posted = 0  # orders the gateway took
        self.cancelled = 0

    @property
    def gateway_url(self) -> str:
        assert self.gateway_server is not None
        return self.gateway_server.url

    def start(self, inbox: Inbox[Message], last_seq: int = 0) -> DeviceLink:
        self.device_dir.mkdir(parents=True, exist_ok=True)
        binary = find_mosquitto() if self.use_mqtt else None
        if binary:
            self.broker = LocalBroker(binary, self.directory / "broker")
            try:
                self.broker.start()
            except (OSError, RuntimeError) as error:
                log.warning("no broker (%s): the board long-polls the gateway", error)
                self.broker = None
        elif self.use_mqtt:
            log.info("mosquitto is not installed: the board long-polls the gateway")
        self.simulator = start_simulator("demo-client", secrets.token_hex(16))
        self._start_gateway()
        self.sender = WebhookSender(self.gateway_url, self.hmac_secret)
        self.sender.register(ACCOUNT, LOCATION, "demo")
        self.sender.push_products(self.generator.products())
        if self.rules is not None:
            self._set_rules(self.rules)
        enrollment = self._enrollment()
        self.link = DeviceLink(
            enrollment,
            self.device_dir,
            inbox,
            self.connection,
            last_seq,
            use_mqtt=self.broker is not None,
        )
        self.link.start()
        if self.traffic:
            self._traffic_thread = threading.Thread(
                target=self._send_traffic, name="demo-traffic", daemon=True
            )
            self._traffic_thread.start()
        return self.link

    def stop(self) -> None:
        self._stop.set()
        if self._traffic_thread is not None:
            self._traffic_thread.join(10)
        for step in (
            self.link.stop if self.link else None,
            self.sender.close if self.sender else None,
            self.gateway_server.stop if self.gateway_server else None,
            self.gateway.stop if self.gateway else None,
            self.simulator.stop if self.simulator else None,
            self.broker.stop if self.broker else None,
        ):
            if step is None:
                continue
            try:
                step()
            except Exception:
                log.exception("demo: stopping failed")

    # ---- parts --------------------------------------------------------------------------

    def _start_gateway(self) -> None:
        assert self.simulator is not None
        config = GatewayConfig()
        config.database.path = str(self.directory / "gateway" / "gateway.db")
        Path(config.database.path).parent.mkdir(parents=True, exist_ok=True)
        config.deliverect.hmac_secret = self.hmac_secret
        config.deliverect.base_url = self.simulator.base_url
        config.deliverect.client_id = self.simulator.client_id
        config.deliverect.client_secret = self.simulator.client_secret
        config.deliverect.timeout_s = 5.0
        config.outbox.backoff_base_s = 0.5
        config.outbox.backoff_max_s = 10.0
        if self.broker is not None:
            config.mqtt.enabled = True
            config.mqtt.host = "127.0.0.1"
            config.mqtt.port = self.broker.port
            config.mqtt.client_id = f"kds-gateway-demo-{secrets.token_hex(3)}"
        self.gateway = Gateway(config)
        self.gateway_server = ServerThread(self.gateway.app, name="gateway")
        config.server.public_base_url = self.gateway_server.url
        self.gateway.start()
        self.gateway_server.start()

    def _set_rules(self, path: Path) -> None:
        """The location's station rules, as ``kds-gateway stations set`` sets them."""
        assert self.gateway is not None
        rules = parse_rules(tomllib.loads(path.read_text(encoding="utf-8")))
        set_rules(self.gateway.services.journal, LOCATION, rules)

    def mint_code(self) -> str:
        """A one-time enrollment code for another screen of the demo's location."""
        assert self.gateway is not None
        return self.gateway.services.devices.mint_code(LOCATION, 600.0)

    def _enrollment(self) -> Enrollment:
        """This directory's screen: enrolled once, reused when the directory is kept."""
        assert self.gateway is not None
        try:
            kept = load_enrollment(self.device_dir)
        except EnrollmentError:
            kept = None
        if kept is not None and kept.gateway_url == self.gateway_url:
            return kept  # a kept directory gets a new identity when the gateway's port moved
        code = self.mint_code()
        role = self.role.to_json() if self.role is not None else None
        enrollment = enroll(self.gateway_url, code, "Demo screen", "Kitchen", role=role)
        save_enrollment(self.device_dir, enrollment)
        return enrollment

    def _order_clock(self) -> datetime:
        age = self._prefill_ages.pop(0) if self._prefill_ages else 0.0
        return datetime.now(UTC) - timedelta(seconds=age)

    def _send_traffic(self) -> None:
        assert self.sender is not None

        def sleep(seconds: float) -> None:
            if self._stop.wait(seconds):
                raise _Stopped

        def count(delivery: Delivery) -> None:
            if delivery.ok and delivery.kind == "order":
                self.posted += 1
            elif delivery.ok and delivery.kind == "cancel":
                self.cancelled += 1

        try:
            if self.prefill:  # uses up _prefill_ages, one per order
                send_traffic(
                    self.sender, self.generator, self.prefill, rnd=self.rnd, on_delivery=count
                )
            if self.rate_per_min > 0:
                send_traffic(
                    self.sender,
                    self.generator,
                    10**9,
                    rate_per_min=self.rate_per_min,
                    duplicates=0.05,
                    cancels=0.05,
                    rnd=self.rnd,
                    on_delivery=count,
                    sleep=sleep,
                    keep_deliveries=False,  # endless: count them, keep none
                )
        except _Stopped:
            return
        except Exception:
            log.exception("demo traffic stopped")


class ChainFeed:
    """The demo's feed and status sink in one: :class:`DemoChain` behind the interface of
    ``kds_device.demo``'s feed (``start``/``stop``) and of a status sink (``submit``)."""

    def __init__(
        self,
        directory: Path,
        inbox: Inbox[Message],
        rate_per_min: float,
        prefill: int,
        seed: int | None,
        connection: ConnectionConfig | None = None,
        rules: Path | None = None,
        role: Role | None = None,
    ) -> None:
        self.chain = DemoChain(
            directory, rate_per_min, prefill, seed, connection=connection, rules=rules, role=role
        )
        self.inbox = inbox

    def start(self) -> None:
        last_seq = stored_last_seq(self.chain.directory / "board.db")
        self.chain.start(self.inbox, last_seq)

    def stop(self) -> None:
        self.chain.stop()

    def submit(self, change: Request) -> None:
        if self.chain.link is None:
            raise RuntimeError("the demo chain is not started")
        self.chain.link.outbox.submit(change)

    @property
    def posted(self) -> int:
        return self.chain.posted

    @property
    def cancelled(self) -> int:
        return self.chain.cancelled

    @property
    def bumps(self) -> int:
        """Statuses the simulated Deliverect accepted (each bump once)."""
        simulator = self.chain.simulator
        return len(simulator.state.accepted_calls()) if simulator is not None else 0
