"""Per-screen broker accounts, kept by Mosquitto's dynamic security plugin ("dynsec").

Each enrolled screen gets its own broker user (its device id) with a password of its own, bound
to its one client id (``kds-device-<deviceId>``), in the role of its location: that role may
subscribe to and receive ``kds/<locationId>/events`` and nothing else; no screen may publish.
Only the gateway's own user publishes (``kds/#``), and it also administers dynsec.

The gateway drives dynsec over MQTT (``$CONTROL/dynamic-security/v1``): the broker applies a
change at once, and deleting a user disconnects its client; no file to rewrite, no SIGHUP, so it
works when the broker runs on another host. Each call opens a short connection: enrollment,
rotation and revocation are rare.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kds_device.gateway.config import MqttConfig
from kds_device.gateway.dynsec_file import (
    CONTROL_TOPIC,
    RESPONSE_TOPIC,
    screen_client_id,
    screen_role,
    screen_role_acls,
)


class BrokerError(Exception):
    """The broker could not be reached or refused a dynsec command (the message says which)."""


def new_password() -> str:
    return secrets.token_urlsafe(24)


class BrokerAccounts:
    """Adds, re-keys and removes screens' broker users through dynsec."""

    def __init__(self, config: MqttConfig, timeout_s: float = 5.0) -> None:
        self.config = config
        self.timeout_s = timeout_s

    def add_screen(self, device_id: str, location_id: str, password: str) -> None:
        """Create (or re-key) the screen's user, bound to its client id, in its location's
        role (created on first use)."""
        role = screen_role(location_id)
        answers = self._run(
            [
                {"command": "createRole", "rolename": role, "acls": screen_role_acls(location_id)},
                {
                    "command": "createClient",
                    "username": device_id,
                    "password": password,
                    "clientid": screen_client_id(device_id),
                    "textname": f"KDS screen at {location_id}",
                    "roles": [{"rolename": role}],
                },
            ]
        )
        role_error, client_error = (a.get("error") for a in answers)
        if role_error and "already exists" not in str(role_error):
            raise BrokerError(f"createRole {role}: {role_error}")
        if client_error:
            if "already exists" not in str(client_error):
                raise BrokerError(f"createClient {device_id}: {client_error}")
            self.set_password(device_id, password)

    def set_password(self, device_id: str, password: str) -> None:
        (answer,) = self._run(
            [{"command": "setClientPassword", "username": device_id, "password": password}]
        )
        if answer.get("error"):
            raise BrokerError(f"setClientPassword {device_id}: {answer['error']}")

    def remove_screen(self, device_id: str) -> bool:
        """Delete the user; the broker disconnects its client at once. False if there was none."""
        (answer,) = self._run([{"command": "deleteClient", "username": device_id}])
        error = answer.get("error")
        if error and "not found" not in str(error).lower():
            raise BrokerError(f"deleteClient {device_id}: {error}")
        return not error

    def screen_users(self) -> list[str]:
        """Every broker user that is not the gateway's (for ``devices list``)."""
        (answer,) = self._run([{"command": "listClients", "verbose": False}])
        if answer.get("error"):
            raise BrokerError(f"listClients: {answer['error']}")
        clients = answer.get("data", {}).get("clients", [])
        return [str(c) for c in clients if c != self.config.username]

    # ---- one request/response exchange ---------------------------------------------------

    def _run(self, commands: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Send ``commands`` in one message; their answers, in the same order."""
        done = threading.Event()
        failure: list[str] = []
        tag = uuid.uuid4().hex
        tagged = [{**c, "correlationData": f"{tag}-{i}"} for i, c in enumerate(commands)]
        mine: dict[str, Mapping[str, Any]] = {}
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"{self.config.client_id}-admin-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if self.config.username:
            client.username_pw_set(self.config.username, self.config.password or None)
        if self.config.tls:
            client.tls_set(ca_certs=self.config.ca_file or None)

        def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            if reason.is_failure:
                failure.append(f"broker refused the gateway's login: {reason}")
                done.set()
                return
            c.subscribe(RESPONSE_TOPIC, qos=1)

        def on_subscribe(c: Any, userdata: Any, mid: Any, reasons: Any, props: Any) -> None:
            if any(r.is_failure for r in reasons):
                failure.append("the gateway's broker user may not administer dynsec")
                done.set()
                return
            c.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=1)

        def on_message(c: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                body = json.loads(message.payload)
            except ValueError:
                return
            found = body.get("responses") if isinstance(body, Mapping) else None
            # Every admin connection hears every answer: keep only those to our commands.
            for answer in found if isinstance(found, list) else []:
                said = str(answer.get("correlationData", "")) if isinstance(answer, Mapping) else ""
                if said.startswith(tag):
                    mine[said] = answer
            if len(mine) == len(tagged):
                done.set()

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        try:
            client.connect(self.config.host, self.config.port, keepalive=30)
        except (OSError, ssl.SSLError) as problem:
            raise BrokerError(
                f"broker {self.config.host}:{self.config.port} unreachable: {problem}"
            ) from None
        client.loop_start()
        try:
            if not done.wait(self.timeout_s):
                raise BrokerError(f"no dynsec answer from the broker within {self.timeout_s} s")
        finally:
            client.disconnect()
            client.loop_stop()
        if failure:
            raise BrokerError(failure[0])
        return [mine[str(command["correlationData"])] for command in tagged]
