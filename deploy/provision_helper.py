"""The parts of deploy/provision.sh that are easier in Python: TOML and INI files.

Run by provision.sh with the app's venv Python when it exists (then the app's own config
loaders check what is written), else with the system Python (3.11+, for tomllib).

Commands (each prints the file to stdout; nothing here writes system files):
  device-config  the screen's config.toml, merged with the existing one; exit 10 = unchanged
  read-toml      one value of a TOML file
  kivy-config    Kivy's config.ini for a touch panel (needs Kivy)
  gateway-config the gateway's TOML (secrets from the environment)
  mosquitto-conf the broker's conf.d file (dynamic security plugin; TLS listener with --tls-dir)
  mqtt-dynsec    the dynamic security plugin's file from the gateway's TOML, keeping the screens
                 already in it; exit 10 = unchanged (the gateway's password still matches)
"""

from __future__ import annotations

import argparse
import configparser
import importlib.util
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

UNCHANGED = 10
ROTATIONS = (0, 90, 180, 270)
GATEWAY_MQTT_USER = "kds-gateway"
TLS_PORT = 8883

DEVICE_HEADER = """\
# KDS screen settings, read by kds-device at start (systemctl restart kds-device to apply).
# Written by deploy/provision.sh; run it again with --station/--rotation/--bumpbar to change
# these, or edit by hand: the script keeps what it does not manage. All keys: docs/install.md.
"""

