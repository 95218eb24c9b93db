"""Small helpers the gateway's blueprints share: JSON errors and strict JSON parsing."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

#: Location ids end up in URLs and MQTT topics: no '/', '+', '#' or spaces.
LOCATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


#: How much of a body is read per call while looking for its end.
_CHUNK = 65_536


def read_body(limit: int) -> bytes:
    """The request body, at most ``limit`` bytes; RequestEntityTooLarge (413) beyond.

    Read here rather than by ``request.get_data()``: a chunked body has no Content-Length,
    and a body cut short at the limit would fail its signature check (401) instead of
    getting its 413. The body is kept for the request (``request.get_data()`` returns it).
    """
    cached: bytes | None = getattr(request, "_cached_data", None)
    if cached is not None:
        return cached
    declared = request.content_length
    if declared is not None and declared > limit:
        raise RequestEntityTooLarge()
    stream = request.environ["wsgi.input"]
    want = limit + 1 if declared is None else declared
    parts: list[bytes] = []
    size = 0
    while size < want:
        chunk = stream.read(min(_CHUNK, want - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    body = b"".join(parts)
    request._cached_data = body
    return body


class BadJson(ValueError):
    """The body is not acceptable JSON; the message says why."""


def reason_code(reason: str) -> str:
    """An HTTP reason as an ``error`` code: ``URI Too Long`` -> ``uri_too_long``."""
    return reason.lower().replace(" ", "_")


def error(code: int, error_code: str, detail: str) -> tuple[Response, int]:
    """The one error shape of the gateway: ``{"error": ..., "detail": ...}``."""
    return jsonify(error=error_code, detail=detail), code


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"number out of range: {text[:40]}")
    return value


def _no_constants(text: str) -> Any:
    raise BadJson(f"{text} is not JSON")


def parse_json(body: bytes) -> Any:
    """Parse a request body; BadJson for anything a strict JSON reader would refuse.

    A lone surrogate escape (``"\\ud800"``) is valid JSON syntax but no character: it becomes
    U+FFFD, so the text can be stored and sent on (SQLite and UTF-8 refuse it)."""
    if not body.strip():
        raise BadJson("empty body")
    try:
        data = json.loads(body, parse_float=_finite, parse_constant=_no_constants)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson("JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise BadJson("body is not valid UTF-8") from None
    except ValueError as problem:
        raise BadJson(f"malformed JSON: {problem}"[:200]) from None
    return _no_surrogates(data) if _SURROGATE_ESCAPE.search(body) else data


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)  # json.loads already joined the valid pairs
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    return value
