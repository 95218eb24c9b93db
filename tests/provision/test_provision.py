"""deploy/provision.sh, run for real on this machine (root, Debian 12) against a real gateway.

It changes the machine: user kds (and kds-gateway), /opt/kds-device, /etc/kds-device,
/var/lib/kds-device, /etc/kds-gateway, Mosquitto's conf.d, units in /etc/systemd/system. That
is what CI machines are for; elsewhere the tests skip unless run as root. Under CI=true they
never skip. The script runs from a snapshot of the checkout, so edits made to the tree while
the test runs do not count as changes.
"""

from __future__ import annotations

import configparser
import grp
import json
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from tests.fixtures.common import free_port
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import MOSQUITTO, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CHECKOUT = Path(__file__).resolve().parents[2]
VENV = Path("/opt/kds-device")
ETC = Path("/etc/kds-device")
DATA = Path("/var/lib/kds-device")
UNITS = Path("/etc/systemd/system")
GATEWAY_ETC = Path("/etc/kds-gateway")
LOCATION = "loc-provisioned"
DEVICE_GROUPS = ("video", "render", "input", "gpio", "audio")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module", autouse=True)
def provisioning_allowed() -> None:
    problems = []
    if os.geteuid() != 0:
        problems.append("needs root (it creates users and writes /etc, /opt, /var/lib)")
    if shutil.which("systemd-analyze") is None:
        problems.append("needs systemd-analyze (apt package systemd)")
    if problems:
        if IN_CI:
            pytest.fail("provisioning test cannot run in CI: " + "; ".join(problems))
        pytest.skip("; ".join(problems))


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The parts of the checkout the script uses, frozen for this module."""
    root = tmp_path_factory.mktemp("checkout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("deploy", "systemd", "kds_device"):
        shutil.copytree(CHECKOUT / name, root / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (CHECKOUT / name).exists():
            shutil.copy2(CHECKOUT / name, root / name)
    return root


@pytest.fixture(scope="module", autouse=True)
def machine_config_restored() -> Iterator[None]:
    """/etc/kds-device/config.toml is read by any kds-device started on this machine without
    KDS_DEVICE_CONFIG (other tests' demos included): put back what was there before."""
    path = ETC / "config.toml"
    before = path.read_bytes() if path.exists() else None
    yield
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(before)
    for backup in ETC.glob("config.toml.*.bak"):
        backup.unlink()


def provision(snapshot: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the script non-interactively; its output (asserting it succeeded)."""
    result = subprocess.run(
        ["bash", str(snapshot / "deploy" / "provision.sh"), "--non-interactive", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=840,
        env={**os.environ, **(env or {})},
    )
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    return output


def as_user(
    user: str, *command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assignments = [f"{key}={value}" for key, value in (env or {}).items()]
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", *assignments, *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


def mode_and_owner(path: Path) -> tuple[int, str, str]:
    info = path.stat()
    return (
        stat.S_IMODE(info.st_mode),
        pwd.getpwuid(info.st_uid).pw_name,
        grp.getgrgid(info.st_gid).gr_name,
    )


def fingerprint(paths: list[Path]) -> dict[str, tuple[Any, ...]]:
    """Content, mode, owner and mtime of each file: what 'changes nothing' must keep."""
    result: dict[str, tuple[Any, ...]] = {}
    for path in paths:
        info = path.stat()
        owner = (info.st_mode, info.st_uid, info.st_gid)
        result[str(path)] = (path.read_bytes(), *owner, info.st_mtime_ns)
    return result


def verify_units(*names: str) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(UNITS / name) for name in names)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if any(name in line for name in names)
    ]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def unit_environment(unit: Path) -> dict[str, str]:
    """The Environment= assignments of a unit file."""
    env: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for assignment in shlex.split(line.removeprefix("Environment=")):
                key, _, value = assignment.partition("=")
                env[key] = value
    return env


def assert_service_reaches_ready(unit: Path) -> None:
    assert os.environ.get("DISPLAY"), "pytest-xvfb should have provided a display"
    notify_name = f"kds-provision-notify-{os.urandom(6).hex()}"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind("\0" + notify_name)
    env = {
        "PATH": "/usr/bin:/bin",
        **unit_environment(unit),
        "SDL_VIDEODRIVER": "x11",
        "SDL_AUDIODRIVER": "dummy",
        "DISPLAY": os.environ["DISPLAY"],
        "NOTIFY_SOCKET": "@" + notify_name,
        "WATCHDOG_USEC": "4000000",
    }
    user = pwd.getpwnam("kds")
    app = subprocess.Popen(
        [str(VENV / "bin" / "kds-device"), "run"],
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=os.getgrouplist("kds", user.pw_gid),
        cwd=DATA,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    messages: list[str] = []
    try:
        receiver.settimeout(90)
        while messages.count("WATCHDOG=1") < 2:
            try:
                messages.append(receiver.recv(4096).decode())
            except TimeoutError:
                break
    finally:
        app.kill()
        output = app.communicate(timeout=20)[0].decode(errors="replace")
        receiver.close()
    assert "READY=1" in messages and messages.count("WATCHDOG=1") >= 2, (
        f"{messages}\n{output[-4000:]}"
    )


def assert_no_change(output: str) -> None:
    assert "Nothing changed: this machine already matches." in output
    assert "   changed  " not in output


# -----------------------------------------------------------------------------------------------


def test_fresh_screen_is_installed_enrolled_and_a_second_run_changes_nothing(
    snapshot: Path, gateway: GatewayProcess
) -> None:
    # A screen that has never been set up: no settings, no identity (the rest may be there
    # from an earlier run on this machine; in CI it is not).
    (ETC / "config.toml").unlink(missing_ok=True)
    (DATA / "enrollment.json").unlink(missing_ok=True)
    args = [
        "--no-start",
        "--gateway", gateway.base_url,
        "--code", gateway.enroll_code(LOCATION),
        "--name", "grill-screen",
        "--station", "Grill",
        "--rotation", "90",
        "--bumpbar", "17=bump,27=recall,22=next",
    ]  # fmt: skip
    started = time.monotonic()
    output = provision(snapshot, *args)
    print(f"first run: {time.monotonic() - started:.0f} s")
    assert "changed  enroll at" in output

    # The service user: a system account without a login, in the device groups that exist.
    user = pwd.getpwnam("kds")
    assert user.pw_uid < 1000
    assert user.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert user.pw_dir == str(DATA)
    for name in DEVICE_GROUPS:
        try:
            group = grp.getgrnam(name)
        except KeyError:
            continue
        assert "kds" in group.gr_mem, f"kds is not in group {name}"
    assert mode_and_owner(DATA) == (0o750, "kds", "kds")

    # The backlight: the video group may dim the panel and turn it off (screen care).
    rule = Path("/etc/udev/rules.d/90-kds-backlight.rules")
    assert mode_and_owner(rule) == (0o644, "root", "root")
    assert 'SUBSYSTEM=="backlight"' in rule.read_text() and "chgrp video" in rule.read_text()

    # The app, installed (not linked to the checkout) with the Pi extras.
    assert os.access(VENV / "bin" / "kds-device", os.X_OK)
    found = subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-c",
            "import importlib.util as u, kds_device; "
            "print(kds_device.__file__); "
            "print(all(u.find_spec(m) for m in ('kivy', 'gpiozero', 'lgpio', 'paho')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",  # not the checkout: python -c would import kds_device from there
    ).stdout.split()
    assert found[0].startswith(str(VENV)), found
    assert found[1] == "True"

    # The settings, as asked for, and clean to the app's own loader.
    config_path = ETC / "config.toml"
    assert mode_and_owner(config_path) == (0o644, "root", "root")
    config = tomllib.loads(config_path.read_text())
    assert config["display"]["station"] == "Grill"
    assert config["display"]["rotation"] == 90
    assert config["bumpbar"]["pins"] == {"17": "bump", "27": "recall", "22": "next"}
    assert "code" not in config_path.read_text().lower().replace("unicode", "")

    from kds_device.config import load_config

    loaded = load_config(config_path)
    assert loaded.problems == []
    assert loaded.bumpbar.pins == {17: "bump", 27: "recall", 22: "next"}

    # Kivy: exactly one touch provider (no mouse, no second probesysfs), rotated with the
    # picture, no Esc to quit; and Kivy, run as the app user, takes the file as it is.
    kivy_ini = ETC / "kivy" / "config.ini"
    assert mode_and_owner(kivy_ini) == (0o644, "root", "root")
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read(kivy_ini)
    assert dict(parsed["input"]) == {"touchscreen": "probesysfs,provider=hidinput"}
    assert parsed["graphics"]["rotation"] == "90"
    assert parsed["kivy"]["exit_on_escape"] == "0"
    assert parsed["kivy"]["log_enable"] == "0"
    before = kivy_ini.read_bytes()
    seen = as_user(
        "kds",
        str(VENV / "bin" / "python"),
        "-c",
        "from kivy.config import Config; import json; "
        "print(json.dumps([dict(Config.items('input')), Config.get('graphics', 'rotation')]))",
        env={"KIVY_HOME": str(ETC / "kivy"), "KIVY_NO_ARGS": "1", "KIVY_NO_FILELOG": "1"},
    )
    assert seen.returncode == 0, seen.stderr
    assert json.loads(seen.stdout.splitlines()[-1]) == [
        {"touchscreen": "probesysfs,provider=hidinput"},
        "90",
    ]
    assert kivy_ini.read_bytes() == before, "Kivy rewrote its config"

    # The identity: only the service user can read the token, and the token is real.
    identity_path = DATA / "enrollment.json"
    assert mode_and_owner(identity_path) == (0o600, "kds", "kds")
    identity = json.loads(identity_path.read_text())
    assert identity["locationId"] == LOCATION
    assert identity["gatewayUrl"].rstrip("/") == gateway.base_url
    answer = requests.get(
        f"{gateway.base_url}/api/v1/events",
        params={"after": 0, "wait": 0},
        headers={"Authorization": f"Bearer {identity['token']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert as_user("nobody", "cat", str(identity_path)).returncode != 0

    # The unit: installed as shipped, enabled for boot, and valid to systemd.
    unit = UNITS / "kds-device.service"
    assert unit.read_text() == (snapshot / "systemd" / "kds-device.service").read_text()
    assert mode_and_owner(unit) == (0o644, "root", "root")
    wants = UNITS / "multi-user.target.wants" / "kds-device.service"
    assert wants.is_symlink() and wants.resolve() == unit
    verify_units("kds-device.service")

    # What an installer checks: the service user sees an enrolled screen.
    status = as_user(
        "kds",
        str(VENV / "bin" / "kds-device"),
        "status",
        env={"KDS_DEVICE_DATA_DIR": str(DATA)},
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert LOCATION in status.stdout
    assert "Grill" in status.stdout

    # The installed app, started as the unit starts it (user, directory, environment; only
    # the video driver differs: CI has no display hardware, so X11 on the test's Xvfb), comes
    # up with Kivy's read-only config, reports READY and feeds the watchdog.
    assert_service_reaches_ready(unit)

    # Again, with the same answers: nothing changes, and it says so.
    managed = [config_path, kivy_ini, identity_path, unit, VENV / ".kds-provisioned-source"]
    before_rerun = fingerprint(managed)
    assert_no_change(provision(snapshot, *args))
    assert fingerprint(managed) == before_rerun

    # A dry run that would change the rotation changes nothing either, but says what.
    dry = provision(snapshot, "--dry-run", "--no-start", "--rotation", "180")
    assert "would    write /etc/kds-device/config.toml" in dry
    assert "would    write /etc/kds-device/kivy/config.ini" in dry
    assert fingerprint(managed) == before_rerun


MOSQUITTO_CONF = Path("/etc/mosquitto/conf.d/kds.conf")
DYNSEC_FILE = Path("/var/lib/mosquitto/kds-dynsec.json")
TLS_DIR = GATEWAY_ETC / "tls"


def test_primary_pi_gets_gateway_and_broker_with_secrets_kept_private(snapshot: Path) -> None:
    # Start from no gateway settings, so these are written by this run.
    for path in (GATEWAY_ETC / "gateway.toml", MOSQUITTO_CONF, DYNSEC_FILE):
        path.unlink(missing_ok=True)
    shutil.rmtree(TLS_DIR, ignore_errors=True)
    # What an older version of the script left (one shared screen user): removed.
    Path("/etc/mosquitto/kds.acl").write_text("user kds-screen\ntopic read kds/+/events\n")
    secrets_env = {
        "KDS_DELIVERECT_HMAC_SECRET": "hmac-" + os.urandom(8).hex(),
        "KDS_DELIVERECT_CLIENT_ID": "client-" + os.urandom(4).hex(),
        "KDS_DELIVERECT_CLIENT_SECRET": "secret-" + os.urandom(8).hex(),
    }
    args = [
        "--no-start",
        "--with-gateway",
        "--with-mosquitto",
        "--with-tls",
        "--public-url", "https://kds.example.test",
        "--broker-host", "192.0.2.10",
    ]  # fmt: skip
    output = provision(snapshot, *args, env=secrets_env)
    assert secrets_env["KDS_DELIVERECT_CLIENT_SECRET"] not in output
    assert not Path("/etc/mosquitto/kds.acl").exists()

    # Its own user, state directory and secrets file (the service user reads it, nobody else).
    gateway_user = pwd.getpwnam("kds-gateway")
    assert gateway_user.pw_uid < 1000
    assert mode_and_owner(Path("/var/lib/kds-gateway")) == (0o750, "kds-gateway", "kds-gateway")
    conf_path = GATEWAY_ETC / "gateway.toml"
    assert mode_and_owner(conf_path) == (0o640, "root", "kds-gateway")
    assert mode_and_owner(GATEWAY_ETC) == (0o750, "root", "kds-gateway")
    conf = tomllib.loads(conf_path.read_text())
    assert conf["deliverect"]["hmac_secret"] == secrets_env["KDS_DELIVERECT_HMAC_SECRET"]
    assert conf["server"]["public_base_url"] == "https://kds.example.test"
    assert conf["mqtt"]["enabled"] is True and conf["mqtt"]["dynsec"] is True
    assert conf["mqtt"]["device_host"] == "192.0.2.10"
    assert "device_password" not in conf["mqtt"]  # no shared screen login any more
    # TLS: a site CA whose key only root reads; the server key for the gateway's user.
    assert mode_and_owner(TLS_DIR / "ca.key") == (0o600, "root", "root")
    assert mode_and_owner(TLS_DIR / "server.key") == (0o640, "root", "kds-gateway")
    assert conf["server"]["certfile"] == str(TLS_DIR / "server.pem")
    assert conf["mqtt"]["device_tls"] is True and conf["mqtt"]["device_port"] == 8883
    assert conf["mqtt"]["device_ca_file"] == str(TLS_DIR / "ca.pem")
    assert as_user("nobody", "cat", str(conf_path)).returncode != 0
    loads = as_user(
        "kds-gateway",
        str(VENV / "bin" / "python"),
        "-c",
        "from pathlib import Path; from kds_device.gateway.config import load_gateway_config; "
        f"print(load_gateway_config(Path('{conf_path}')).public_base_url)",
    )
    assert loads.returncode == 0, loads.stderr
    assert loads.stdout.strip() == "https://kds.example.test"

    unit = UNITS / "kds-gateway.service"
    assert unit.read_text() == (snapshot / "systemd" / "kds-gateway.service").read_text()
    assert (UNITS / "multi-user.target.wants" / "kds-gateway.service").is_symlink()
    verify_units("kds-device.service", "kds-gateway.service")

    # Mosquitto: the files, then the real broker with them: no anonymous client gets in, the
    # gateway makes a screen's user, publishes, and only that screen's location reaches it.
    assert mode_and_owner(DYNSEC_FILE) == (0o600, "mosquitto", "mosquitto")
    assert conf["mqtt"]["password"] not in DYNSEC_FILE.read_text()  # hashed
    key = Path("/etc/mosquitto/certs/kds-server.key")
    assert mode_and_owner(key) == (0o640, "root", "mosquitto")
    check_broker(conf["mqtt"])

    # Second run: nothing changes (the plugin's file is not re-hashed, secrets are kept).
    managed = [conf_path, DYNSEC_FILE, MOSQUITTO_CONF, key, TLS_DIR / "server.pem", unit]
    before = fingerprint(managed)
    assert_no_change(provision(snapshot, *args, env=secrets_env))
    assert fingerprint(managed) == before

    # The gateway's broker password is changed in gateway.toml: the next run takes it to the
    # broker; the old one stops working.
    old_password = conf["mqtt"]["password"]
    new_password = "rotated-" + os.urandom(8).hex()
    conf_path.write_text(conf_path.read_text().replace(old_password, new_password))
    output = provision(snapshot, *args, env=secrets_env)
    assert f"changed  write {DYNSEC_FILE}" in output
    check_broker({**conf["mqtt"], "password": new_password}, stale_password=old_password)


def check_broker(settings: dict[str, Any], stale_password: str | None = None) -> None:
    """Run Mosquitto with the installed kds.conf on free ports (a copy of the plugin's file)
    and try the clients: anonymous, wrong passwords, the gateway, a screen over TLS."""
    from kds_device.gateway.broker_accounts import BrokerAccounts
    from kds_device.gateway.config import MqttConfig

    conf_text = MOSQUITTO_CONF.read_text()
    port, tls_port = free_port(), free_port()
    assert "\nlistener 1883 127.0.0.1\n" in conf_text and "\nallow_anonymous false\n" in conf_text
    assert "\nlistener 8883\n" in conf_text and "\nplugin /usr/lib/" in conf_text
    work = Path(f"/tmp/kds-provision-mosquitto-{port}")
    work.mkdir()
    shutil.copy2(DYNSEC_FILE, work / "dynsec.json")
    shutil.chown(work, "mosquitto", "mosquitto")
    shutil.chown(work / "dynsec.json", "mosquitto", "mosquitto")
    test_conf = work / "mosquitto.conf"
    test_conf.write_text(
        conf_text.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
        .replace("listener 8883", f"listener {tls_port} 127.0.0.1")
        .replace(str(DYNSEC_FILE), str(work / "dynsec.json"))
        .replace("persistence true", "persistence false")
    )
    broker = subprocess.Popen(
        [MOSQUITTO, "-c", str(test_conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_until(lambda: _accepting(port, broker), 10, f"mosquitto on {port}")
        assert _connect(port, None, None) != 0, "an anonymous client was let in"
        assert _connect(port, settings["username"], "wrong password") != 0
        if stale_password is not None:
            assert _connect(port, settings["username"], stale_password) != 0
        assert _connect(port, settings["username"], settings["password"]) == 0

        gateway_login = MqttConfig(
            enabled=True, host="127.0.0.1", port=port, username=settings["username"],
            password=settings["password"], dynsec=True,
        )  # fmt: skip
        device_id = f"dev_provision{os.urandom(3).hex()}"
        screen_password = "screen-" + os.urandom(8).hex()
        BrokerAccounts(gateway_login).add_screen(device_id, LOCATION, screen_password)
        received: list[bytes] = []
        screen = _client(device_id, screen_password, f"kds-device-{device_id}")
        screen.tls_set(ca_certs=str(TLS_DIR / "ca.pem"))
        screen.on_message = lambda _c, _u, message: received.append(bytes(message.payload))
        screen.connect("127.0.0.1", tls_port)
        screen.loop_start()
        try:
            wait_until(screen.is_connected, 10, "the screen's TLS connection")
            subscribed = screen.subscribe(f"kds/{LOCATION}/events", qos=1)
            assert subscribed[0] == mqtt.MQTT_ERR_SUCCESS
            gateway = _client(settings["username"], settings["password"])
            gateway.connect("127.0.0.1", port)
            gateway.loop_start()
            try:
                wait_until(lambda: _publish(gateway, received), 10, "an event at the screen")
            finally:
                gateway.disconnect()
                gateway.loop_stop()
        finally:
            screen.disconnect()
            screen.loop_stop()
        assert received and received[0] == b'{"seq": 1}'
    finally:
        broker.terminate()
        output = broker.communicate(timeout=10)[0]
        shutil.rmtree(work, ignore_errors=True)
        print(output.decode(errors="replace"))


def _accepting(port: int, broker: subprocess.Popen[bytes]) -> bool:
    if broker.poll() is not None:
        pytest.fail(f"mosquitto exited: {broker.communicate()[0].decode(errors='replace')}")
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _client(
    username: str | None, password: str | None, client_id: str | None = None
) -> mqtt.Client:
    client_id = client_id or f"kds-test-{os.urandom(4).hex()}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if username is not None:
        client.username_pw_set(username, password)
    return client


def _connect(port: int, username: str | None, password: str | None) -> int:
    """The broker's CONNACK reason (0 = accepted)."""
    outcome: list[int] = []
    client = _client(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: outcome.append(reason.value)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_until(lambda: outcome, 10, "a CONNACK")
    finally:
        client.disconnect()
        client.loop_stop()
    return outcome[0]


def _publish(gateway: mqtt.Client, received: list[bytes]) -> bool:
    if received:
        return True
    if gateway.is_connected():
        gateway.publish(f"kds/{LOCATION}/events", b'{"seq": 1}', qos=1)
        time.sleep(0.2)  # give the delivery a moment before publishing again
    return bool(received)
