"""The admin page's login: one operator password (a werkzeug hash in the config or the
environment), a signed session cookie, CSRF on every change.

Only the session cookie opens the admin page: a device's bearer token (or any
``Authorization`` header) is never looked at here, so a screen's credentials cannot reach it.
The cookie's signing key is ``[admin] secret_key`` or, when that is empty, 252 random bits
generated once and kept in the database's ``cursors`` table (four rows of 63 bits), so every
gunicorn worker and every host on one PostgreSQL database signs and reads the same cookies.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    Request,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.security import check_password_hash

from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.http_util import error
from kds_device.gateway.services import services
from kds_device.gateway.storage import StorageError, Store

F = TypeVar("F", bound=Callable[..., Any])

#: Cursor rows that together hold the generated session key (63 random bits each).
KEY_CURSORS = tuple(f"admin.session_key.{n}" for n in range(4))
#: What a session remembers of the login (and when it happened).
LOGGED_IN = "admin_login_at"

#: Nested in the admin blueprint: its guard (disabled? CSRF?) and headers apply here too.
auth_blueprint = Blueprint("auth", __name__)


def session_key(config: GatewayConfig, db: Store) -> str:
    """The key that signs admin session cookies (configured, or shared via the database)."""
    if config.admin.secret_key:
        return config.admin.secret_key
    select = "SELECT name, value FROM cursors WHERE name IN (?, ?, ?, ?)"
    rows = db.read().execute(select, KEY_CURSORS).fetchall()
    if len(rows) < len(KEY_CURSORS):  # the first start: made once, the first writer's wins
        with db.write() as conn:
            for name in KEY_CURSORS:
                conn.execute(
                    "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (name, secrets.randbits(63)),
                )
            rows = conn.execute(select, KEY_CURSORS).fetchall()
    values = {str(row[0]): int(row[1]) for row in rows}
    return "".join(f"{values[name]:016x}" for name in KEY_CURSORS)


def configure_session(app: Flask, config: GatewayConfig) -> None:
    """Cookie settings: HttpOnly, SameSite=Strict, Secure when the gateway is reached over
    HTTPS (its own certificate, or a ``https://`` public_base_url behind a proxy). The key
    comes with the first admin request (:func:`ensure_session_key`)."""
    https = bool(config.server.certfile) or config.public_base_url.startswith("https://")
    app.session_interface = AdminSessions()
    app.config.update(
        SESSION_COOKIE_NAME="kds_admin",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.admin.session_hours),
        # A token lasts as long as the login: a page left open for hours can still revoke.
        WTF_CSRF_TIME_LIMIT=None,
        # Only the admin blueprint checks tokens (webhooks and the device API are signed or
        # carry bearer tokens and have no cookies to ride on).
        WTF_CSRF_CHECK_DEFAULT=False,
    )


def ensure_session_key() -> None:
    """The signing key, read (or made) at the first admin request rather than when a worker
    boots: a worker started during a storage fault still starts (its admin requests get the
    store's 503 until the fault passes), and a gateway without the page never writes one."""
    app = current_app
    if not app.config.get("SECRET_KEY"):
        found = services()
        app.config["SECRET_KEY"] = session_key(found.config, found.journal.db)


class AdminSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, for ``/admin`` only (nothing else uses a session), with
    the key fetched when the first one is opened."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith("/admin") or not enabled():
            return None  # a null session: webhooks and the device API carry no cookie
        try:
            ensure_session_key()
        except StorageError:
            return None  # the admin guard asks again and answers 503
        return super().open_session(app, request)


def enabled() -> bool:
    return bool(services().config.admin.password_hash)


def refuse_when_disabled() -> Any:
    """Before every admin request: without a configured password the page does not exist."""
    if not enabled():
        return error(
            404,
            "admin_disabled",
            "the admin page is disabled: set [admin] password_hash (or "
            "KDS_GATEWAY_ADMIN_PASSWORD_HASH) to a hash from `kds-gateway admin hash-password`",
        )
    return None


def logged_in() -> bool:
    started = session.get(LOGGED_IN)
    if not isinstance(started, (int, float)):
        return False
    return time.time() - started < services().config.admin.session_hours * 3600


def login_required(view: F) -> F:
    """Pages send a stranger to the login form; live fragments (``X-Admin-Live``) and
    changes answer 401, so a script never swaps the login form into a table."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if logged_in():
            return view(*args, **kwargs)
        if request.method == "GET" and "X-Admin-Live" not in request.headers:
            return redirect(url_for("admin.auth.login", next=request.path))
        return error(401, "login_required", "log in to the admin page first")

    return cast(F, wrapper)


@auth_blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html", problem="")
    found = services()
    # Wrong passwords count per client address like wrong enrollment codes ([enrollment]
    # free_attempts, then a doubling wait), shared by every process through the database.
    key = f"admin-login:{request.remote_addr or 'unknown'}"
    wait = found.enroll_limits.retry_after([key])
    if wait is not None:
        problem = f"Too many wrong passwords: try again in {wait} s."
        page = render_template("login.html", problem=problem)
        return page, 429, {"Retry-After": str(wait)}
    if check_password_hash(found.config.admin.password_hash, request.form.get("password", "")):
        found.enroll_limits.succeeded(key)
        session.clear()
        session.permanent = True
        session[LOGGED_IN] = time.time()
        return redirect(_safe_next(request.args.get("next")))
    found.enroll_limits.failed([key])
    return render_template("login.html", problem="Wrong password."), 401


@auth_blueprint.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("admin.auth.login"))


def _safe_next(target: str | None) -> str:
    """Only a path inside the admin page (no open redirect to another site)."""
    if target and target.startswith("/admin") and "//" not in target and "\\" not in target:
        return target
    return url_for("admin.overview")
