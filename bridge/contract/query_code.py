"""Verifying a query code against the hash that crossed the bridge (format in
``domain.query_code``: ``scrypt$<n>$<r>$<p>$<salt>$<hash>``, base64)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

# A stored hash cannot make the public side spend more than this (and stays within what
# hashlib.scrypt accepts without raising its memory limit).
MAX_N, MAX_R, MAX_P = 2**14, 8, 2


def verify_query_code(code: str, stored: str) -> bool:
    try:
        scheme, cost_n, cost_r, cost_p, salt, digest = stored.split("$")
        n, r, p = int(cost_n), int(cost_r), int(cost_p)
        salt_bytes, expected = base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, binascii.Error):
        return False
    if scheme != "scrypt" or not (1 < n <= MAX_N and 0 < r <= MAX_R and 0 < p <= MAX_P):
        return False
    if not code or len(code) > 64 or not 16 <= len(expected) <= 64:
        return False
    try:
        actual = hashlib.scrypt(
            code.strip().upper().encode(), salt=salt_bytes, n=n, r=r, p=p, dklen=len(expected)
        )
    except ValueError:  # n not a power of two, and the like
        return False
    return hmac.compare_digest(actual, expected)


# Issuing codes on the public side (intake). The domain issues codes at the window with
# ``domain.query_code``; the domain may not import the bridge, so these few lines are kept
# twice and a unit test asserts both copies agree.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
LENGTH = 10  # 50 bits
N, R, P = 2**10, 8, 1


def new_query_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def hash_query_code(code: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(code.strip().upper().encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${N}${R}${P}${encoded[0]}${encoded[1]}"
