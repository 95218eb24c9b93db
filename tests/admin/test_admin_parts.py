"""The admin page's parts without a browser: the chart's figures and drawing, the password
hash command, the config (file and environment), the cookie's Secure flag over HTTPS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.security import check_password_hash

from kds_device.gateway.admin import chart
from kds_device.gateway.admin.auth import configure_session, session_key
from kds_device.gateway.config import ConfigError, DatabaseConfig, load_gateway_config
from kds_device.gateway.stores import open_store

GATEWAY_BIN = Path(sys.executable).with_name("kds-gateway")
NOW = 1_780_000_200.0  # a bucket boundary plus 200 s


def test_buckets_count_orders_and_the_median_order_to_screen_delay() -> None:
    size = 15 * 60
    this = NOW // size * size
    received = [this + 10, this + 20, this + 30, this - size + 5, this - 7 * 3600]
    shown = [
        (this + 10, 120),  # two screens showed the first order
        (this + 10, 400),
        (this + 20, 90),
        (this + 30, 1500),  # the median of 90, 120, 400, 1500 is 260
        (this - 7 * 3600, 5),  # older than the span: left out
    ]
    rows = chart.buckets(received, shown, NOW, hours=6, bucket_min=15)
    assert len(rows) == 24
    assert rows[-1].start == this and rows[-2].start == this - size
    assert rows[-1].orders == 3 and rows[-1].median_shown_ms == pytest.approx(260.0)
    assert rows[-2].orders == 1 and rows[-2].median_shown_ms is None  # no screen reported it
    assert sum(r.orders for r in rows) == 4
    odd = chart.buckets(
        [this + 10], [(this + 10, 70), (this + 11, 30), (this + 12, 50)], NOW, 6, 15
    )
    assert odd[-1].median_shown_ms == 50


def test_svg_draws_bars_and_the_delay_line_escaped() -> None:
    rows = [
        chart.Bucket(NOW + i * 900, orders, delay)
        for i, (orders, delay) in enumerate([(3, 150.0), (0, None), (7, 2400.0)])
    ]
    drawn = chart.svg(rows, "<zone>")
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert drawn.count('class="bar"') == 3
    assert drawn.count('class="dot"') == 2
    assert "<polyline" not in drawn  # no line across the bucket without a delay
    joined = chart.svg([*rows, chart.Bucket(NOW + 2700, 1, 2.0)])
    assert joined.count("<polyline") == 1 and joined.count('class="dot"') == 3
    assert "&lt;zone&gt;" in drawn and "<zone>" not in drawn
    assert ">10<" in drawn  # the orders axis rounds 7 up to 10
    assert ">5000 ms<" in drawn and ">2500 ms<" in drawn  # the delay axis rounds 2400 up
    assert "median 2400 ms to the screens" in drawn


def test_hash_password_command() -> None:
    done = subprocess.run(
        [str(GATEWAY_BIN), "admin", "hash-password"],
        input="a long enough secret\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    hashed = done.stdout.strip()
    assert check_password_hash(hashed, "a long enough secret")
    assert not check_password_hash(hashed, "a long enough secreT")
    short = subprocess.run(
        [str(GATEWAY_BIN), "admin", "hash-password"],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert short.returncode == 2 and "at least 10" in short.stderr


def test_config_from_environment_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text('[deliverect]\nhmac_secret = "s"\n[outbox]\nenabled = false\n')
    config = load_gateway_config(
        path, {"KDS_GATEWAY_ADMIN_PASSWORD_HASH": "scrypt:32768:8:1$abc$def"}
    )
    assert config.admin.password_hash == "scrypt:32768:8:1$abc$def"
    assert load_gateway_config(path, {}).admin.password_hash == ""
    with pytest.raises(ConfigError, match=r"admin\.password_hash must be a hash"):
        load_gateway_config(path, {"KDS_GATEWAY_ADMIN_PASSWORD_HASH": "plain-text"})
    with pytest.raises(ConfigError, match=r"admin\.secret_key must be at least 32"):
        load_gateway_config(path, {"KDS_GATEWAY_ADMIN_SECRET_KEY": "short"})


def test_secure_cookie_over_https_and_one_generated_key(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(
        '[deliverect]\nhmac_secret = "s"\n[outbox]\nenabled = false\n'
        '[server]\npublic_base_url = "https://kds.example"\n'
        '[admin]\npassword_hash = "scrypt:32768:8:1$abc$def"\n'
    )
    config = load_gateway_config(path, {})
    db = open_store(DatabaseConfig(path=str(tmp_path / "g.db")))
    other = open_store(DatabaseConfig(path=str(tmp_path / "g.db")))  # another worker
    try:
        app = Flask("t")
        configure_session(app, config)
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
        key = session_key(config, db)
        assert len(key) == 64 and key == session_key(config, other)
    finally:
        db.close()
        other.close()
    config.admin.secret_key = "k" * 40
    assert session_key(config, db) == "k" * 40  # configured: the database is not asked
