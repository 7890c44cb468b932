"""Verifying a query code against the hash that crossed the bridge (format in
``domain.query_code``: ``scrypt$<n>$<r>$<p>$<salt>$<hash>``, base64)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

MAX_COST = 2**15  # a stored hash cannot make the public side spend more than this


def verify_query_code(code: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        cost = (int(n), int(r), int(p))
        salt_bytes, expected = base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, binascii.Error):
        return False
    if scheme != "scrypt" or cost[0] > MAX_COST or not code or len(code) > 64:
        return False
    actual = hashlib.scrypt(
        code.strip().upper().encode(), salt=salt_bytes, n=cost[0], r=cost[1], p=cost[2],
        dklen=len(expected),
    )  # fmt: skip
    return hmac.compare_digest(actual, expected)
