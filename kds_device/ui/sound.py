"""The board's two sounds: a chime for a new order, an insistent alert for a cancel and for
a link that has been down too long. Kivy's SoundLoader (SDL2 mixer) plays them; a machine
without audio logs once and stays silent rather than failing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.core.audio import SoundLoader

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"


class Sounds:
    """Plays ``chime`` and ``alert``; ``played`` counts what was asked (tests read it)."""

    def __init__(self, enabled: bool = True, assets: Path = ASSETS) -> None:
        self.enabled = enabled
        self.assets = assets
        self.played: dict[str, int] = {"chime": 0, "alert": 0}
        self._sounds: dict[str, Any] = {}

    def _load(self, name: str) -> Any:
        if name not in self._sounds:
            sound = None
            try:
                sound = SoundLoader.load(str(self.assets / f"{name}.wav"))
            except Exception:  # a broken audio stack must never stop the board
                log.exception("cannot load sound %s", name)
            if sound is None:
                log.warning("sound %s unavailable; the board stays silent for it", name)
            self._sounds[name] = sound
        return self._sounds[name]

    def play(self, name: str) -> None:
        self.played[name] = self.played.get(name, 0) + 1
        if not self.enabled:
            return
        sound = self._load(name)
        if sound is None:
            return
        try:
            sound.stop()
            sound.play()
        except Exception:
            log.exception("cannot play sound %s", name)

    def chime(self) -> None:
        self.play("chime")

    def alert(self) -> None:
        self.play("alert")
