"""gunicorn's own refusals in the gateway's one error shape.

gunicorn refuses some requests before the application sees them: a request line longer than
``limit_request_line`` (414), headers too many or too large (431), a malformed request line,
method or header (400). It answers those with a small HTML page. Every other refusal of the
gateway is JSON ``{"error": ..., "detail": ...}`` (``http_util.error``), and a client (or
an operator reading a capture) should not have to parse two shapes. :func:`install` makes
gunicorn write these answers as JSON too; gunicorn still picks the status and logs them.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

from kds_device.gateway.http_util import reason_code


def answer(status: int, reason: str, detail: str) -> bytes:
    """The whole HTTP response for one refusal; the connection is closed after it."""
    body = json.dumps({"error": reason_code(reason), "detail": detail or reason}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error`` (same arguments), JSON instead of HTML."""
    util.write_nonblock(sock, answer(status_int, reason, mesg))


def install() -> None:
    """Make this process's gunicorn write its refusals as JSON (before the workers fork)."""
    util.write_error = write_json_error
