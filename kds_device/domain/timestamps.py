"""Lenient parsing of the UTC timestamps Deliverect sends (protocol notes, section 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Fractions longer than microseconds are cut; a space may stand for the "T".
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*$",
    re.ASCII,  # \d is 0-9 only: "²" or "٣" are not digits of a time
)
#: Epoch seconds beyond this are not a time (datetime ends in year 9999).
_MAX_EPOCH_S = 253_402_300_799


def parse_timestamp(value: object) -> datetime | None:
    """Return an aware UTC datetime, or None when ``value`` is empty.

    Accepts ``2022-03-03T13:03:00Z``, microseconds, a space separator,
    ``+00:00`` offsets, a naive value (taken as UTC, as Deliverect's times are)
    and epoch seconds. Raises ValueError for anything else, including a time that
    Python's datetime cannot hold (``1e20``, year 1 shifted back by an offset).
    """
    if value is None or value == "":
        return None
    try:
        return _parse(value)
    except (OverflowError, OSError) as problem:
        raise ValueError(f"time out of range: {str(value)[:40]!r}") from problem


def _parse(value: object) -> datetime:
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        if not -_MAX_EPOCH_S <= value <= _MAX_EPOCH_S:
            raise ValueError(f"time out of range: {str(value)[:40]}")
        return datetime.fromtimestamp(float(value), tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    match = _ISO.match(value)
    if not match:
        raise ValueError(f"not a timestamp: {value[:40]!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    parsed = datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second or 0),
        micro,
        tzinfo=UTC,
    )
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        parsed -= sign * timedelta(hours=hours, minutes=minutes)
    return parsed


def format_timestamp(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, as Deliverect writes it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
