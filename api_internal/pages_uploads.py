"""Files that staff hand to the console — the applicant's signed commitment (告知承诺书) against
which the window issues a permit on the spot (Fire Protection Law Art. 15) — and what the
document view serves (api_internal.pages_cases).

A file is taken for what its content is (magic bytes, never its name or the browser's claim):
PDF, JPEG, PNG or OFD, no larger than the bound the importer puts on the applicants' files, and
named with an extension that matches. These are the intake contract's rules, restated here
because the staff side may not import the bridge (DESIGN.md "Where things live"). A kept file
goes to the internal document store (domain.documents) as the importer's do, sealed under the
key of the submission it belongs to, so the document view finds both alike.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from typing import Any

from starlette.datastructures import UploadFile

# The console forms that carry a file; the request envelope lets their bodies be larger.
UPLOADS = re.compile(r"/console/bookings/[A-Za-z0-9-]{1,40}/permit")
FORM_OVERHEAD = 1024 * 1024  # the form's text fields and the parts' headers
PDF, JPEG, PNG, OFD = "application/pdf", "image/jpeg", "image/png", "application/ofd"
EXTENSIONS = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",), OFD: (".ofd",)}
NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", OFD: "OFD"}


def upload_body_limit(max_file_bytes: int) -> int:
    """The largest body of an upload form: twice the file bound, so that a file somewhat too
    large is still read and answered next to its field, while no body can fill the disk."""
    return 2 * max_file_bytes + FORM_OVERHEAD


def megabytes(octets: int) -> str:
    return f"{octets / 1024 / 1024:g} MB"


def sniff(data: bytes) -> str:
    """The media type the content shows; anything else is application/octet-stream. OFD is a
    ZIP whose entries include ``OFD.xml``; a hostile archive is no OFD, never a crash."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if any(n == "OFD.xml" or n.endswith("/OFD.xml") for n in archive.namelist()):
                    return OFD
        except Exception:  # noqa: S110 - zipfile raises many kinds on hostile input
            pass
    return "application/octet-stream"


def checked_upload(value: Any, what_zh: str, max_bytes: int) -> tuple[bytes | None, str, int]:
    """The chosen file's content, or the message to show next to its field and the status
    that goes with it (413 for a file too large, 422 otherwise)."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None, f"请选择{what_zh}的文件", 422
    data = value.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None, f"文件太大：不得超过 {megabytes(max_bytes)}，请压缩或分页扫描后重新选择", 413
    if not data:
        return None, "所选文件是空的，请重新选择", 422
    media_type = sniff(data)
    if media_type not in EXTENSIONS:
        return None, "只接收 PDF、JPEG、PNG 或 OFD 文件（按文件内容判断，压缩包等不予接收）", 422
    if not os.path.basename(value.filename).lower().endswith(EXTENSIONS[media_type]):
        return None, f"文件扩展名与其内容（{NAMES[media_type]}）不符，请核对后重新选择", 422
    return data, "", 200
