"""The log's warning before the year turns (issue 16; RULES.md "Time"): from 1 November, while
next year's working-day calendar is not loaded, a warning ``calendar_next_year_not_covered`` is
logged once per Shanghai day (never more, per process), so that monitoring reaches the system
administrator even if nobody opens the console. It runs in the platform's periodic loops
(deployment.cli ``internal_loops``) next to the days-with-room job, on the platform's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from domain.calendar import WorkingDayCalendar
from domain.calendar_watch import LOAD_COMMAND, CoverageWatch


def calendar_warning(
    calendar: WorkingDayCalendar, clock: Callable[[], datetime]
) -> Callable[[], bool]:
    """A step for ``follow``: logs the warning when it is due; never "moved" (the loop waits)."""
    watch = CoverageWatch(calendar, clock)
    log = structlog.get_logger()

    def step() -> bool:
        status = watch.warning_due()
        if status is not None:
            until = status.covered_until
            log.warning(
                "calendar_next_year_not_covered",
                year=status.first_uncovered_year,
                covered_until=until.isoformat() if until else None,
                file=str(calendar.override_dir / f"{status.first_uncovered_year}.toml"),
                load_with=LOAD_COMMAND,
            )
        return False

    return step
