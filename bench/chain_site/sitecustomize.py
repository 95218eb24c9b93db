"""Loaded at start-up by every Python process that has this directory on ``PYTHONPATH``:
``bench/chain.py --timing DIR`` puts it there for the gateways it starts, so each gunicorn
worker times its storage work (see ``bench/chain_timing.py``)."""

import os
import sys
from pathlib import Path

if os.environ.get("KDS_CHAIN_TIMING"):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from chain_timing import install

    install(os.environ["KDS_CHAIN_TIMING"])
