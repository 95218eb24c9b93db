"""Kivy's window settings, which it reads at import time: set them before importing kivy.

Only ``kivy.config`` is imported here, so calling this first is safe. It also fixes glibc's
heap behaviour for the board's process (see :mod:`kds_device.ui.heap`).
"""

from __future__ import annotations

import os

from kds_device.ui.heap import keep_heap_small


def configure_window(size: tuple[int, int], fullscreen: bool, mouse: bool) -> None:
    """Size and fullscreen for the board. ``mouse`` adds Kivy's mouse provider (a desktop
    demo); on the kitchen panel it stays off, because the touch provider configured by the
    installer is the one input and a second provider makes every tap two touches."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    keep_heap_small()  # before Kivy, SDL and Mesa allocate anything
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    if mouse:
        Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
    # No multisampling: the board is axis-aligned rectangles and text textures, which MSAA
    # does not change, and 2x MSAA doubled every frame's cost on software GL (the window's
    # clear + swap alone went from 3 ms to 15 ms at 1280x800 under llvmpipe).
    Config.set("graphics", "multisamples", "0")
    # Kivy's "free_all" clock: frames stay at maxfps (60) while nothing happens, but a "free"
    # event (the inbox's wake-up, see BoardApp) ends the wait for the next frame at once, so an
    # order that arrives between frames is applied and drawn now, not up to a frame later.
    # Read when kivy.clock is first imported: this must run before that.
    Config.set("kivy", "kivy_clock", "free_all")
