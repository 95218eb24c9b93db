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


TRIM_CHILD = """
import sys
from kds_device.ui.heap import keep_heap_small, trim_heap
import psutil

def rss():
    return psutil.Process().memory_info().rss

keep_heap_small()
# 40 MB of 2 KB blocks (from the heap, below the mmap threshold), one block kept at the top
blocks = [bytearray(2000) for _ in range(20_000)]
pin = bytearray(2000)
full = rss()
del blocks
freed = rss()
if sys.argv[1] == "trim":
    assert trim_heap()
print((freed - rss()) / 2**20, (full - freed) / 2**20)
"""


def _given_back(mode: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", TRIM_CHILD, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    by_trim, by_free = (float(v) for v in out.stdout.split())
    return by_trim, by_free


def test_trimming_gives_free_heap_pages_back() -> None:
    """Memory freed below the heap's top stays resident until the heap is trimmed."""
    by_trim, by_free = _given_back("trim")
    assert by_free < 10, f"free alone gave back {by_free:.1f} MB (the top was not pinned)"
    assert by_trim > 20, f"trim gave back only {by_trim:.1f} MB of the ~38 MB freed"
    untrimmed, _ = _given_back("none")
    assert untrimmed < 5
