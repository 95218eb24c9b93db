"""Reading the fields of a webhook body without refusing it: what is wrong becomes a Problem.

Degrade, don't drop: a wrong type, an unreadable number or an absurd time is replaced by a
default and recorded with the flag the ticket prints (``CHECK note``, ``time?``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kds_device.domain.timestamps import parse_timestamp

#: Integers given as text: ASCII digits, at most 18 of them (a quantity of 10**18 is absurd
#: already, and ``int`` of a 5000-digit string raises).
_INT_TEXT = re.compile(r"-?[0-9]{1,18}")
#: A time outside these years is flagged "time?" and not used (clocks, not archaeology).
PLAUSIBLE_YEARS = range(2000, 2200)
BAD_TIME = "time?"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an order that is shown anyway.

    ``field`` is the JSON path (``items[0].quantity``), ``reason`` says what is wrong, ``flag``
    is what the ticket prints; ``on_line`` when it is printed on that item's own line rather
    than at the top of the ticket."""

    field: str
    reason: str
    flag: str
    on_line: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def shown(value: object) -> str:
    """A bad value as a flag quotes it: short, one line."""
    text = value if isinstance(value, str) else type(value).__name__
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value) if abs(value) < 10**12 else "huge"
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= 10 else text[:9] + "…"


def integer_of(value: object) -> int | None:
    """An integer given as int, integral float or ASCII digits; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None


class FieldReader:
    """Reads typed fields of one JSON object; what is wrong becomes a Problem and a default."""

    def __init__(self, data: Mapping[str, Any], problems: list[Problem], path: str = "") -> None:
        self.data = data
        self.problems = problems
        self.path = path

    def flag(self, key: str, reason: str, flag: str = "", on_line: bool = False) -> None:
        self.problems.append(Problem(self.path + key, reason, flag or f"CHECK {key}", on_line))

    def text(self, key: str, on_line: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.flag(key, f"must be a string, not {type(value).__name__}", on_line=on_line)
            return ""
        return str(value).strip()

    def int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        number = integer_of(value)
        if number is None:
            self.flag(key, f"must be an integer, not {shown(value)!r}")
        return number

    def bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if value in (0, 1, "true", "false"):
            return value in (1, "true")
        self.flag(key, "must be a boolean")
        return default

    def time(self, key: str) -> datetime | None:
        try:
            moment = parse_timestamp(self.data.get(key))
        except ValueError as error:
            self.flag(key, str(error)[:120], BAD_TIME)
            return None
        if moment is not None and moment.year not in PLAUSIBLE_YEARS:
            self.flag(key, f"year {moment.year} is not plausible", BAD_TIME)
            return None
        return moment
