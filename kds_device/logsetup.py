"""The one logging set-up of the three commands (``kds-device``, ``kds-gateway``, ``kds-sim``):
to stderr, so systemd's journal keeps it; process and thread in every line, because each
program runs worker threads (and the gateway several processes)."""

from __future__ import annotations

import logging
import sys


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(process)d %(threadName)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
