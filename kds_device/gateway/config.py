"""The gateway's configuration: a TOML file, then ``KDS_GATEWAY_<SECTION>_<KEY>`` overrides.

Unlike the device (which must show a board whatever happens), a server should refuse to start
on a bad config: every problem is collected and raised together as :class:`ConfigError`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kds_device.domain.status import KDS_SENDABLE
from kds_device.domain.status_policy import StatusPolicy

ENV_PREFIX = "KDS_GATEWAY_"


class ConfigError(ValueError):
    """The config cannot be used; the message lists every problem found."""


@dataclass
class ServerConfig:
    bind: str = "127.0.0.1:8080"
    workers: int = 2  # gunicorn processes (one per core); background work is shared via leases
    threads: int = 32  # gthread threads per worker: long-polls each hold one
    public_base_url: str = "http://127.0.0.1:8080"  # what /deliverect/register hands out
    max_body_bytes: int = 1_048_576
    long_poll_max_s: float = 30.0
    access_log: bool = False  # journald gets plenty from the app's own log lines
    # HTTPS for the device API (and webhooks): PEM certificate chain and key; "" = plain HTTP
    # (then a reverse proxy in front should terminate TLS: docs/security.md).
    certfile: str = ""
    keyfile: str = ""


#: ``database.recheck_s`` by store when not set (see :class:`DatabaseConfig`).
RECHECK_SQLITE_S = 0.25
RECHECK_POSTGRESQL_S = 5.0


@dataclass
class DatabaseConfig:
    path: str = "/var/lib/kds-gateway/gateway.db"
    prune_after_h: float = 48.0  # finished (voided or >= 90) orders are kept this long
    keep_max_h: float = 168.0  # any order, finished or not, is kept at most this long
    prune_every_s: float = 600.0
    # How soon a long-poll notices another process's writes if its wake-up was lost; 0 = by
    # store: SQLite RECHECK_SQLITE_S, PostgreSQL RECHECK_POSTGRESQL_S (NOTIFY wakes a long-poll
    # of the location written; a re-read of every long-poll four times a second would cost
    # thousands of queries a second with a chain's screens).
    recheck_s: float = 0.0
    busy_timeout_s: float = 10.0  # a write waits this long for another's lock, then 503
    # A chain: "postgresql://user:pass@host/db" puts the gateway on PostgreSQL (several gateway
    # hosts on one database); empty = the SQLite file at ``path`` (one site).
    url: str = ""
    pool_size: int = 16  # PostgreSQL connections per gateway process, at most

    @property
    def recheck_interval_s(self) -> float:
        """``recheck_s``, or the store's default when it is 0."""
        if self.recheck_s > 0:
            return self.recheck_s
        return RECHECK_POSTGRESQL_S if self.url else RECHECK_SQLITE_S


@dataclass
class DeliverectConfig:
    hmac_secret: str = ""
    accept_location_key: bool = False  # staging (protocol notes U6): locationId as HMAC key
    base_url: str = "https://api.staging.deliverect.com"
    client_id: str = ""
    client_secret: str = ""
    audience: str = "https://api.deliverect.com"
    timeout_s: float = 10.0


@dataclass
class OutboxConfig:
    enabled: bool = True
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    give_up_after_h: float = 24.0
    lease_s: float = 30.0  # a claim older than this (a dead process) is taken over
    poll_s: float = 1.0  # how often rows written by other processes are looked for


@dataclass
class MqttConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""  # PEM of the CA that signed the broker's certificate ("" = system CAs)
    client_id: str = "kds-gateway"
    # Per-screen broker users through Mosquitto's dynamic security plugin (docs/security.md):
    # the gateway's user above must hold dynsec's admin rights; device_username/password unused.
    dynsec: bool = False
    # What enrolled devices are told; empty/0 = the same as the gateway's own settings.
    device_host: str = ""
    device_port: int = 0
    device_username: str = ""
    device_password: str = ""
    device_tls: bool = False
    device_ca_file: str = ""  # a site CA (PEM) handed to screens at enrollment to check the broker


@dataclass
class EnrollmentConfig:
    code_ttl_min: float = 60.0
    # Wrong codes allowed per client address and per code before 429 (Retry-After), then a
    # wait of backoff_s doubling with each further failure up to backoff_max_s.
    free_attempts: int = 5
    backoff_s: float = 30.0
    backoff_max_s: float = 900.0


@dataclass
class DevicesConfig:
    #: A screen silent this long (no heartbeat, no other call) is shown OFFLINE.
    offline_after_s: float = 60.0


@dataclass
class StationsConfig:
    """The statuses Deliverect hears from a kitchen of stations (docs/stations.md); 0 = none.

    The first start, item or part done at any station sends ``first_part_status``; every
    routed station's part done sends ``all_parts_status``; the expo screen's bump sends
    ``expo_status`` itself."""

    first_part_status: int = 50
    all_parts_status: int = 60
    expo_status: int = 70

    @property
    def policy(self) -> StatusPolicy:
        return StatusPolicy(self.first_part_status, self.all_parts_status, self.expo_status)


@dataclass
class AdminConfig:
    """The operator's admin page under ``/admin`` (docs/admin.md)."""

    # werkzeug.security hash of the operator's password (``kds-gateway admin hash-password``);
    # "" = the admin page is disabled (404 with the reason).
    password_hash: str = ""
    # Signs the session cookie; "" = one generated once and kept in the database, so every
    # worker and host agrees.
    secret_key: str = ""
    session_hours: float = 12.0  # a login lasts this long


