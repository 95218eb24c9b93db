"""Small helpers the gateway's blueprints share: JSON errors and strict JSON parsing."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Response, jsonify

#: Location ids end up in URLs and MQTT topics: no '/', '+', '#' or spaces.
LOCATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class BadJson(ValueError):
    """The body is not acceptable JSON; the message says why."""


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
    """Parse a request body; BadJson for anything a strict JSON reader would refuse."""
    if not body.strip():
        raise BadJson("empty body")
    try:
        return json.loads(body, parse_float=_finite, parse_constant=_no_constants)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson("JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise BadJson("body is not valid UTF-8") from None
    except ValueError as problem:
        raise BadJson(f"malformed JSON: {problem}"[:200]) from None
