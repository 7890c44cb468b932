"""What an applicant types for themselves on a step (the reason they cancel a booking) is shown
back to them on tracking with their query code, and is never kept on the public side in the
clear, nor published (issue 16; docs/personal-data.md). Imports nothing of the project.

The public side seals it when the step is submitted, under a key derived from the query code
the applicant typed with it; only the code's hash is kept there, so the key exists only while
someone who holds the code asks. The internal side receives the text inside the intake bundle,
seals it per person like every other personal value, and never sends it back across.

The key is derived with scrypt at the query code hash's own cost, salted with the case's
receipt number: a bare HKDF over a 50-bit code would make every sealed text a guessing oracle
a thousand times cheaper than the hash already stored beside it. The step's receipt number is
authenticated, so a sealed text cannot be shown under another step or case::

    code-sealed:v1:<base64url(nonce || ciphertext || tag), no padding>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "code-sealed:v1:"
# A step's own free text: what the applicant typed in their own words (the contract's field
# names); sealed with the choice it goes with, so tracking can say which answer it explains.
OWN_TEXT = ("reason",)
_SALT = b"firegov/applicant-text/v1\x00"
N, R, P = 2**10, 8, 1  # bridge.contract.query_code: the stored hash's cost
NONCE_BYTES = 12


def _key(query_code: str, case: str) -> AESGCM:
    code = query_code.strip().upper().encode()
    salt = _SALT + case.encode()
    return AESGCM(hashlib.scrypt(code, salt=salt, n=N, r=R, p=P, dklen=32))


def has_own_text(fields: dict[str, Any]) -> bool:
    return any(fields.get(name) for name in OWN_TEXT)


def seal_own_text(query_code: str, case: str, step: str, fields: dict[str, Any]) -> str:
    """``fields`` (the step's own text and the choice it goes with) sealed for whoever holds
    the query code of ``case``; bound to the ``step`` it came with."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _key(query_code, case).encrypt(nonce, orjson.dumps(fields), step.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def open_own_text(query_code: str, case: str, step: str, sealed: str) -> dict[str, Any] | None:
    """What :func:`seal_own_text` sealed, or None for another code, step or case, or a value
    that is damaged (the caller has checked the code against the case's hash already)."""
    if not sealed.startswith(PREFIX):
        return None
    encoded = sealed[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        opened = _key(query_code, case).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], step.encode())
        found = orjson.loads(opened)
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return found if isinstance(found, dict) else None
