"""The operator's admin page, served by the gateway under ``/admin`` (docs/admin.md).

Server-rendered Flask templates with a few lines of script that refresh the live parts;
login with one hashed operator password, a signed HttpOnly SameSite=Strict cookie, CSRF on
every change. Disabled (404 with the reason) until ``[admin] password_hash`` is set.
"""

from __future__ import annotations

from flask import Flask

from kds_device.gateway.admin import views
from kds_device.gateway.admin.auth import auth_blueprint, configure_session
from kds_device.gateway.services import Services

__all__ = ["install_admin"]

views.blueprint.register_blueprint(auth_blueprint)


def install_admin(app: Flask, found: Services) -> None:
    """Mount the admin page on the gateway's app (cookie settings, CSRF, the blueprint)."""
    configure_session(app, found.config)
    views.csrf.init_app(app)
    app.register_blueprint(views.blueprint, url_prefix="/admin")