@dataclass
class GatewayConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    deliverect: DeliverectConfig = field(default_factory=DeliverectConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    enrollment: EnrollmentConfig = field(default_factory=EnrollmentConfig)
    stations: StationsConfig = field(default_factory=StationsConfig)
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    source: Path | None = None

    @property
    def public_base_url(self) -> str:
        return self.server.public_base_url.rstrip("/")


SECTIONS = (
    "server",
    "database",
    "deliverect",
    "outbox",
    "mqtt",
    "enrollment",
    "stations",
    "devices",
    "admin",
)


def load_gateway_config(
    path: Path | None, environ: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Read ``path`` (None = defaults), apply environment overrides, validate."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    problems: list[str] = []
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: cannot read: {error}") from None
    config = GatewayConfig(source=path)
    for name in raw:
        if name not in SECTIONS:
            problems.append(f"unknown section [{name}]")
    for name in SECTIONS:
        section = raw.get(name, {})
        if not isinstance(section, Mapping):
            problems.append(f"[{name}] must be a table")
            continue
        _fill(getattr(config, name), name, section, environ, problems)
    problems.extend(_validate(config))
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def _fill(
    target: Any,
    section: str,
    values: Mapping[str, Any],
    environ: Mapping[str, str],
    problems: list[str],
) -> None:
    known = {f.name: f for f in dataclasses.fields(target)}
    for key in values:
        if key not in known:
            problems.append(f"unknown key {section}.{key}")
    for name, spec in known.items():
        kind = type(getattr(target, name))
        env_key = f"{ENV_PREFIX}{section}_{name}".upper()
        if env_key in environ:
            value: Any = _from_env(environ[env_key], kind, env_key, problems)
        elif name in values:
            value = values[name]
        else:
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is None or not isinstance(value, kind) or (kind is int and value is True):
            if value is not None:
                problems.append(f"{section}.{name} must be {kind.__name__}, not {value!r}")
            continue
        setattr(target, spec.name, value)


def _from_env(text: str, kind: type, key: str, problems: list[str]) -> Any:
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(text)
            return lowered in ("1", "true", "yes", "on")
        return kind(text)
    except ValueError:
        problems.append(f"{key} must be {kind.__name__}, not {text!r}")
        return None


def _validate(config: GatewayConfig) -> list[str]:
    problems = []
    if not config.deliverect.hmac_secret:
        problems.append("deliverect.hmac_secret is required (Deliverect's partner HMAC secret)")
    if not config.server.public_base_url.startswith(("http://", "https://")):
        problems.append("server.public_base_url must be an absolute http(s) URL")
    if config.server.workers < 1 or config.server.threads < 1:
        problems.append("server.workers and server.threads must be at least 1")
    if config.server.max_body_bytes < 1024:
        problems.append("server.max_body_bytes must be at least 1024")
    if config.outbox.enabled and not (
        config.deliverect.client_id and config.deliverect.client_secret
    ):
        problems.append(
            "deliverect.client_id and client_secret are required while outbox.enabled is true"
        )
    if config.database.url and not config.database.url.startswith(("postgresql://", "postgres://")):
        problems.append("database.url must be a postgresql:// URL (or empty for SQLite)")
    if config.database.pool_size < 2:
        problems.append("database.pool_size must be at least 2")
    if bool(config.server.certfile) != bool(config.server.keyfile):
        problems.append("server.certfile and server.keyfile go together")
    if config.mqtt.dynsec and not (config.mqtt.username and config.mqtt.password):
        problems.append("mqtt.dynsec needs mqtt.username and mqtt.password (the broker admin)")
    if config.enrollment.free_attempts < 1:
        problems.append("enrollment.free_attempts must be at least 1")
    if config.outbox.lease_s <= config.deliverect.timeout_s:
        problems.append("outbox.lease_s must be longer than deliverect.timeout_s")
    if not config.devices.offline_after_s > 0:
        problems.append("devices.offline_after_s must be more than 0")
    problems.extend(_stations_problems(config.stations))
    problems.extend(_admin_problems(config.admin))
    return problems


def _admin_problems(admin: AdminConfig) -> list[str]:
    problems = []
    if admin.password_hash and not admin.password_hash.startswith(("scrypt:", "pbkdf2:")):
        problems.append("admin.password_hash must be a hash from `kds-gateway admin hash-password`")
    if admin.secret_key and len(admin.secret_key) < 32:
        problems.append("admin.secret_key must be at least 32 characters")
    if admin.session_hours <= 0:
        problems.append("admin.session_hours must be positive")
    return problems


def _stations_problems(stations: StationsConfig) -> list[str]:
    problems = []
    named = (
        ("first_part_status", stations.first_part_status),
        ("all_parts_status", stations.all_parts_status),
        ("expo_status", stations.expo_status),
    )
    for name, value in named:
        if value and value not in KDS_SENDABLE:
            problems.append(f"stations.{name} must be 0 (none) or one of {sorted(KDS_SENDABLE)}")
    chosen = [value for _, value in named if value]
    if chosen != sorted(chosen):
        problems.append("stations: the statuses must not fall: first part <= all parts <= expo")
    return problems
