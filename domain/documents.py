"""Uploaded documents, sealed per submission (DESIGN.md decision 8, for files).

A document that belongs to a person's submission — a filing's materials, a booking's
certificate scan, the signed commitment of a permit on the spot — carries their name, phone
or signature. It is kept sealed under the submission's own key (the case's
``contact_subject``: one key per submission, wrapped by the master key like every data key),
so erasing that person (``firegov personal-data erase``) makes it unreadable at once,
wherever copies of the directory went. A document that belongs to no person (staff-made
material) is kept by its hash in the clear, as before.

The documents directory::

    <sha256 hex>                    no person's document, or one an older installation kept
                                    before documents were sealed (still read, see below)
    sealed/<subject>/<sha256 hex>   a person's document, sealed; the hash is the plaintext's

A reference stays ``sha256:<hex>`` of the plaintext, so events, read models and links are
unchanged. The same file in two submissions is kept twice, under each key: erasing one person
must not take the other's copy. A plain file an older installation kept is served while a
case of a person not erased references it; erasure removes it (``shred``) once no such case
is left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from domain.errors import Gone
from domain.sealing import Sealer

SEALED_DIR = "sealed"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class DocumentErased(Gone):
    """The document belonged to a person whose data was erased: gone for good (410)."""

    code = "document_erased"


def document_erased() -> DocumentErased:
    return DocumentErased(
        "该文件属于已删除个人信息的申请人，已随其个人信息一并销毁，无法再查看",
        "this document belonged to a person whose data was erased; it can no longer be opened",
    )


def digest_of(document: str) -> str:
    """The hex hash of a reference ``sha256:<hex>``; ValueError for anything else (a path)."""
    digest = document.removeprefix("sha256:")
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"not a document reference: {document!r}")
    return digest


class DocumentStore:
    def __init__(self, root: Path, sealer: Sealer) -> None:
        self.root, self.sealer = root, sealer

    def _path(self, digest: str, subject: str | None) -> Path:
        if subject is None:
            return self.root / digest
        if not subject or "/" in subject or subject.startswith("."):
            raise ValueError(f"malformed subject id {subject!r}")
        return self.root / SEALED_DIR / subject / digest

    def keep(self, data: bytes, subject: str | None) -> tuple[str, Path | None]:
        """Keep ``data`` sealed under ``subject`` (None: no person's, kept in the clear); its
        reference, and its path if this call wrote it (None if it was there already), so
        that a refused command takes back only what it added."""
        digest = hashlib.sha256(data).hexdigest()
        reference = f"sha256:{digest}"
        target = self._path(digest, subject)
        if target.exists():
            return reference, None
        content = data if subject is None else self.sealer.seal_bytes(subject, data, reference)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{digest}.{secrets.token_hex(8)}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, target)
        return reference, target

    def take_back(self, path: Path) -> None:
        """Remove a file :meth:`keep` wrote, and the folders it made for it if now empty."""
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):
            if folder == self.root or not folder.is_relative_to(self.root):
                break
            with contextlib.suppress(OSError):  # not empty: another document lives there
                folder.rmdir()

    def read(self, document: str, subjects: Sequence[str]) -> bytes | None:
        """The document as readers of the cases whose submissions are ``subjects`` see it:
        opened from a live subject's sealed copy, else the plain copy an older installation
        kept (or no person's document, when ``subjects`` is empty); None if the store does
        not have it. DocumentErased when every one of the subjects was erased."""
        digest = digest_of(document)
        live = [s for s in subjects if not self.sealer.is_erased(s)]
        for subject in live:
            path = self._path(digest, subject)
            if path.is_file():
                opened = self.sealer.open_bytes(subject, path.read_bytes(), document)
                if opened is not None:  # None: erased since the check above
                    return opened
        if subjects and not live:
            raise document_erased()
        plain = self._path(digest, None)
        return plain.read_bytes() if plain.is_file() else None

    def shred(self, subject: str, plain: Iterable[str] = ()) -> int:
        """After ``subject`` was erased: remove its sealed files (unreadable already; this
        frees the space) and the plain copies an older installation kept of ``plain`` (the
        caller names only those no person still alive needs). How many files went."""
        folder = self._path("0" * 64, subject).parent
        removed = sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        for document in plain:
            path = self._path(digest_of(document), None)
            if path.is_file():
                path.unlink()
                removed += 1
        return removed
