"""The staff side restates the intake contract's content check (the import rules keep
api_internal from importing the bridge): both must decide every file alike, or a file refused
from citizens could be taken from the console, or the other way round."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from api_internal.pages_uploads import sniff as staff_sniff
from bridge.contract.intake import sniff as intake_sniff

MAGIC = [b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"MZ", b""]


def zipped(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"<x/>")
    return buffer.getvalue()


CONTENTS = st.one_of(
    st.builds(lambda head, tail: head + tail, st.sampled_from(MAGIC), st.binary(max_size=64)),
    st.lists(
        st.sampled_from(["OFD.xml", "Doc_0/OFD.xml", "a.txt", "OFD.xml.bak"]),
        max_size=3,
        unique=True,
    ).map(zipped),
    st.builds(lambda z, cut: z[:cut], st.just(zipped(["OFD.xml"])), st.integers(0, 200)),
)


@given(CONTENTS)
def test_the_console_and_intake_take_the_same_files_for_the_same_types(data: bytes) -> None:
    found = intake_sniff(data[:16], data)
    assert staff_sniff(data) == (found or "application/octet-stream")
