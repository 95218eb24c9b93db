"""Lenient parsing of the UTC timestamps Deliverect sends (protocol notes, section 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Fractions longer than microseconds are cut; a space may stand for the "T".
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*$"
)


def parse_timestamp(value: object) -> datetime | None:
    """Return an aware UTC datetime, or None when ``value`` is empty.

    Accepts ``2022-03-03T13:03:00Z``, microseconds, a space separator,
    ``+00:00`` offsets, a naive value (taken as UTC, as Deliverect's times are)
    and epoch seconds. Raises ValueError for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    match = _ISO.match(value)
    if not match:
        raise ValueError(f"not a timestamp: {value!r}")
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
