"""Loaded at start-up by every Python process that has this directory on ``PYTHONPATH``:
``bench/latency.py --trace`` puts it there for the gateway it starts, so each gunicorn
process installs the gateway's trace points (see ``bench/latency_trace.py``)."""

import os
import sys
from pathlib import Path

if os.environ.get("KDS_LATENCY_TRACE"):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from latency_trace import install_gateway_hooks

    install_gateway_hooks(os.environ["KDS_LATENCY_TRACE"])
