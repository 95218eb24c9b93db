"""glibc's heap on the board: large buffers go back to the system as soon as they are freed.

Drawing text makes big short-lived buffers (the surface a label is rendered into, its pixels
on their way into a texture). glibc serves allocations above ``M_MMAP_THRESHOLD`` with their
own mapping, returned on free, but by default it raises that threshold each time such a
buffer is freed, so later ones come from the heap, which then only grows. Fixing the
threshold keeps the board's memory flat: 500 open tickets took about 6 MB less at 1920x1080.

Freed memory inside the heap (a label's old text, a finished ticket pruned) goes back to the
system only from the heap's top. ``trim_heap`` (``malloc_trim``) hands back every free page,
wherever it is; the app calls it once a minute (it takes well under a millisecond).
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, now fixed
TRIM_EVERY_S = 60.0  # how often the app hands free heap pages back (trim_heap)


def keep_heap_small(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold; False where there is no glibc ``mallopt`` (musl, macOS)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, threshold) == 1
    if not done:
        log.warning("mallopt(M_MMAP_THRESHOLD) refused; the heap may grow with big buffers")
    return done


def trim_heap() -> bool:
    """Give free heap pages back to the system (glibc ``malloc_trim``); False without it."""
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes = [ctypes.c_size_t]
    malloc_trim.restype = ctypes.c_int
    return bool(malloc_trim(0))
