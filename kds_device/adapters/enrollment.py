"""The device identity: what ``kds-device enroll`` got from the gateway, kept in the data dir.

The file holds a bearer token (and maybe a broker password), so it is written atomically with
mode 0600 from the first byte: a temporary file opened 0600 in the same directory, fsynced,
renamed over the old one, and the directory fsynced. A crash leaves the old file or the new one,
never half of either, and never a world-readable secret.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "enrollment.json"
MODE = 0o600


class EnrollmentError(Exception):
    """The identity file is missing or cannot be read (the message says what to do)."""


@dataclass(frozen=True)
class MqttSettings:
    """Where the gateway publishes this location's events."""

    host: str
    port: int
    username: str
    password: str
    tls: bool
    topic: str
    #: PEM of the CA that signed the broker's certificate ("" = the system's CAs).
    ca_cert: str = ""

    @classmethod
    def from_json(cls, raw: object) -> MqttSettings | None:
        """Broker settings from the enroll answer; None for ``null``; ValueError for junk."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise ValueError("mqtt must be an object or null")
        host, port, topic = raw.get("host"), raw.get("port"), raw.get("topic")
        if not isinstance(host, str) or not host:
            raise ValueError("mqtt.host must be a non-empty string")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError("mqtt.port must be a port number")
        if not isinstance(topic, str) or not topic:
            raise ValueError("mqtt.topic must be a non-empty string")
        return cls(
            host=host,
            port=port,
            username=str(raw.get("username") or ""),
            password=str(raw.get("password") or ""),
            tls=bool(raw.get("tls")),
            topic=topic,
            ca_cert=str(raw.get("caCert") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "tls": self.tls,
            "topic": self.topic,
            "caCert": self.ca_cert or None,
        }


@dataclass(frozen=True)
class Enrollment:
    """Who this screen is to its gateway."""

    gateway_url: str
    device_id: str
    token: str
    location_id: str
    name: str
    station: str
    mqtt: MqttSettings | None
    enrolled_at: str = ""
    #: The CA file the gateway's HTTPS certificate is checked against ("" = the system's CAs).
    ca_file: str = ""
    #: The role the gateway gave this screen at enrollment (``Role.to_json()``; None: all).
    role: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "gatewayUrl": self.gateway_url,
            "deviceId": self.device_id,
            "token": self.token,
            "locationId": self.location_id,
            "name": self.name,
            "station": self.station,
            "mqtt": self.mqtt.to_json() if self.mqtt else None,
            "enrolledAt": self.enrolled_at,
            "caFile": self.ca_file,
            "role": dict(self.role) if self.role is not None else None,
        }

    @classmethod
    def from_json(cls, raw: object) -> Enrollment:
        """ValueError when a required field is missing or of the wrong kind."""
        if not isinstance(raw, Mapping):
            raise ValueError("enrollment is not an object")
        fields = {}
        for name in ("gatewayUrl", "deviceId", "token", "locationId"):
            value = raw.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
            fields[name] = value
        return cls(
            gateway_url=fields["gatewayUrl"],
            device_id=fields["deviceId"],
            token=fields["token"],
            location_id=fields["locationId"],
            name=str(raw.get("name") or ""),
            station=str(raw.get("station") or ""),
            mqtt=MqttSettings.from_json(raw.get("mqtt")),
            enrolled_at=str(raw.get("enrolledAt") or ""),
            ca_file=str(raw.get("caFile") or ""),
            role=raw["role"] if isinstance(raw.get("role"), Mapping) else None,
        )

    def describe(self) -> dict[str, str]:
        """Human-readable fields without secrets (for ``kds-device status``)."""
        broker = "none (HTTP long-poll only)"
        if self.mqtt:
            scheme = "mqtts" if self.mqtt.tls else "mqtt"
            broker = f"{scheme}://{self.mqtt.host}:{self.mqtt.port} topic {self.mqtt.topic}"
            if self.mqtt.tls:
                broker += " (site CA)" if self.mqtt.ca_cert else " (system CAs)"
            if self.mqtt.username:
                broker += f" as {self.mqtt.username}"
        return {
            "gateway": self.gateway_url,
            "device id": self.device_id,
            "location": self.location_id,
            "name": self.name,
            "station": self.station,
            "role": _role_text(self.role) + " (at enrollment)",
            "broker": broker,
            "gateway CA": self.ca_file or "the system's",
            "enrolled at": self.enrolled_at,
        }


def _role_text(role: Mapping[str, Any] | None) -> str:
    if role is None:
        return "all"
    kind = str(role.get("kind") or "all")
    stations = role.get("stations")
    if isinstance(stations, list) and stations:
        return f"{kind}:{','.join(str(s) for s in stations)}"
    return kind


def enrollment_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_enrollment(data_dir: Path, enrollment: Enrollment) -> Path:
    """Write the identity atomically with mode 0600; returns the file's path."""
    path = enrollment_path(data_dir)
    body = json.dumps(enrollment.to_json(), indent=2, sort_keys=True).encode() + b"\n"
    temp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, MODE)
    try:
        os.fchmod(fd, MODE)  # O_CREAT's mode is masked by umask; an old temp keeps its mode
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(data_dir)
    return path


def load_enrollment(data_dir: Path) -> Enrollment:
    """Read the identity back; EnrollmentError with a hint when there is none or it is bad."""
    path = enrollment_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EnrollmentError(
            f"not enrolled ({path} does not exist): run "
            "`kds-device enroll --gateway URL --code CODE`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EnrollmentError(f"{path}: cannot read ({error}); enroll again") from None
    try:
        enrollment = Enrollment.from_json(raw)
    except ValueError as error:
        raise EnrollmentError(f"{path}: {error}; enroll again") from None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o); tightening to 0600", path, mode)
        try:
            path.chmod(MODE)
        except OSError as error:
            log.warning("cannot chmod %s: %s", path, error)
    return enrollment


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
