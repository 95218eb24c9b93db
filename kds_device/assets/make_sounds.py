"""Writes the board's two sounds with the standard library (run it to regenerate them):

* ``chime.wav``: a soft two-tone "ding-dong" for a new order;
* ``alert.wav``: an insistent, alternating two-pitch alarm for a cancel or a dead link.

Short, 22.05 kHz mono 16-bit: small files that the Pi's SDL mixer plays without delay.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterable, Iterator
from pathlib import Path

RATE = 22050


def _tone(
    freq: float, seconds: float, decay: float, harmonics: Iterable[tuple[int, float]]
) -> Iterator[float]:
    count = int(RATE * seconds)
    parts = list(harmonics)
    for n in range(count):
        t = n / RATE
        attack = min(1.0, n / (RATE * 0.006))
        envelope = attack * math.exp(-decay * t)
        value = sum(a * math.sin(2 * math.pi * freq * h * t) for h, a in parts)
        yield envelope * value


def chime() -> list[float]:
    bell = [(1, 1.0), (2, 0.35), (3, 0.12)]
    first = list(_tone(880.0, 0.45, 5.0, bell))
    second = list(_tone(1318.5, 0.75, 4.0, bell))
    return [0.45 * s for s in first + second]


def alert() -> list[float]:
    square = [(1, 1.0), (3, 0.33), (5, 0.2), (7, 0.14)]
    samples: list[float] = []
    for index in range(8):
        freq = 988.0 if index % 2 == 0 else 1480.0
        samples += [0.5 * s for s in _tone(freq, 0.13, 1.5, square)]
        samples += [0.0] * int(RATE * 0.035)
    return samples


def write(path: Path, samples: list[float]) -> None:
    peak = max(1e-9, max(abs(s) for s in samples))
    scale = 0.85 * 32767 / max(peak, 1.0)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", int(s * scale)) for s in samples))


if __name__ == "__main__":
    here = Path(__file__).parent
    write(here / "chime.wav", chime())
    write(here / "alert.wav", alert())
