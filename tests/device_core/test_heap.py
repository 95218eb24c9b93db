"""The board's process fixes glibc's mmap threshold (kds_device.ui.heap)."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import ctypes, sys
from kds_device.ui.heap import keep_heap_small
import psutil

def rss():
    return psutil.Process().memory_info().rss

if sys.argv[1] == "fixed":
    assert keep_heap_small()
# A big buffer freed, then many of them while small objects stay: glibc's default raises its
# threshold after the first free, so the rest come from the heap and stay resident.
keep = []
big = bytearray(1 << 20)
del big
start = rss()
for round in range(30):
    size = 300_000 + round * 20_000  # each round a little bigger: old holes do not fit
    buffers = []
    for _ in range(8):
        buffers.append(bytearray(size))
        keep.append(bytearray(2000))  # a small block that stays, between the big ones
    del buffers
print((rss() - start) / 2**20)
"""


def _growth(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60, check=True
    )
    return float(out.stdout.strip())


def test_fixed_threshold_gives_big_buffers_back() -> None:
    default, fixed = _growth("default"), _growth("fixed")
    assert fixed < 1.0, f"freed big buffers stayed resident: {fixed:.1f} MB"
    assert default > fixed + 2.0, f"glibc default {default:.1f} MB vs fixed {fixed:.1f} MB"
