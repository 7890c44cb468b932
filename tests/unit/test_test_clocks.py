"""No test depends on the day it runs (issue 16): every test takes its time from a clock it
sets (tests/support.py: ``Clock``, or ``TickingClock`` for installations that run on their own).

Checked statically over every Python file under tests/ (fixtures, the browser tests' live
installation and the benchmarks included): no call reads the machine's clock for a date or a
time of day (``date.today``, ``datetime.now``, ``utcnow``, ``time.time``,
``time.localtime``, a one-time code's ``totp.now``...), and every platform, public side or
receiver a test builds is given the test's clock instead of falling back on the machine's.
Durations (``time.monotonic()``, ``time.perf_counter()``) say how long, not which day: allowed.

The proof that this is enough is the run of the whole suite with the machine's date moved past
the calendar's coverage (docs/testing.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

# Attributes that read the machine's clock whatever they are called on.
READ_THE_DAY = frozenset({"today", "utcnow", "now"})
# ``time.<name>()``: the machine's time as a date or a time of day.
TIME_OF_DAY = frozenset({"time", "time_ns", "localtime", "gmtime", "ctime", "asctime"})
# Builders whose clock falls back on the machine's when left out: (position of the clock
# among the positional arguments, 0-based).
CLOCK_ARGUMENT = {
    "build_platform": 1,
    "build_public": 2,
    "Receiver": 4,
    "PublicBackend": None,  # a dataclass with many fields: only by keyword
}
# (file relative to the root, the call's source text) -> why it may read the machine's clock.
ALLOWED: dict[tuple[str, str], str] = {
    # The test's own state machine reads its own settable clock.
    ("tests/property/test_booking_state_machine.py", "self.now()"): "the machine's Clock",
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def day_readers(source: str, path: str = "<test>") -> list[str]:
    """Each call in ``source`` that reads the machine's day or leaves a builder on it, as
    ``path:line: text``."""
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        text = ast.get_source_segment(source, node) or ""
        func = node.func
        reads = False
        if isinstance(func, ast.Attribute):
            receiver = _name(func.value)
            reads = func.attr in READ_THE_DAY or (receiver == "time" and func.attr in TIME_OF_DAY)
            reads = reads or (receiver == "time" and func.attr == "strftime" and len(node.args) < 2)
        name = _name(func)
        if name in CLOCK_ARGUMENT:
            position = CLOCK_ARGUMENT[name]
            given = any(k.arg == "clock" for k in node.keywords) or (
                position is not None and len(node.args) > position
            )
            reads = reads or not given
        if reads and (path, text) not in ALLOWED:
            found.append((node.lineno, node.col_offset, f"{path}:{node.lineno}: {text}"))
    return [reader for *_, reader in sorted(found)]


def test_no_test_depends_on_the_day_it_runs() -> None:
    found = [
        reader
        for file in sorted(TESTS.rglob("*.py"))
        for reader in day_readers(file.read_text(encoding="utf-8"), str(file.relative_to(ROOT)))
    ]
    assert found == [], (
        "these read the machine's clock: give them the test's (tests/support.py Clock or "
        "TickingClock; a date the test chooses)"
    )


def test_the_day_check_finds_every_way_of_reading_the_machine_clock() -> None:
    readers = """
from datetime import date, datetime, UTC
import datetime as dt, time
a = date.today()  # clock: a sample the check must find
b = datetime.now(UTC)  # clock: a sample the check must find
c = datetime.utcnow()  # clock: a sample the check must find
d = dt.datetime.now()  # clock: a sample the check must find
e = time.time()  # clock: a sample the check must find
f = time.localtime()
g = time.strftime("%Y")
h = totp.now()
i = build_platform(settings)
j = build_public(settings, source)
k = Receiver(store, source, key, "sha256")
m = PublicBackend(queries, limits, attempts)
n = self.now()
"""
    clean = """
from datetime import date, datetime
import time
a = date(2026, 11, 24)
b = clock()
c = clock.now
d = time.monotonic() - time.perf_counter()
e = time.strftime("%Y", moment)
f = totp.at(clock.now)
g = build_platform(settings, clock=clock)
h = build_public(settings, source, clock)
i = build_public(settings, clock=clock)
j = Receiver(store, source, key, "sha256", clock)
k = PublicBackend(queries, limits, attempts, clock=clock)
"""
    found = day_readers(readers)

    assert [line.split(": ", 1)[1] for line in found] == [
        "date.today()",  # clock: what the check reports, not a call
        "datetime.now(UTC)",
        "datetime.utcnow()",
        "dt.datetime.now()",  # clock: what the check reports, not a call
        "time.time()",
        "time.localtime()",
        'time.strftime("%Y")',
        "totp.now()",
        "build_platform(settings)",
        "build_public(settings, source)",
        'Receiver(store, source, key, "sha256")',
        "PublicBackend(queries, limits, attempts)",
        "self.now()",  # allowed only where ALLOWED says whose clock it is
    ]
    assert day_readers(clean) == []
