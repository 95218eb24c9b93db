"""The one config loader of the device: a TOML file, defaults for everything missing.

A bad value is reported with its key and replaced by the default, so a typo never leaves a
kitchen with a black screen.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kds_device.domain.board import AgeThresholds, BoardSettings
from kds_device.domain.channels import DEFAULT_CHANNEL_NAMES
from kds_device.domain.lines import DEFAULT_ALLERGY_WORDS
from kds_device.domain.order import OrderType
from kds_device.domain.roles import Role
from kds_device.domain.screen_care import CareSettings, parse_hours
from kds_device.domain.status import KDS_SENDABLE

log = logging.getLogger(__name__)


@dataclass
class DisplayConfig:
    station: str = "Kitchen"
    fullscreen: bool = True
    size: tuple[int, int] = (1280, 800)
    rotation: int = 0
    sound: bool = True
    #: A tap bumps the selected tile only if the board under the finger has not moved for
    #: this long (after a bump the next ticket slides into the tapped place).
    tap_settle_s: float = 0.6
    #: A cancelled tile is cleared by touch only after a hold this long (progress shown).
    clear_hold_s: float = 1.0
    #: Deliverect channel ids to names shown on tiles: Deliverect's public ids by default
    #: (kds_device.domain.channels), ``[display.channels]`` overrides and adds.
    channels: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_NAMES))
    #: Burn-in shift, dim, screen off outside ``hours``, cleaning lock (docs/screen-care.md).
    care: CareSettings = field(default_factory=CareSettings)
    #: What turns the panel off and dims it: "auto" (a sysfs backlight if there is one),
    #: "none" (drawn black/dim only), "sysfs:<name>", "xset", "wlr-randr".
    backlight: str = "auto"


@dataclass
class ConnectionConfig:
    # Banner once the gateway has been silent this long (counted from the last answer, and the
    # bar redraws each second): 8 s puts it up within 10 s of losing the gateway.
    offline_banner_s: float = 8.0
    offline_alarm_s: float = 120.0  # then an alarm, escalating
    poll_wait_s: float = 25.0  # long-poll hold time asked of the gateway
    heartbeat_s: float = 5.0  # how often the screen tells the gateway how it is


@dataclass
class BumpBarConfig:
    pins: dict[int, str] = field(default_factory=dict)  # BCM pin -> action
    hold: dict[int, str] = field(default_factory=dict)  # BCM pin -> action when held
    hold_time_s: float = 1.0
    bounce_time_s: float = 0.03
    guard_s: float = 0.25  # a second press on one pin within this counts once
    pin_factory: str = ""  # "" = gpiozero's choice / GPIOZERO_PIN_FACTORY
    keys: dict[str, str] = field(default_factory=dict)  # key name -> action
    #: Holding the PAGE BACK and PAGE NEXT keys together this long opens the learn screen.
    learn_chord_s: float = 3.0
    #: The learn screen closes after this long without a key or a touch.
    learn_idle_s: float = 30.0
    default_pins: bool = False  # no pins configured: use the documented default GPIO map


@dataclass
class PacingConfig:
    #: Cooks per station for the falling-behind projection (kds_device.domain.pacing): one
    #: unless ``[pacing] cooks.<station> = n``.
    cooks: dict[str, int] = field(default_factory=dict)


@dataclass
class DeviceConfig:
    board: BoardSettings = field(default_factory=BoardSettings)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    connection: ConnectionConfig = field(default_factory=ConnectionConfig)
    bumpbar: BumpBarConfig = field(default_factory=BumpBarConfig)
    pacing: PacingConfig = field(default_factory=PacingConfig)
    source: Path | None = None
    problems: list[str] = field(default_factory=list)


def load_config(path: Path | None) -> DeviceConfig:
    """Read ``path`` (missing file = all defaults). Never raises for content problems."""
    config = DeviceConfig(source=path)
    if path is None or not path.exists():
        return config
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        _problem(config, f"{path}: cannot read ({error}); using defaults")
        return config
    return config_from_mapping(raw, config)


def config_from_mapping(raw: Mapping[str, Any], config: DeviceConfig | None = None) -> DeviceConfig:
    config = config or DeviceConfig()
    board = _section(raw, "board", config)
    display = _section(raw, "display", config)
    connection = _section(raw, "connection", config)
    bumpbar = _section(raw, "bumpbar", config)
    pacing = _section(raw, "pacing", config)

    settings = config.board
    bump = _get(board, "bump_status", int, settings.bump_status, config, "board")
    if bump not in KDS_SENDABLE:
        _problem(config, f"board.bump_status must be one of {sorted(KDS_SENDABLE)}; using 70")
        bump = 70
    settings.bump_status = bump
    settings.default_thresholds = AgeThresholds(
        60 * _get(board, "caution_min", float, 5.0, config, "board"),
        60 * _get(board, "late_min", float, 8.0, config, "board"),
    )
    per_type = board.get("order_types", {})
    if isinstance(per_type, Mapping):
        for name, limits in per_type.items():
            kind = _order_type(name)
            if kind is None or not isinstance(limits, Mapping):
                _problem(config, f"board.order_types.{name}: unknown order type; ignored")
                continue
            settings.thresholds[kind] = AgeThresholds(
                60 * _get(limits, "caution_min", float, 5.0, config, f"board.order_types.{name}"),
                60 * _get(limits, "late_min", float, 8.0, config, f"board.order_types.{name}"),
            )
    words = board.get("allergy_words")
    if isinstance(words, list) and all(isinstance(w, str) for w in words):
        settings.allergy_words = tuple(words)
    elif words is not None:
        _problem(config, "board.allergy_words must be a list of strings; using defaults")
        settings.allergy_words = DEFAULT_ALLERGY_WORDS
    settings.undo_window_s = _get(
        board, "undo_window_s", float, settings.undo_window_s, config, "board"
    )
    settings.scheduled_lead_s = 60 * _get(
        board, "scheduled_lead_min", float, settings.scheduled_lead_s / 60, config, "board"
    )
    # urgency (kds_device.domain.urgency): finish this long before the promise; HURRY before
    settings.finish_margin_s = 60 * _get(
        board, "finish_margin_min", float, settings.finish_margin_s / 60, config, "board"
    )
    settings.hurry_s = 60 * _get(board, "hurry_min", float, settings.hurry_s / 60, config, "board")

    disp = config.display
    disp.station = _get(display, "station", str, disp.station, config, "display")
    role = _get(display, "role", str, "", config, "display")
    if role:
        try:
            settings.role = Role.from_text(role)
        except ValueError as error:
            _problem(config, f"display.role: {error}; using all")
    disp.fullscreen = _get(display, "fullscreen", bool, disp.fullscreen, config, "display")
    disp.sound = _get(display, "sound", bool, disp.sound, config, "display")
    disp.rotation = _get(display, "rotation", int, disp.rotation, config, "display")
    if disp.rotation not in (0, 90, 180, 270):
        _problem(config, "display.rotation must be 0, 90, 180 or 270; using 0")
        disp.rotation = 0
    for name in ("tap_settle_s", "clear_hold_s"):
        value = _get(display, name, float, getattr(disp, name), config, "display")
        setattr(disp, name, min(max(value, 0.0), 5.0))
    size = display.get("size")
    if size is not None:
        parsed = parse_size(size)
        if parsed is None:
            _problem(config, 'display.size must look like "1280x800"; using the default')
        else:
            disp.size = parsed
    channels = display.get("channels", {})
    if isinstance(channels, Mapping):
        for key, name in channels.items():
            text = str(key)
            # isdigit() alone is true for "²", which int() refuses
            if text.isascii() and text.isdigit() and len(text) <= 9 and isinstance(name, str):
                disp.channels[int(text)] = name
            else:
                _problem(config, f"display.channels.{text[:20]}: needs a channel id and a name")

    disp.care = _care(display, config)
    disp.backlight = _get(display, "backlight", str, disp.backlight, config, "display")

    conn = config.connection
    for name in ("offline_banner_s", "offline_alarm_s", "poll_wait_s", "heartbeat_s"):
        setattr(
            conn, name, _get(connection, name, float, getattr(conn, name), config, "connection")
        )

    bar = config.bumpbar
    bar.pins = _pin_map(bumpbar.get("pins", {}), config, "bumpbar.pins")
    bar.hold = _pin_map(bumpbar.get("hold", {}), config, "bumpbar.hold")
    for name in ("hold_time_s", "bounce_time_s", "guard_s", "learn_chord_s", "learn_idle_s"):
        setattr(bar, name, _get(bumpbar, name, float, getattr(bar, name), config, "bumpbar"))
    bar.pin_factory = _get(bumpbar, "pin_factory", str, bar.pin_factory, config, "bumpbar")
    bar.default_pins = _get(bumpbar, "default_pins", bool, bar.default_pins, config, "bumpbar")
    keys = bumpbar.get("keys", {})
    if isinstance(keys, Mapping):
        bar.keys = {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
    config.pacing.cooks = _cooks(pacing.get("cooks", {}), config)
    return config


def _care(display: Mapping[str, Any], config: DeviceConfig) -> CareSettings:
    """The screen-care keys of ``[display]``, each bounded (minutes in the file)."""
    base = CareSettings()

    def number(key: str, default: float, low: float, high: float) -> float:
        value = float(_get(display, key, float, default, config, "display"))
        if not low <= value <= high:
            _problem(config, f"display.{key} must be {low:g}..{high:g}; using {default:g}")
            return default
        return value

    hours, problems = parse_hours(display.get("hours"))
    for problem in problems:
        _problem(config, problem)
    return CareSettings(
        shift_px=int(number("shift_px", base.shift_px, 0, 4)),
        shift_every_s=60 * number("shift_every_min", base.shift_every_s / 60, 0.01, 240),
        dim_after_s=60 * number("dim_after_min", base.dim_after_s / 60, 0, 1440),
        dim_level=number("dim_level", base.dim_level, 0.05, 1.0),
        off_after_s=60 * number("off_after_min", base.off_after_s / 60, 0, 1440),
        lock_s=number("clean_lock_s", base.lock_s, 1, 600),
        lock_press_s=number("clean_press_s", base.lock_press_s, 0.5, 10),
        hours=hours,
    )


def _cooks(raw: object, config: DeviceConfig) -> dict[str, int]:
    """``[pacing] cooks.grill = 2``: whole numbers from 1 to 50 per station id."""
    if not isinstance(raw, Mapping):
        _problem(config, "pacing.cooks must be a table of station = number; using 1 each")
        return {}
    cooks: dict[str, int] = {}
    for station, count in raw.items():
        if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= 50:
            cooks[str(station).strip().lower()] = count
        else:
            _problem(config, f"pacing.cooks.{str(station)[:20]} must be 1..50; using 1")
    return cooks


def parse_size(value: object) -> tuple[int, int] | None:
    """``"800x480"`` or ``[800, 480]`` -> (800, 480)."""
    if isinstance(value, str) and "x" in value.lower():
        width, _, height = value.lower().partition("x")
        if width.strip().isdigit() and height.strip().isdigit():
            return int(width), int(height)
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return int(value[0]), int(value[1])
    return None


def _order_type(name: str) -> OrderType | None:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {
        "eat_in": OrderType.EAT_IN,
        "drive_through": OrderType.DRIVE_THROUGH,
        "drive_thru": OrderType.DRIVE_THROUGH,
    }
    if key in aliases:
        return aliases[key]
    try:
        return OrderType[key.upper()]
    except KeyError:
        return None


def _pin_map(raw: object, config: DeviceConfig, where: str) -> dict[int, str]:
    result: dict[int, str] = {}
    if not isinstance(raw, Mapping):
        _problem(config, f'{where} must be a table of pin = "action"')
        return result
    for pin, action in raw.items():
        if str(pin).isdigit() and isinstance(action, str):
            result[int(pin)] = action
        else:
            _problem(config, f"{where}.{pin}: expected a BCM pin number and an action name")
    return result


def _section(raw: Mapping[str, Any], name: str, config: DeviceConfig) -> Mapping[str, Any]:
    value = raw.get(name, {})
    if isinstance(value, Mapping):
        return value
    _problem(config, f"[{name}] must be a table; using defaults")
    return {}


def _get(
    section: Mapping[str, Any], key: str, kind: type, default: Any, config: DeviceConfig, where: str
) -> Any:
    if key not in section:
        return default
    value = section[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    _problem(config, f"{where}.{key} should be {kind.__name__}, not {value!r}; using {default!r}")
    return default


def _problem(config: DeviceConfig, message: str) -> None:
    config.problems.append(message)
    log.warning("config: %s", message)
