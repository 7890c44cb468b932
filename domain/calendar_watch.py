"""Warnings before the year turns (issue 16; RULES.md "Time": the next year's calendar comes out
in November or December, and until it is loaded a deadline in that year is unknown).

``CoverageWatch`` answers, as often as every page and every health check asks, how far the
working-day calendar reaches today (domain.calendar.coverage_status) and whether staff must be
warned. The answer is kept for the Shanghai day and computed again as soon as a file in the
calendar's directory appears, changes or goes (``firegov calendar import --write`` renames its
file into place), so a loaded year ends the warning without a restart. ``warning_due`` gives the
warning once per Shanghai day, for the log.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from domain.calendar import CoverageStatus, WorkingDayCalendar, coverage_status, to_shanghai_date

# How the system administrator loads a year from the State Council's notice (deployment's
# ``firegov calendar import``), as the banner, the calendar page and the log say it.
LOAD_COMMAND = "firegov calendar import 通知.txt --write"

# What the directory looked like: each calendar file's name, modification time and size.
Listing = tuple[tuple[str, int, int], ...]


def _listing(directory: Path) -> Listing:
    # A stat of each file: about 1 µs each, against ~250 µs for the coverage itself.
    try:
        with os.scandir(directory) as entries:
            found = []
            for entry in entries:
                if entry.name.endswith(".toml"):
                    stat = entry.stat()
                    found.append((entry.name, stat.st_mtime_ns, stat.st_size))
    except OSError:  # no directory yet: nothing but the package
        return ()
    return tuple(sorted(found))


class CoverageWatch:
    """The calendar's coverage as of the clock's Shanghai day; thread-safe."""

    def __init__(self, calendar: WorkingDayCalendar, clock: Callable[[], datetime]) -> None:
        self._calendar = calendar
        self._clock = clock
        self._lock = threading.Lock()
        self._key: tuple[date, Listing] | None = None
        self._status: CoverageStatus | None = None
        self._warned_on: date | None = None

    def status(self) -> CoverageStatus:
        key = (to_shanghai_date(self._clock()), _listing(self._calendar.override_dir))
        with self._lock:
            if self._status is None or self._key != key:
                self._status = coverage_status(self._calendar, key[0])
                self._key = key
            return self._status

    def warning_due(self) -> CoverageStatus | None:
        """The status if staff must be warned and the log has not said so yet this Shanghai day
        (then it counts as said); None otherwise."""
        status = self.status()
        with self._lock:
            if not status.warn or self._warned_on == status.today:
                return None
            self._warned_on = status.today
            return status
