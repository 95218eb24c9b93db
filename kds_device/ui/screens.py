"""The app's root: Kivy's ScreenManager without its stencil.

Kivy's own rule for ScreenManager clips the screens with a stencil (a full-window rectangle
pushed before them and another popped after them) so that sliding transitions stay inside the
manager. The board never slides (``NoTransition``) and the manager fills the window, so the
clip changes no pixel; but on software GL (llvmpipe) each full-window pass is a large share of
every frame: with a few tickets the swap took twice as long with the stencil as without.
"""

from __future__ import annotations

from kivy.lang import Builder
from kivy.uix.screenmanager import ScreenManager

# "<-Screens>" drops the rules inherited from ScreenManager (its canvas.before/after stencil).
Builder.load_string("<-Screens>:\n")


class Screens(ScreenManager):
    """A ScreenManager that draws nothing of its own (use with ``NoTransition``)."""
