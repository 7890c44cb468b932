"""The console's calendar page (工作日历; issue 16, RULES.md "Time"): which years around today the
working-day calendar covers, from which source (the bundled package and its version, or an
operator file with its path and ``source`` line), the last day covered, and how the system
administrator loads a year from the State Council's notice.

Keeping the calendar is platform configuration, the system administrator's (RULES.md "Who
acts"); reading it is open to every member of staff, read-only: while a year is missing every
desk shows deadlines in it as unknown, and the banner on every page sends people here to learn
why and whom to ask. The page shows no business data.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api_internal.deps import BackendDep
from api_internal.pages_web import ENV, PageRoute, UserDep, render
from api_internal.routes_calendar import coverage_public
from domain.calendar_watch import LOAD_COMMAND
from domain.permissions import Command, authorize

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# The banner of every page (base.html) names the same command as this page.
ENV.globals["CALENDAR_LOAD_COMMAND"] = LOAD_COMMAND


@router.get("/console/calendar")
def calendar_page(user: UserDep, backend: BackendDep) -> Response:
    authorize(user.actor, Command.VIEW_CALENDAR_COVERAGE, backend.agencies)
    status = backend.calendar_watch.status()
    return render(
        "calendar.html",
        user=user,
        coverage=coverage_public(status, backend.calendar.override_dir),
    )
