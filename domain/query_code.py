"""Query codes (查询码): the secret an applicant uses to see the details of their case on the
public portal (RULES.md Art. 29). The code is shown once; only a salted scrypt hash travels and
is kept. Format ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (base64); the public side verifies it with
``bridge.contract.query_code.verify_query_code``, which reads the same format.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
LENGTH = 10  # 50 bits
# 2^10 keeps a window submission and a public check near 1.5 ms; with 50 bits of code an
# offline search of a leaked public database still needs on the order of 2^50 such hashes.
N, R, P = 2**10, 8, 1


def new_query_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def hash_query_code(code: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(code.strip().upper().encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${N}${R}${P}${encoded[0]}${encoded[1]}"