GATEWAY_HEADER = """\
# KDS gateway settings. Holds secrets: root:kds-gateway, mode 0640. Never commit this file.
# Written once by deploy/provision.sh --with-gateway; later changes are made by hand
# (then: systemctl restart kds-gateway).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    device = commands.add_parser("device-config")
    device.add_argument("--existing", type=Path, required=True)
    device.add_argument("--station")
    device.add_argument("--rotation", type=int, choices=ROTATIONS)
    device.add_argument("--bumpbar", help='"17=bump,27=recall" or "none"')

    read = commands.add_parser("read-toml")
    read.add_argument("path", type=Path)
    read.add_argument("key", help="dotted, e.g. display.rotation")

    kivy = commands.add_parser("kivy-config")
    kivy.add_argument("--rotation", type=int, choices=ROTATIONS, default=0)
    kivy.add_argument("--existing", type=Path, help="keep this file's [input] unless --touch")
    kivy.add_argument("--touch", help="the one [input] line, e.g. hidinput,/dev/input/event0")

    gateway = commands.add_parser("gateway-config")
    gateway.add_argument("--public-url", required=True)
    gateway.add_argument("--data-dir", required=True)
    gateway.add_argument("--mqtt", choices=("0", "1"), default="0")
    gateway.add_argument("--broker-host", default="")
    gateway.add_argument("--tls-dir", default="", help="site PKI (ca.pem, server.pem/key)")

    conf = commands.add_parser("mosquitto-conf")
    conf.add_argument("--template", type=Path, required=True)
    conf.add_argument("--plugin", required=True)
    conf.add_argument("--dynsec-file", required=True)
    conf.add_argument("--tls-dir", default="", help="where kds-ca.pem, kds-server.pem/key are")

    dynsec = commands.add_parser("mqtt-dynsec")
    dynsec.add_argument("gateway_config", type=Path)
    dynsec.add_argument("--existing", type=Path, required=True)

    args = parser.parse_args(argv)
    try:
        if args.command == "device-config":
            return device_config(args)
        if args.command == "read-toml":
            value: Any = tomllib.loads(args.path.read_text(encoding="utf-8"))
            for part in args.key.split("."):
                value = value[part]
            print(value)
            return 0
        if args.command == "kivy-config":
            sys.stdout.write(kivy_config(args.rotation, touch_input(args.existing, args.touch)))
            return 0
        if args.command == "gateway-config":
            return gateway_config(args)
        if args.command == "mosquitto-conf":
            sys.stdout.write(mosquitto_conf(args))
            return 0
        return mqtt_dynsec(args.gateway_config, args.existing)
    except (ValueError, KeyError, OSError, tomllib.TOMLDecodeError) as error:
        print(f"provision: {error}", file=sys.stderr)
        return 2


# -- the screen's config.toml --------------------------------------------------------------------


def device_config(args: argparse.Namespace) -> int:
    existing: dict[str, Any] = {}
    if args.existing.exists():
        existing = tomllib.loads(args.existing.read_text(encoding="utf-8"))
    wanted = json.loads(json.dumps(existing))  # a deep copy
    display = wanted.setdefault("display", {})
    display.setdefault("station", "Kitchen")
    display.setdefault("rotation", 0)
    display.setdefault("fullscreen", True)
    if args.station is not None:
        display["station"] = args.station.strip() or "Kitchen"
    if args.rotation is not None:
        display["rotation"] = args.rotation
    if args.bumpbar is not None:
        bumpbar = wanted.setdefault("bumpbar", {})
        bumpbar["pins"] = parse_pin_map(args.bumpbar)
    wanted.setdefault("bumpbar", {}).setdefault("pins", {})
    check_device_config(wanted)
    if args.existing.exists() and wanted == existing:
        return UNCHANGED
    sys.stdout.write(DEVICE_HEADER + "\n" + dump_toml(wanted))
    return 0


def parse_pin_map(text: str) -> dict[str, str]:
    """``"17=bump, 27=recall"`` -> {"17": "bump", "27": "recall"}; "none" or "" -> {}."""
    if text.strip().lower() in ("", "none"):
        return {}
    pins: dict[str, str] = {}
    for item in text.split(","):
        pin, sep, action = item.partition("=")
        pin, action = pin.strip(), action.strip().lower().replace("-", "_")
        if not sep or not pin.isdigit() or not 0 <= int(pin) <= 27 or not action:
            raise ValueError(f"bump-bar entry {item.strip()!r}: expected BCM pin (0-27)=action")
        if str(int(pin)) in pins:
            raise ValueError(f"bump-bar pin {pin} given twice")
        pins[str(int(pin))] = action
    return pins


def check_device_config(raw: Mapping[str, Any]) -> None:
    """With the app installed, its own loader judges the file (unknown actions included)."""
    try:
        from kds_device.config import config_from_mapping
        from kds_device.domain.actions import Action
    except ImportError:  # a dry run before the venv exists
        return
    for pin, action in raw.get("bumpbar", {}).get("pins", {}).items():
        Action.parse(action)  # ValueError names the known actions
        del pin
    problems = config_from_mapping(raw).problems
    if problems:
        raise ValueError("; ".join(problems))


# -- TOML output (the subset config files use: tables, strings, numbers, booleans, lists) ------


def dump_toml(data: Mapping[str, Any]) -> str:
    out = io.StringIO()
    _dump_table(out, data, [])
    return out.getvalue()


def _dump_table(out: io.StringIO, table: Mapping[str, Any], path: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path and (scalars or not tables):
        out.write(f"[{'.'.join(_key(p) for p in path)}]\n")
    for key, value in scalars.items():
        out.write(f"{_key(key)} = {_value(value)}\n")
    if path and (scalars or not tables):
        out.write("\n")
    for key, value in tables.items():
        _dump_table(out, value, [*path, key])


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ValueError(f"cannot write {value!r} as TOML")


# -- Kivy ---------------------------------------------------------------------------------------

#: Our settings on top of Kivy's defaults. [input] is replaced as a whole: exactly one provider
#: reads the touch panel. Kivy's default adds ``mouse`` (fed by SDL, which turns every touch
#: into a mouse click too) and a probesysfs entry: together they make every tap two touches.
#: Rotation is Kivy's own ([graphics] rotation), which turns touch coordinates with the picture,
#: so the provider gets no rotation of its own (that would turn touches twice).
KIVY_OVERRIDES = {
    "kivy": {
        "log_enable": "0",  # no log files on the SD card: journald has the console log
        "exit_on_escape": "0",  # an Esc key on a bump bar must not close the board
        "pause_on_minimize": "0",
        "keyboard_mode": "system",  # no on-screen keyboard popping up
        "desktop": "0",  # touch behaviour (no hover, no mouse-only scroll bars)
    },
    "graphics": {
        "fullscreen": "auto",  # the panel's native mode
        "show_cursor": "0",
        "borderless": "1",
        "allow_screensaver": "0",  # a kitchen screen never blanks
    },
}
KIVY_INPUT = {"touchscreen": "probesysfs,provider=hidinput"}


def touch_input(existing: Path | None, touch: str | None) -> dict[str, str]:
    """The [input] section: ``--touch`` if given, else the installed file's (an installer may
    have fitted it to an odd panel), else the default."""
    if touch:
        if "mouse" in touch.split(",")[0]:
            raise ValueError("--touch: the mouse provider duplicates every touch on a panel")
        return {"touchscreen": touch.strip()}
    if existing is not None and existing.exists():
        installed = configparser.ConfigParser(interpolation=None)
        installed.optionxform = str  # type: ignore[assignment,method-assign]
        installed.read(existing, encoding="utf-8")
        if installed.has_section("input") and len(installed["input"]) > 0:
            return dict(installed["input"])
    return dict(KIVY_INPUT)


def kivy_config(rotation: int, touch: Mapping[str, str] = KIVY_INPUT) -> str:
    """Kivy's complete default config.ini for the installed Kivy, with our settings.

    Complete, because Kivy only fills in missing defaults when upgrading an older file; and
    written at Kivy's current config_version, so Kivy never rewrites it (it may not: it lives in
    /etc/kds-device/kivy, read-only to the app).
    """
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "KIVY_HOME": home,
            "KIVY_NO_ARGS": "1",
            "KIVY_NO_CONSOLELOG": "1",
            "KIVY_NO_FILELOG": "1",
        }
        subprocess.run(
            [sys.executable, "-c", "import kivy.config"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        config = configparser.ConfigParser(interpolation=None)
        config.optionxform = str  # type: ignore[assignment,method-assign]
        config.read(Path(home) / "config.ini", encoding="utf-8")
    for section, values in KIVY_OVERRIDES.items():
        for key, value in values.items():
            config.set(section, key, value)
    config.set("graphics", "rotation", str(rotation))
    config.remove_section("input")
    config.add_section("input")
    for key, value in touch.items():
        config.set("input", key, value)
    out = io.StringIO()
    out.write(
        "; Kivy settings of the KDS screen (KIVY_HOME=/etc/kds-device/kivy), written by\n"
        "; deploy/provision.sh from Kivy's defaults. Touch: docs/install.md, Troubleshooting.\n"
    )
    config.write(out)
    return out.getvalue()


# -- the gateway and its broker -----------------------------------------------------------------


def gateway_config(args: argparse.Namespace) -> int:
    deliverect = {
        "hmac_secret": os.environ["KDS_DELIVERECT_HMAC_SECRET"],
        "client_id": os.environ["KDS_DELIVERECT_CLIENT_ID"],
        "client_secret": os.environ["KDS_DELIVERECT_CLIENT_SECRET"],
    }
    if os.environ.get("KDS_DELIVERECT_BASE_URL"):
        deliverect["base_url"] = os.environ["KDS_DELIVERECT_BASE_URL"]
    data: dict[str, Any] = {
        "server": {"bind": "0.0.0.0:8080", "public_base_url": args.public_url},
        "database": {"path": f"{args.data_dir}/gateway.db"},
        "deliverect": deliverect,
        "mqtt": {"enabled": False},
    }
    tls = bool(args.tls_dir)
    if tls:  # HTTPS for the device API, with the site certificate (docs/security.md)
        data["server"]["certfile"] = f"{args.tls_dir}/server.pem"
        data["server"]["keyfile"] = f"{args.tls_dir}/server.key"
    if args.mqtt == "1":
        data["mqtt"] = {
            "enabled": True,
            "host": "127.0.0.1",  # the plain listener, open to this host only when TLS is on
            "port": 1883,
            "username": GATEWAY_MQTT_USER,
            "password": secrets.token_urlsafe(24),
            "dynsec": True,  # one broker user per screen, made at enrollment
            "device_host": args.broker_host,
            "device_port": TLS_PORT if tls else 1883,
            "device_tls": tls,
        }
        if tls:
            data["mqtt"]["device_ca_file"] = f"{args.tls_dir}/ca.pem"
    text = GATEWAY_HEADER + "\n" + dump_toml(data)
    try:
        from kds_device.gateway.config import load_gateway_config
    except ImportError:
        pass
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as probe:
            probe.write(text)
            probe.flush()
            load_gateway_config(Path(probe.name), environ={})  # ConfigError is a ValueError
    sys.stdout.write(text)
    return 0


def mosquitto_conf(args: argparse.Namespace) -> str:
    """kds.conf: plain 1883 for everyone, or, with TLS, plain 1883 for this host only (the
    gateway) and TLS on 8883 for the screens."""
    if args.tls_dir:
        listeners = (
            "# The gateway on this host connects in clear here; nothing else can reach it.\n"
            "listener 1883 127.0.0.1\n\n"
            "# Screens: TLS only, with the site certificate (screens check it with the site CA).\n"
            f"listener {TLS_PORT}\n"
            f"cafile {args.tls_dir}/kds-ca.pem\n"
            f"certfile {args.tls_dir}/kds-server.pem\n"
            f"keyfile {args.tls_dir}/kds-server.key\n"
        )
    else:
        listeners = "# Screens connect here, in clear (see --with-tls).\nlistener 1883\n"
    text = args.template.read_text(encoding="utf-8")
    return (
        text.replace("@DYNSEC_PLUGIN@", args.plugin)
        .replace("@DYNSEC_FILE@", args.dynsec_file)
        .replace("@LISTENERS@", listeners)
    )


def _gateway_login(gateway_toml: Path) -> tuple[str, str]:
    mqtt = tomllib.loads(gateway_toml.read_text(encoding="utf-8")).get("mqtt", {})
    user, password = mqtt.get("username") or GATEWAY_MQTT_USER, mqtt.get("password", "")
    if not password:
        raise ValueError(f"{gateway_toml}: [mqtt] needs a password (the gateway's broker login)")
    return user, password


def mqtt_dynsec(gateway_toml: Path, existing: Path) -> int:
    """The plugin's file: made new, or the existing one with the gateway's user re-keyed when
    its password in the gateway's TOML changed (screens and roles kept as they are)."""
    dynsec = _dynsec_file()
    user, password = _gateway_login(gateway_toml)
    if not existing.exists():
        sys.stdout.write(dynsec.initial_config_json(user, password))
        return 0
    data = json.loads(existing.read_text(encoding="utf-8"))
    wanted = dynsec.initial_config(user, password)
    clients = [c for c in data.get("clients", []) if c.get("username") == user]
    if (
        clients
        and dynsec.password_matches(clients[0], password)
        and _has_role(data, dynsec.GATEWAY_ROLE)
    ):
        return UNCHANGED
    data["clients"] = [c for c in data.get("clients", []) if c.get("username") != user]
    data["clients"].insert(0, wanted["clients"][0])
    data["roles"] = [r for r in data.get("roles", []) if r.get("rolename") != dynsec.GATEWAY_ROLE]
    data["roles"].insert(0, wanted["roles"][0])
    data.setdefault("defaultACLAccess", wanted["defaultACLAccess"])
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    return 0


def _dynsec_file() -> Any:
    """``kds_device/gateway/dynsec_file.py`` of this checkout (standard library only): the
    version being installed, whatever the venv holds yet."""
    path = Path(__file__).resolve().parent.parent / "kds_device" / "gateway" / "dynsec_file.py"
    spec = importlib.util.spec_from_file_location("kds_dynsec_file", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_role(data: Mapping[str, Any], role: str) -> bool:
    return any(r.get("rolename") == role for r in data.get("roles", []))


if __name__ == "__main__":
    sys.exit(main())
