"""Deliverect webhook signatures: hex HMAC-SHA256 of the raw body (protocol notes 3.1).

Verified on the bytes exactly as received, before any parsing, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

HEADER = "X-Server-Authorization-HMAC-SHA256"


def sign(body: bytes, secret: str) -> str:
    """The lowercase hex signature Deliverect sends for ``body``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, keys: Iterable[str]) -> str | None:
    """The key that signed ``body`` (compared in constant time), or None.

    Every key is tried even after a match, so the time taken does not say which one matched.
    """
    if not signature:
        return None
    given = signature.strip().lower().encode("ascii", "replace")
    winner = None
    for key in keys:
        if key and hmac.compare_digest(sign(body, key).encode("ascii"), given):
            winner = winner or key
    return winner
